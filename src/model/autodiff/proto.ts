import type onnxProto from 'onnx-proto';
import { onnx, type NodeProto } from '../onnx.ts';

/**
 * Reading ONNX protobuf values: attributes, initializer data, element types. protobufjs decodes
 * int64 fields as `Long` objects, so every integer goes through `num`.
 */

export type TensorProto = onnxProto.onnx.ITensorProto;
type LongLike = number | { toNumber(): number } | null | undefined;

export const DType = onnx.TensorProto.DataType;
const AttrType = onnx.AttributeProto.AttributeType;

export function num(x: LongLike): number {
  if (x == null) return 0;
  return typeof x === 'number' ? x : x.toNumber();
}

function attribute(node: NodeProto, name: string) {
  return (node.attribute ?? []).find((a) => a.name === name);
}

export function hasAttr(node: NodeProto, name: string): boolean {
  return attribute(node, name) !== undefined;
}

export function attrInt(node: NodeProto, name: string, fallback: number): number {
  const a = attribute(node, name);
  return a ? num(a.i) : fallback;
}

export function attrFloat(node: NodeProto, name: string, fallback: number): number {
  const a = attribute(node, name);
  return a ? (a.f ?? 0) : fallback;
}

export function attrInts(node: NodeProto, name: string): number[] | undefined {
  const a = attribute(node, name);
  return a ? (a.ints ?? []).map(num) : undefined;
}

export function attrString(node: NodeProto, name: string, fallback: string): string {
  const a = attribute(node, name);
  return a?.s ? new TextDecoder().decode(a.s) : fallback;
}

export function attrStrings(node: NodeProto, name: string): string[] | undefined {
  const a = attribute(node, name);
  return a ? (a.strings ?? []).map((s) => new TextDecoder().decode(s)) : undefined;
}

export function attrFloats(node: NodeProto, name: string): number[] | undefined {
  const a = attribute(node, name);
  return a ? [...(a.floats ?? [])] : undefined;
}

/** Attribute values the gradient builder emits. */
export type AttrValue =
  | number
  | number[]
  | string
  | { float: number }
  | { tensor: TensorProto }
  | { graph: onnxProto.onnx.IGraphProto };

export function makeAttribute(name: string, value: AttrValue): onnxProto.onnx.IAttributeProto {
  if (typeof value === 'number') return { name, type: AttrType.INT, i: value };
  if (typeof value === 'string')
    return { name, type: AttrType.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: AttrType.INTS, ints: value };
  if ('float' in value) return { name, type: AttrType.FLOAT, f: value.float };
  if ('graph' in value) return { name, type: AttrType.GRAPH, g: value.graph };
  return { name, type: AttrType.TENSOR, t: value.tensor };
}

/** The values of an initializer (float or integer types), as plain numbers. */
export function tensorValues(t: TensorProto): number[] {
  const type = t.dataType ?? 0;
  const raw = t.rawData;
  if (raw && raw.length > 0) {
    const bytes = raw.slice(); // aligned copy
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const out: number[] = [];
    const step = bytesPerElement(type);
    for (let at = 0; at + step <= bytes.length; at += step) {
      if (type === DType.FLOAT) out.push(view.getFloat32(at, true));
      else if (type === DType.DOUBLE) out.push(view.getFloat64(at, true));
      else if (type === DType.INT64) out.push(Number(view.getBigInt64(at, true)));
      else if (type === DType.INT32) out.push(view.getInt32(at, true));
      else if (type === DType.INT8) out.push(view.getInt8(at));
      else if (type === DType.UINT8 || type === DType.BOOL) out.push(view.getUint8(at));
      else throw new Error(`tensor ${t.name}: element type ${type} not readable`);
    }
    return out;
  }
  if (t.floatData && t.floatData.length > 0) return [...t.floatData];
  if (t.doubleData && t.doubleData.length > 0) return [...t.doubleData];
  if (t.int64Data && t.int64Data.length > 0) return t.int64Data.map(num);
  if (t.int32Data && t.int32Data.length > 0) return [...t.int32Data];
  return [];
}

function bytesPerElement(type: number): number {
  if (type === DType.DOUBLE || type === DType.INT64) return 8;
  if (type === DType.FLOAT || type === DType.INT32) return 4;
  if (type === DType.INT8 || type === DType.UINT8 || type === DType.BOOL) return 1;
  return 0;
}

/** A float32 or int64 initializer with the given values. */
export function makeTensor(
  name: string,
  type: 'float32' | 'int64',
  values: ArrayLike<number>,
  dims: number[],
): TensorProto {
  const count = dims.reduce((a, b) => a * b, 1);
  if (count !== values.length)
    throw new Error(`tensor ${name}: ${values.length} values for dims [${dims}]`);
  const bytes = new Uint8Array(values.length * (type === 'float32' ? 4 : 8));
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) {
    if (type === 'float32') view.setFloat32(4 * i, values[i], true);
    else view.setBigInt64(8 * i, BigInt(Math.trunc(values[i])), true);
  }
  return {
    name,
    dims,
    dataType: type === 'float32' ? DType.FLOAT : DType.INT64,
    rawData: bytes,
  };
}

/** ONNX element type of an onnxruntime tensor type name. */
export function dtypeOf(ortType: string): number {
  const map: Record<string, number> = {
    float32: DType.FLOAT,
    float64: DType.DOUBLE,
    float16: DType.FLOAT16,
    int64: DType.INT64,
    int32: DType.INT32,
    int8: DType.INT8,
    uint8: DType.UINT8,
    bool: DType.BOOL,
  };
  return map[ortType] ?? DType.UNDEFINED;
}

/** Version of the default (ai.onnx) operator set a model imports. */
export function defaultOpset(model: onnxProto.onnx.IModelProto): number | undefined {
  const entry = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  return entry ? num(entry.version) : undefined;
}
