import { kmeans } from 'ml-kmeans';
import type { AxisLabel } from '../model/axes.ts';

/**
 * k-means (ml-kmeans, k-means++ starts) with several seeded restarts, keeping the partition with
 * the smallest within-cluster sum of squares.
 */
export interface Clustering {
  /** Cluster of each row. */
  assignment: number[];
  centroids: number[][];
  /** Squared distance of each row to its centroid. */
  distances: number[];
  inertia: number;
}

export function clusterRows(rows: number[][], k: number, seed: number, restarts = 5): Clustering {
  if (rows.length < k) throw new Error(`k-means: ${rows.length} rows for ${k} clusters`);
  let best: Clustering | undefined;
  for (let r = 0; r < restarts; r++) {
    const result = kmeans(rows, k, {
      seed: seed * 1000 + r,
      initialization: 'kmeans++',
      maxIterations: 100,
    });
    const distances = rows.map((row, i) => squared(row, result.centroids[result.clusters[i]]));
    const inertia = distances.reduce((a, b) => a + b, 0);
    if (!best || inertia < best.inertia)
      best = { assignment: result.clusters, centroids: result.centroids, distances, inertia };
  }
  return best!;
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
