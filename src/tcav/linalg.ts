import ort from 'onnxruntime-node';
import { gemmSession } from '../model/dots.ts';

/**
 * G[i][j] = a_i . b_j for row-major a [n x d] and b [m x d]; G is [n x m], float64. Layer
 * activations have tens of thousands of values, so the Gram matrices that CAV training needs cost
 * billions of multiply-adds: they are computed by onnxruntime (the one-node Gemm graph of
 * src/model/dots.ts, multi-threaded and vectorised), not in a JavaScript loop.
 */
export async function gram(
  a: Float32Array,
  n: number,
  b: Float32Array,
  m: number,
  d: number,
): Promise<Float64Array> {
  if (a.length !== n * d || b.length !== m * d)
    throw new Error(`gram: shapes [${n}x${d}] and [${m}x${d}] do not match the data`);
  const out = new Float64Array(n * m);
  if (n === 0 || m === 0) return out;
  const s = await gemmSession();
  // Rows in blocks keep the output tensor and the copies small.
  const block = Math.max(1, Math.floor(4_000_000 / Math.max(m, d)));
  const B = new ort.Tensor('float32', b, [m, d]);
  for (let start = 0; start < n; start += block) {
    const rows = Math.min(block, n - start);
    const A = new ort.Tensor('float32', a.subarray(start * d, (start + rows) * d), [rows, d]);
    const G = (await s.run({ A, B })).G.data as Float32Array;
    for (let k = 0; k < G.length; k++) out[start * m + k] = G[k];
  }
  return out;
}

/** Rows `indices` of a row-major [n x d] matrix, packed. */
export function takeRows(x: Float32Array, d: number, indices: readonly number[]): Float32Array {
  const out = new Float32Array(indices.length * d);
  indices.forEach((r, i) => out.set(x.subarray(r * d, (r + 1) * d), i * d));
  return out;
}

/** sum_i w_i x_i for row-major x [n x d]. */
export function combineRows(x: Float32Array, d: number, weights: ArrayLike<number>): Float32Array {
  const out = new Float64Array(d);
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i];
    if (w === 0) continue;
    const row = x.subarray(i * d, (i + 1) * d);
    for (let e = 0; e < d; e++) out[e] += w * row[e];
  }
  return Float32Array.from(out);
}
