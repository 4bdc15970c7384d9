import { distanceMatrix } from './gemm.ts';
import type { Metric } from './types.ts';

/**
 * Vectors ready for distance computations: for cosine, rows are scaled to unit length (a silent
 * window's zero vector stays zero: its cosine distance to everything is 1); for Euclidean, rows
 * are moved by a common centre (the corpus mean), which changes no distance but shrinks the
 * squared lengths that |a|^2 + |b|^2 - 2 a.b subtracts, so float32 loses less to cancellation
 * between near neighbours (activations after a ReLU share a large common part). Distances come from
 * inner products computed by onnxruntime's Gemm (src/tcav/linalg.ts), block by block, so a corpus
 * of tens of thousands of windows never needs its whole distance matrix in memory.
 */
export interface Vectors {
  n: number;
  dims: number;
  metric: Metric;
  /** Row-major [n x dims]. */
  data: Float32Array;
  /** Squared length of each row (1 or 0 for cosine). */
  squares: Float32Array;
}

/**
 * Prepare rows in place (they are scaled or centred). `centre`: subtracted from every row for
 * Euclidean distances (default: none); pass the corpus's `meanRow` for the corpus and its queries.
 */
export function prepareVectors(
  data: Float32Array,
  n: number,
  dims: number,
  metric: Metric,
  centre?: Float32Array,
): Vectors {
  if (data.length !== n * dims)
    throw new Error(`vectors: ${data.length} values for ${n} x ${dims}`);
  const squares = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    if (metric === 'euclidean' && centre)
      for (let e = 0; e < dims; e++) data[i * dims + e] -= centre[e];
    let s = 0;
    for (let e = i * dims; e < (i + 1) * dims; e++) s += data[e] * data[e];
    if (metric === 'cosine') {
      const norm = Math.sqrt(s);
      if (norm > 0) for (let e = i * dims; e < (i + 1) * dims; e++) data[e] /= norm;
      squares[i] = norm > 0 ? 1 : 0;
    } else squares[i] = s;
  }
  return { n, dims, metric, data, squares };
}

/** The mean of the rows (float64 accumulation). */
export function meanRow(data: Float32Array, n: number, dims: number): Float32Array {
  const sum = new Float64Array(dims);
  for (let i = 0; i < n; i++) for (let e = 0; e < dims; e++) sum[e] += data[i * dims + e];
  return Float32Array.from(sum, (s) => (n > 0 ? s / n : 0));
}

/** Rows [start, start + count) of `a` as their own Vectors (no copy). */
export function sliceVectors(a: Vectors, start: number, count: number): Vectors {
  return {
    ...a,
    n: count,
    data: a.data.subarray(start * a.dims, (start + count) * a.dims),
    squares: a.squares.subarray(start, start + count),
  };
}

/** Distances from every row of `a` to every row of `b`: [a.n x b.n], float32. */
export async function distances(a: Vectors, b: Vectors): Promise<Float32Array> {
  if (a.dims !== b.dims || a.metric !== b.metric)
    throw new Error(`distances: ${a.dims}/${a.metric} against ${b.dims}/${b.metric}`);
  return distanceMatrix(a.metric, a.data, a.squares, a.n, b.data, b.squares, b.n, a.dims);
}

/**
 * Distances of `a`'s rows to all of `b`, handed over in blocks of rows so that memory stays at
 * about `maxValues` distances whatever the corpus size.
 */
export async function forEachDistanceBlock(
  a: Vectors,
  b: Vectors,
  visit: (start: number, count: number, block: Float32Array) => void | Promise<void>,
  maxValues = 2_000_000,
): Promise<void> {
  const rows = Math.max(1, Math.floor(maxValues / Math.max(1, b.n)));
  for (let start = 0; start < a.n; start += rows) {
    const count = Math.min(rows, a.n - start);
    await visit(start, count, await distances(sliceVectors(a, start, count), b));
  }
}
