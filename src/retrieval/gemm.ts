import ort from 'onnxruntime-node';
import { encodeModel, floatValueInfo, onnx } from '../model/onnx.ts';
import type { Metric } from './types.ts';

/**
 * Distance matrices computed entirely by onnxruntime: one Gemm for the inner products and the
 * elementwise rest in the same graph (vectorised, multi-threaded), so a block of 200 x 19,000
 * distances costs no JavaScript loop. src/tcav/linalg.ts's `gram` is the same idea for CAVs.
 *   euclidean: sqrt(relu(|a|^2 + |b|^2 - 2 a.b))      cosine (unit rows): relu(1 - a.b)
 */
const sessions = new Map<Metric, Promise<ort.InferenceSession>>();

const INT = onnx.AttributeProto.AttributeType.INT;
const FLOAT = onnx.AttributeProto.AttributeType.FLOAT;

function matrix(name: string, rows: string, cols: string) {
  return {
    ...floatValueInfo(name),
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: [{ dimParam: rows }, { dimParam: cols }] },
      },
    },
  };
}

function session(metric: Metric): Promise<ort.InferenceSession> {
  let s = sessions.get(metric);
  if (s) return s;
  const euclidean = metric === 'euclidean';
  const node = euclidean
    ? [
        // -2 A B^T + SA (m x 1, broadcast by Gemm's C), then + SB (1 x n).
        {
          opType: 'Gemm',
          input: ['A', 'B', 'SA'],
          output: ['G'],
          attribute: [
            { name: 'transB', type: INT, i: 1 },
            { name: 'alpha', type: FLOAT, f: -2 },
          ],
        },
        { opType: 'Add', input: ['G', 'SB'], output: ['S'] },
        { opType: 'Relu', input: ['S'], output: ['R'] },
        { opType: 'Sqrt', input: ['R'], output: ['D'] },
      ]
    : [
        {
          opType: 'Gemm',
          input: ['A', 'B', 'ONE'],
          output: ['G'],
          attribute: [
            { name: 'transB', type: INT, i: 1 },
            { name: 'alpha', type: FLOAT, f: -1 },
          ],
        },
        { opType: 'Relu', input: ['G'], output: ['D'] },
      ];
  s = ort.InferenceSession.create(
    encodeModel({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 17 }],
      producerName: 'concept-lens',
      graph: {
        name: `distances-${metric}`,
        node,
        initializer: euclidean
          ? []
          : [{ name: 'ONE', dataType: onnx.TensorProto.DataType.FLOAT, dims: [], floatData: [1] }],
        input: euclidean
          ? [
              matrix('A', 'm', 'd'),
              matrix('B', 'n', 'd'),
              matrix('SA', 'm', 'one'),
              matrix('SB', 'one', 'n'),
            ]
          : [matrix('A', 'm', 'd'), matrix('B', 'n', 'd')],
        output: [floatValueInfo('D')],
      },
    }),
  );
  sessions.set(metric, s);
  return s;
}

/**
 * Distances [m x n] between the rows of a [m x d] and b [n x d] (squared lengths `sa`, `sb` for
 * Euclidean; unit rows for cosine).
 */
export async function distanceMatrix(
  metric: Metric,
  a: Float32Array,
  sa: Float32Array,
  m: number,
  b: Float32Array,
  sb: Float32Array,
  n: number,
  d: number,
): Promise<Float32Array> {
  if (m === 0 || n === 0) return new Float32Array(m * n);
  const s = await session(metric);
  const feeds: Record<string, ort.Tensor> = {
    A: new ort.Tensor('float32', a, [m, d]),
    B: new ort.Tensor('float32', b, [n, d]),
  };
  if (metric === 'euclidean') {
    feeds.SA = new ort.Tensor('float32', sa, [m, 1]);
    feeds.SB = new ort.Tensor('float32', sb, [1, n]);
  }
  return (await s.run(feeds)).D.data as Float32Array;
}
