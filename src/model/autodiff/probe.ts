import ort from 'onnxruntime-node';
import { encodeModel, type ModelProto } from '../onnx.ts';
import { dtypeOf, num, tensorValues } from './proto.ts';

/**
 * Shapes, element types and (small) values of every tensor of a graph, measured by running it.
 * JavaScript has no ONNX shape inference, and running is always right (classifier.ts probes the
 * same way). Running at two batch sizes tells which dimensions and which small integer values
 * (shapes that PyTorch computes at run time with Shape/Gather/Concat) depend on the batch.
 */
export interface TensorInfo {
  /** ONNX element type (onnx.TensorProto.DataType). */
  dtype: number;
  /** Dims at each probe batch size. */
  dims: number[][];
  /** Values at each probe batch size, for tensors of at most MAX_VALUES elements. */
  values?: number[][];
}

const MAX_VALUES = 4096;

/** Per-axis size when the same at every batch size, null when it depends on the batch. */
export function staticDims(info: TensorInfo): (number | null)[] {
  return info.dims[0].map((d, i) => (info.dims.every((p) => p[i] === d) ? d : null));
}

export function rank(info: TensorInfo): number {
  return info.dims[0].length;
}

export async function probeTensors(
  model: ModelProto,
  input: string,
  itemDims: number[],
  batchSizes: number[],
): Promise<Map<string, TensorInfo>> {
  const graph = model.graph!;
  const names = [
    ...new Set((graph.node ?? []).flatMap((n) => (n.output ?? []).filter((o) => !!o))),
  ].filter((t) => t !== input);
  // Graph outputs need no declared type; onnxruntime reports what each tensor turns out to be.
  const probe = encodeModel({
    ...model,
    graph: { ...graph, output: names.map((name) => ({ name })) },
  });
  const session = await ort.InferenceSession.create(probe);
  const infos = new Map<string, TensorInfo>();
  try {
    for (const batch of batchSizes) {
      const dims = [batch, ...itemDims];
      const zeros = new Float32Array(dims.reduce((a, b) => a * b, 1));
      const out = await session.run({ [input]: new ort.Tensor('float32', zeros, dims) });
      record(infos, input, { dtype: dtypeOf('float32'), dims, values: undefined });
      for (const name of names) {
        const t = out[name];
        if (!t) continue;
        const small = t.size <= MAX_VALUES && t.type !== 'string';
        record(infos, name, {
          dtype: dtypeOf(t.type),
          dims: t.dims.map(Number),
          values: small ? Array.from(t.data as ArrayLike<number | bigint>, Number) : undefined,
        });
      }
    }
  } finally {
    await session.release();
  }
  for (const init of graph.initializer ?? []) {
    const dims = (init.dims ?? []).map(num);
    const count = dims.reduce((a, b) => a * b, 1);
    infos.set(init.name ?? '', {
      dtype: init.dataType ?? 0,
      dims: batchSizes.map(() => dims),
      values: count <= MAX_VALUES ? batchSizes.map(() => tensorValues(init)) : undefined,
    });
  }
  return infos;
}

function record(
  infos: Map<string, TensorInfo>,
  name: string,
  probe: { dtype: number; dims: number[]; values: number[] | undefined },
) {
  const info = infos.get(name);
  if (!info) {
    infos.set(name, {
      dtype: probe.dtype,
      dims: [probe.dims],
      values: probe.values ? [probe.values] : undefined,
    });
    return;
  }
  info.dims.push(probe.dims);
  if (info.values && probe.values) info.values.push(probe.values);
  else info.values = undefined;
}
