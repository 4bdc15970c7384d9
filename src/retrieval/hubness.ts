import type { KOccurrenceSummary } from '../results/similar.ts';

/**
 * Hubness (Radovanovic, Nanopoulos, Ivanovic, "Hubs in space", JMLR 11, 2010): in high-dimensional
 * spaces some points ("hubs") are among the k nearest neighbours of very many others, and others
 * ("anti-hubs") of none. It is measured on the k-occurrence N_k(x), the number of points that
 * have x among their k nearest neighbours: its mean is k, and the skewness of its distribution
 * says how lopsided it is (0 for a symmetric spread; hubness shows as a long right tail).
 */

/** N_k from k-nearest lists: `neighbours` is [n x width] (width >= k), -1 for a missing entry. */
export function kOccurrence(
  neighbours: Int32Array,
  n: number,
  width: number,
  k: number,
): Int32Array {
  if (k > width) throw new Error(`k-occurrence: k = ${k} but the lists hold ${width}`);
  const counts = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < k; r++) {
      const j = neighbours[i * width + r];
      if (j >= 0) counts[j]++;
    }
  }
  return counts;
}

/** Sample skewness with population moments (scipy.stats.skew with bias=True); 0 for constant data. */
export function skewness(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return 0;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i];
  mean /= n;
  let m2 = 0;
  let m3 = 0;
  for (let i = 0; i < n; i++) {
    const d = values[i] - mean;
    m2 += d * d;
    m3 += d * d * d;
  }
  m2 /= n;
  m3 /= n;
  // Constant data (up to rounding) has no skew.
  if (m2 <= 1e-14 * Math.max(1, mean * mean)) return 0;
  return m3 / m2 ** 1.5;
}

export function summarizeKOccurrence(counts: Int32Array, k: number): KOccurrenceSummary {
  let max = 0;
  let hubs = 0;
  let anti = 0;
  for (const c of counts) {
    max = Math.max(max, c);
    if (c > 2 * k) hubs++;
    if (c === 0) anti++;
  }
  const histogram = new Array(max + 1).fill(0);
  for (const c of counts) histogram[c]++;
  const n = counts.length;
  return {
    k,
    n,
    skewness: skewness(counts),
    hubShare: n ? hubs / n : 0,
    antiHubShare: n ? anti / n : 0,
    max,
    counts: histogram,
  };
}

export type { KOccurrenceSummary };
