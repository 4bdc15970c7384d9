import ort from 'onnxruntime-node';
import { encodeModel, onnx } from './onnx.ts';

/**
 * Inner products of many long vectors (gradients with directions): a one-node Gemm graph in
 * onnxruntime, vectorised and multi-threaded, instead of a JavaScript loop.
 */
let session: Promise<ort.InferenceSession> | undefined;

/** The one-node Gemm session (A B^T), created once per process; src/tcav/linalg.ts's `gram` shares it. */
export function gemmSession(): Promise<ort.InferenceSession> {
  const matrix = (name: string, rows: string) => ({
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: [{ dimParam: rows }, { dimParam: 'd' }] },
      },
    },
  });
  session ??= ort.InferenceSession.create(
    encodeModel({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 17 }],
      producerName: 'concept-lens',
      graph: {
        name: 'dots',
        node: [
          {
            opType: 'Gemm',
            input: ['A', 'B'],
            output: ['G'],
            attribute: [{ name: 'transB', type: onnx.AttributeProto.AttributeType.INT, i: 1 }],
          },
        ],
        input: [matrix('A', 'n'), matrix('B', 'm')],
        output: [
          { name: 'G', type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } },
        ],
      },
    }),
  );
  return session;
}

/** G[i][j] = a_i . b_j for row-major a [n x d] and b [m x d]; G is [n x m]. */
export async function rowDots(
  a: Float32Array,
  n: number,
  b: Float32Array,
  m: number,
  d: number,
): Promise<Float32Array> {
  if (a.length !== n * d || b.length !== m * d)
    throw new Error(`rowDots: shapes [${n}x${d}] and [${m}x${d}] do not match the data`);
  if (n === 0 || m === 0) return new Float32Array(n * m);
  const s = await gemmSession();
  const out = await s.run({
    A: new ort.Tensor('float32', a, [n, d]),
    B: new ort.Tensor('float32', b, [m, d]),
  });
  return out.G.data as Float32Array;
}
