import { createHash } from 'node:crypto';
import { closeSync, readSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { UserError } from '../util/errors.ts';
import { describeFsError, openRegular } from '../util/files.ts';
import { isInside } from '../util/paths.ts';
import type onnxProto from 'onnx-proto';
import { onnx, type ModelProto, type TensorProto } from './onnx.ts';

/**
 * ONNX external data: weights stored beside the model rather than in it (`model.onnx` +
 * `model.onnx.data`, what `onnx.save_model(..., save_as_external_data=True)` writes, what
 * torch.onnx.export writes for models over 2 GB, and what many model zoos ship).
 *
 * Why inline them: concept-lens decodes the model once (protobufjs) and builds every onnxruntime
 * session it needs (the whole model, heads, gradient graphs, batch rewrites) from re-encoded bytes.
 * onnxruntime resolves external data relative to the model's folder, and a model given as bytes has
 * none, so every such model failed to load. Right after decoding, the bytes of each external tensor
 * (initializers, sparse initializers, tensors held in node attributes, and those of subgraphs of
 * If, Loop and Scan) are read into the tensor's raw data, and the model is from then on an ordinary
 * inline one.
 *
 * Everything the file claims is checked before anything is allocated or read: the location must be a
 * relative path that stays inside the model's folder, symbolic links resolved (a model file may not
 * make the tool read anywhere else); the data file must exist; offset + length must lie inside it;
 * the length must be the tensor's element count times its element size. A model whose inlined size
 * would exceed MAX_INLINED_BYTES (2 GiB - 1, protobuf's limit for one message, which onnxruntime
 * enforces on a model given as bytes) is refused. Each tensor's bytes are read once, straight into
 * the buffer the tensor keeps; no whole data file is held in memory.
 *
 * Identity: the model's sha256 (the key of the activation cache, of TCAV null caches and of
 * results) must change when the weights do, and with external data the weights are not in the model
 * file. For a model with external tensors it is the sha256 of the model file's bytes followed by
 * the bytes of each external tensor in the order they are read (the file fixes where and how long
 * each is, so the stream is unambiguous). A model without external data keeps the sha256 of its
 * file bytes, so existing caches stay valid.
 */

/** The largest model (file + inlined external data) that can be loaded: 2 GiB - 1 bytes. */
export const MAX_INLINED_BYTES = 2 ** 31 - 1;

const { DataType, DataLocation } = onnx.TensorProto;

/**
 * Bytes per element by ONNX data type; the 4-bit types (UINT4 21, INT4 22, FLOAT4E2M1 23) pack two
 * elements a byte. STRING has no fixed size and cannot be stored as external data.
 */
const ELEMENT_BYTES: Record<number, number> = {
  [DataType.FLOAT]: 4,
  [DataType.UINT8]: 1,
  [DataType.INT8]: 1,
  [DataType.UINT16]: 2,
  [DataType.INT16]: 2,
  [DataType.INT32]: 4,
  [DataType.INT64]: 8,
  [DataType.BOOL]: 1,
  [DataType.FLOAT16]: 2,
  [DataType.DOUBLE]: 8,
  [DataType.UINT32]: 4,
  [DataType.UINT64]: 8,
  [DataType.COMPLEX64]: 8,
  [DataType.COMPLEX128]: 16,
  [DataType.BFLOAT16]: 2,
  17: 1, // FLOAT8E4M3FN
  18: 1, // FLOAT8E4M3FNUZ
  19: 1, // FLOAT8E5M2
  20: 1, // FLOAT8E5M2FNUZ
  21: 0.5, // UINT4
  22: 0.5, // INT4
  23: 0.5, // FLOAT4E2M1
};

export interface InlinedModel {
  /** The model's identity: sha256 of its file bytes, then of its external tensors' bytes. */
  sha256: string;
  /** External tensors inlined (0: the model had none, and its identity is its file's sha256). */
  tensors: number;
  /** Bytes read from data files. */
  bytes: number;
}

/** A tensor stored outside the model, and where it says its bytes are. */
interface ExternalTensor {
  tensor: TensorProto;
  /** How messages name it: `initializer fc.weight`, `tensor value of node Constant_3`. */
  what: string;
  location: string;
  /** The data file, symbolic links resolved. */
  file: string;
  offset: number;
  length: number;
}

/**
 * Read every external tensor of `model` (decoded from `bytes`, the file at `path`) into its raw
 * data, in place, and return the model's identity. UserError (one line naming the model, the tensor
 * and the problem) on anything the file claims that does not hold.
 */
export function inlineExternalData(
  path: string,
  bytes: Uint8Array,
  model: ModelProto,
): InlinedModel {
  const found = externalTensors(model);
  if (found.length === 0)
    return { sha256: createHash('sha256').update(bytes).digest('hex'), tensors: 0, bytes: 0 };
  const folder = modelFolder(path);
  const files = new Map<string, { fd: number; size: number }>();
  try {
    // Check everything first: nothing is allocated or read until every claim holds.
    const planned = found.map(({ tensor, what }) => {
      const fail = (problem: string) => new UserError(`${path}: ${what}: ${problem}`);
      return plan(tensor, what, folder, files, fail);
    });
    const total = planned.reduce((sum, t) => sum + t.length, bytes.length);
    if (total > MAX_INLINED_BYTES)
      throw new UserError(
        `${path}: the model with its external data is ${gib(total)} GiB, over the ${gib(MAX_INLINED_BYTES + 1)} GiB concept-lens can load (protobuf's limit for one ONNX model)`,
      );
    const hash = createHash('sha256').update(bytes);
    for (const t of planned) {
      const data = readRange(files.get(t.file)!.fd, t.offset, t.length);
      if (!data)
        throw new UserError(
          `${path}: ${t.what}: external data file ${quote(t.location)} ended before byte ${t.offset + t.length} while it was read`,
        );
      hash.update(data);
      t.tensor.rawData = data;
      t.tensor.externalData = [];
      t.tensor.dataLocation = DataLocation.DEFAULT;
    }
    return { sha256: hash.digest('hex'), tensors: planned.length, bytes: total - bytes.length };
  } finally {
    for (const { fd } of files.values()) closeSync(fd);
  }
}

/** Every tensor of the model marked EXTERNAL, subgraphs included, in a fixed order. */
function externalTensors(model: ModelProto): { tensor: TensorProto; what: string }[] {
  const out: { tensor: TensorProto; what: string }[] = [];
  const add = (tensor: TensorProto | null | undefined, what: string) => {
    if (tensor && tensor.dataLocation === DataLocation.EXTERNAL) out.push({ tensor, what });
  };
  // An explicit stack, not recursion: a file may nest subgraphs as deep as it likes.
  const graphs: { graph: onnxProto.onnx.IGraphProto; within: string }[] = [];
  if (model.graph) graphs.push({ graph: model.graph, within: '' });
  while (graphs.length > 0) {
    const { graph, within } = graphs.shift()!;
    for (const t of graph.initializer ?? []) add(t, `initializer ${quote(t.name ?? '')}${within}`);
    for (const s of graph.sparseInitializer ?? []) {
      const name = quote(s.values?.name ?? '');
      add(s.values, `sparse initializer ${name} (values)${within}`);
      add(s.indices, `sparse initializer ${name} (indices)${within}`);
    }
    for (const node of graph.node ?? []) {
      const nodeName = quote(node.name || node.opType || '');
      for (const a of node.attribute ?? []) {
        const what = `tensor ${quote(a.name ?? '')} of node ${nodeName}${within}`;
        add(a.t, what);
        (a.tensors ?? []).forEach((t) => add(t, what));
        add(a.sparseTensor?.values, what);
        add(a.sparseTensor?.indices, what);
        for (const s of a.sparseTensors ?? []) {
          add(s.values, what);
          add(s.indices, what);
        }
        const sub = ` (in subgraph ${quote(a.name ?? '')} of node ${nodeName}${within})`;
        if (a.g) graphs.push({ graph: a.g, within: sub });
        for (const g of a.graphs ?? []) graphs.push({ graph: g, within: sub });
      }
    }
  }
  return out;
}

/** The model's folder, symbolic links resolved: external data must stay inside it. */
function modelFolder(path: string): string {
  try {
    return realpathSync(dirname(path));
  } catch (err) {
    throw new UserError(`${path}: cannot resolve the model's folder: ${describeFsError(err)}`);
  }
}

/** Check one tensor's claims (location, offset, length) and open its data file. */
function plan(
  tensor: TensorProto,
  what: string,
  folder: string,
  files: Map<string, { fd: number; size: number }>,
  fail: (problem: string) => UserError,
): ExternalTensor {
  const info = new Map<string, string>();
  for (const e of tensor.externalData ?? []) info.set(e.key ?? '', e.value ?? '');
  const location = info.get('location');
  if (!location) throw fail('stored as external data but names no data file (no location)');
  const where = `external data file ${quote(location)}`;
  if (location.includes('\0')) throw fail(`${where} is not a file name`);
  if (isAbsolute(location))
    throw fail(`${where} is an absolute path; it must be relative to the model's folder`);
  const lexical = resolve(folder, location);
  if (lexical === folder) throw fail(`${where} is the model's folder, not a file`);
  if (!isInside(folder, lexical)) throw fail(`${where} is outside the model's folder`);
  let file: string;
  try {
    file = realpathSync(lexical);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException)?.code;
    throw fail(code === 'ENOENT' ? `${where} does not exist` : `${where}: ${describeFsError(err)}`);
  }
  if (!isInside(folder, file) || file === folder)
    throw fail(`${where} is a symbolic link leading outside the model's folder`);
  let opened = files.get(file);
  if (!opened) {
    try {
      // A regular file only (opened without blocking: a FIFO would wait for a writer), and never
      // through a link put in its place since it was resolved.
      opened = openRegular(file, { noFollow: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTREG' || code === 'EISDIR') throw fail(`${where} is not a regular file`);
      throw fail(`${where}: ${describeFsError(err)}`);
    }
    files.set(file, opened);
  }
  const offset = byteCount(info.get('offset'), 0, `${where}: offset`, fail);
  if (offset > opened.size)
    throw fail(`${where}: offset ${offset} is beyond the end of the file (${opened.size} bytes)`);
  const length = byteCount(info.get('length'), opened.size - offset, `${where}: length`, fail);
  if (offset + length > opened.size)
    throw fail(
      `${where}: bytes ${offset} to ${offset + length} run past the end of the file (${opened.size} bytes)`,
    );
  const expected = expectedBytes(tensor, fail);
  if (length !== expected)
    throw fail(
      `${where}: length ${length} bytes, but a ${dataTypeName(tensor.dataType)} tensor of shape [${dims(tensor).join(', ')}] takes ${expected}`,
    );
  return { tensor, what, location, file, offset, length };
}

/** A decimal byte count from the external-data list, or `fallback` when absent. */
function byteCount(
  value: string | undefined,
  fallback: number,
  what: string,
  fail: (problem: string) => UserError,
): number {
  if (value === undefined) return fallback;
  const n = /^\d{1,16}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw fail(`${what} ${quote(value)} is not a byte count`);
  return n;
}

function dims(tensor: TensorProto): number[] {
  return (tensor.dims ?? []).map((d) => Number(d));
}

/** Bytes the tensor's data type and shape take. */
function expectedBytes(tensor: TensorProto, fail: (problem: string) => UserError): number {
  const size = ELEMENT_BYTES[tensor.dataType ?? 0];
  if (size === undefined)
    throw fail(
      `a ${dataTypeName(tensor.dataType)} tensor cannot be stored as external data (no fixed element size)`,
    );
  const shape = dims(tensor);
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0))
    throw fail(`shape [${shape.join(', ')}] is not a tensor shape`);
  const count = shape.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(count)) throw fail(`shape [${shape.join(', ')}] has too many elements`);
  return Math.ceil(count * size);
}

function dataTypeName(type: number | null | undefined): string {
  const name = (DataType as unknown as Record<number, string>)[type ?? 0];
  return name && type ? name : `data type ${type ?? 0}`;
}

/**
 * `length` bytes of an open file from `offset`, read straight into a buffer of their own, or
 * undefined when the file ends first (it shrank after it was checked).
 */
function readRange(fd: number, offset: number, length: number): Buffer | undefined {
  const data = Buffer.allocUnsafeSlow(length);
  let at = 0;
  while (at < length) {
    const n = readSync(fd, data, at, Math.min(length - at, 2 ** 30), offset + at);
    if (n === 0) return undefined;
    at += n;
  }
  return data;
}

/** A name or location from the file, quoted so that whatever it holds stays on one line. */
function quote(text: string): string {
  return /^[\w.\-/:]+$/.test(text) ? text : JSON.stringify(text);
}

function gib(bytes: number): string {
  return (bytes / 2 ** 30).toFixed(2);
}
