import { kmeansGenerator } from 'ml-kmeans';
import type { AxisLabel } from '../model/axes.ts';
import { yieldToSignals } from '../util/interrupt.ts';
import { Rng } from '../util/random.ts';

/**
 * k-means (ml-kmeans' Lloyd iterations from greedy k-means++ starts) with several seeded restarts,
 * keeping the partition with the smallest within-cluster sum of squares. The starts are chosen
 * here and the iterations come from ml-kmeans' generator, so that a pending Ctrl-C can act between
 * any two steps (ml-kmeans' own k-means++ takes a second or more on a thousand rows, in one go).
 */
export interface Clustering {
  /** Cluster of each row. */
  assignment: number[];
  centroids: number[][];
  /** Squared distance of each row to its centroid. */
  distances: number[];
  inertia: number;
}

export async function clusterRows(
  rows: number[][],
  k: number,
  seed: number,
  restarts = 5,
): Promise<Clustering> {
  if (rows.length < k) throw new Error(`k-means: ${rows.length} rows for ${k} clusters`);
  let best: Clustering | undefined;
  for (let r = 0; r < restarts; r++) {
    let result: { clusters: number[]; centroids: number[][] } | undefined;
    const starts = await kmeansPlusPlus(rows, k, new Rng(seed * 1000 + r));
    for (const step of kmeansGenerator(rows, k, { initialization: starts, maxIterations: 100 })) {
      result = step;
      await yieldToSignals();
    }
    if (!result) throw new Error('k-means: no iteration ran');
    const distances = rows.map((row, i) => squared(row, result.centroids[result.clusters[i]]));
    const inertia = distances.reduce((a, b) => a + b, 0);
    if (!best || inertia < best.inertia)
      best = { assignment: result.clusters, centroids: result.centroids, distances, inertia };
  }
  return best!;
}

/**
 * Greedy k-means++ (Arthur & Vassilvitskii 2007, with scikit-learn's 2 + log k local trials): each
 * new start is the best of a few candidates drawn with probability proportional to the squared
 * distance to the nearest start so far.
 */
async function kmeansPlusPlus(rows: number[][], k: number, rng: Rng): Promise<number[][]> {
  const n = rows.length;
  const trials = 2 + Math.floor(Math.log(k));
  const starts = [rows[rng.int(0, n - 1)]];
  const nearest = rows.map((row) => squared(row, starts[0]));
  while (starts.length < k) {
    const total = nearest.reduce((a, b) => a + b, 0);
    let best: { index: number; cost: number; distances: number[] } | undefined;
    for (let t = 0; t < trials; t++) {
      let target = rng.next() * total;
      let index = 0;
      while (index < n - 1 && target >= nearest[index]) target -= nearest[index++];
      const distances = rows.map((row, i) => Math.min(nearest[i], squared(row, rows[index])));
      const cost = distances.reduce((a, b) => a + b, 0);
      if (!best || cost < best.cost) best = { index, cost, distances };
    }
    starts.push(rows[best!.index]);
    best!.distances.forEach((d, i) => (nearest[i] = d));
    await yieldToSignals();
  }
  return starts.map((s) => s.slice());
}

function squared(a: number[], b: number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s;
}

/**
 * Features for clustering: the layer's activation averaged over time (keeping the other axes:
 * channels x pitch for a CNN map, hidden units for a sequence layer) when the layer has a time
 * axis, so that clusters gather what is played rather than when in the window; rows scaled to unit
 * length so that loud, dense excerpts do not form clusters of their own.
 */
export function clusterFeatures(
  acts: Float32Array,
  n: number,
  shape: readonly number[],
  axes: readonly AxisLabel[],
): number[][] {
  const size = shape.reduce((a, b) => a * b, 1);
  const timeAxes = axes.flatMap((a, i) => (a === 'time' ? [i] : []));
  const t = timeAxes.length === 1 && shape.length > 1 ? timeAxes[0] : -1;
  const T = t >= 0 ? shape[t] : 1;
  const inner = t >= 0 ? shape.slice(t + 1).reduce((a, b) => a * b, 1) : 1;
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) {
    const a = acts.subarray(i * size, (i + 1) * size);
    let row: number[];
    if (t >= 0) {
      row = new Array(size / T).fill(0);
      // Drop the time coordinate from each row-major offset: outer * inner + rest.
      for (let e = 0; e < size; e++)
        row[Math.floor(e / (T * inner)) * inner + (e % inner)] += a[e] / T;
    } else row = Array.from(a);
    const norm = Math.sqrt(row.reduce((s, v) => s + v * v, 0)) || 1;
    rows.push(row.map((v) => v / norm));
  }
  return rows;
}
