import onnxProto from 'onnx-proto';

/**
 * The ONNX protobuf classes (onnx-proto, a CommonJS package) and the few helpers the rest of
 * src/model needs to read and rewrite a decoded `ModelProto`.
 */
export const onnx = onnxProto.onnx;
export type ModelProto = onnxProto.onnx.ModelProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type ValueInfoProto = onnxProto.onnx.IValueInfoProto;
export type TensorProto = onnxProto.onnx.ITensorProto;

/** A dimension is a number when static, the symbolic name (or null) when dynamic. */
export type Dim = number | string | null;

export function decodeModel(bytes: Uint8Array): ModelProto {
  return onnx.ModelProto.decode(bytes);
}

export function encodeModel(model: onnxProto.onnx.IModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

/** Declared dims of a graph input or output (empty when the model does not declare a shape). */
export function declaredDims(info: ValueInfoProto): Dim[] {
  const dims = info.type?.tensorType?.shape?.dim ?? [];
  return dims.map((d) => {
    if (d.dimValue != null && Number(d.dimValue) > 0) return Number(d.dimValue);
    return d.dimParam || null;
  });
}

/** The real inputs of a graph: declared inputs that are not initializers (older exporters list both). */
export function graphInputs(model: ModelProto): ValueInfoProto[] {
  const graph = model.graph!;
  const inits = new Set((graph.initializer ?? []).map((t) => t.name));
  return (graph.input ?? []).filter((i) => !inits.has(i.name));
}

/** A float tensor value info with a dynamic batch dimension and the given per-item dims. */
export function floatValueInfo(name: string, itemDims?: number[]): ValueInfoProto {
  const tensorType: onnxProto.onnx.TypeProto.ITensor = {
    elemType: onnx.TensorProto.DataType.FLOAT,
  };
  if (itemDims)
    tensorType.shape = { dim: [{ dimParam: 'batch' }, ...itemDims.map((d) => ({ dimValue: d }))] };
  return { name, type: { tensorType } };
}

export function metadata(model: ModelProto): Record<string, string> {
  return Object.fromEntries((model.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
}

/**
 * The nodes in an order where each comes after the nodes its inputs need (Kahn's algorithm;
 * exporters usually emit sorted nodes, but ONNX does not let us rely on it). `available`: the
 * tensors known before any node runs. On a cycle or an undefined tensor, throws what `stuck`
 * makes of the name of a node that cannot run.
 */
export function topologicalOrder(
  nodes: NodeProto[],
  available: Set<string>,
  stuck: (nodeName: string | null | undefined) => Error,
): NodeProto[] {
  const ready = new Set(available);
  const pending = [...nodes];
  const ordered: NodeProto[] = [];
  while (pending.length > 0) {
    const before = pending.length;
    for (let i = 0; i < pending.length;) {
      const node = pending[i];
      if ((node.input ?? []).every((t) => !t || ready.has(t))) {
        ordered.push(node);
        for (const out of node.output ?? []) ready.add(out);
        pending.splice(i, 1);
      } else i++;
    }
    if (pending.length === before) throw stuck(pending[0].name);
  }
  return ordered;
}

/**
 * The first NaN among a model's float initializers (weights), as `{ name, index }`, or undefined.
 * NaN is never a weight: a file holding one is damaged, and every activation downstream of it
 * would be NaN. Infinities are allowed (attention masks hold -inf on purpose).
 */
export function nanInitializer(model: ModelProto): { name: string; index: number } | undefined {
  const { FLOAT, DOUBLE } = onnx.TensorProto.DataType;
  // Initializers, and the tensors of Constant nodes (older exporters put weights there).
  const constants = (model.graph?.node ?? [])
    .filter((n) => n.opType === 'Constant')
    .flatMap((n) =>
      (n.attribute ?? [])
        .filter((a) => a.t)
        .map((a) => ({ ...a.t!, name: a.t!.name || (n.output ?? [])[0] || n.name || '' })),
    );
  for (const t of [...(model.graph?.initializer ?? []), ...constants]) {
    if (t.dataType !== FLOAT && t.dataType !== DOUBLE) continue;
    let values: ArrayLike<number> =
      t.dataType === FLOAT ? (t.floatData ?? []) : (t.doubleData ?? []);
    const raw = t.rawData;
    if (raw && raw.length > 0) {
      const copy = new Uint8Array(raw); // aligned
      values =
        t.dataType === FLOAT
          ? new Float32Array(copy.buffer, 0, copy.length >> 2)
          : new Float64Array(copy.buffer, 0, copy.length >> 3);
    }
    for (let i = 0; i < values.length; i++)
      if (Number.isNaN(values[i])) return { name: t.name ?? '', index: i };
  }
  return undefined;
}
