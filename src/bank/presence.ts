/**
 * The arithmetic of a concept bank, as pure functions: the mean direction of a concept's CAVs,
 * projections of activations on it, and presence (a projection's percentile among reference
 * projections). Float64 accumulation throughout, in a fixed order, so the same inputs give
 * bit-identical outputs on every run.
 */

/**
 * The unit mean of a concept's unit CAVs (zero rows, from degenerate fits, are left out), or
 * undefined when every row is zero or the CAVs cancel out.
 */
export function meanDirection(cavs: readonly Float32Array[]): Float32Array | undefined {
  const usable = cavs.filter((v) => v.some((x) => x !== 0));
  if (usable.length === 0) return undefined;
  const size = usable[0].length;
  const sum = new Float64Array(size);
  for (const v of usable) {
    if (v.length !== size) throw new Error(`meanDirection: CAVs of ${v.length} and ${size} values`);
    let norm = 0;
    for (let i = 0; i < size; i++) norm += v[i] * v[i];
    const scale = 1 / Math.sqrt(norm);
    for (let i = 0; i < size; i++) sum[i] += v[i] * scale;
  }
  let norm = 0;
  for (let i = 0; i < size; i++) norm += sum[i] * sum[i];
  if (!(norm > 0)) return undefined;
  const out = new Float32Array(size);
  const scale = 1 / Math.sqrt(norm);
  for (let i = 0; i < size; i++) out[i] = sum[i] * scale;
  return out;
}

/** Dot products of n activations (row-major [n x size]) with a direction. */
export function project(acts: Float32Array, n: number, direction: Float32Array): Float64Array {
  const size = direction.length;
  if (acts.length < n * size)
    throw new Error(`project: ${acts.length} values for ${n} activations of ${size}`);
  const out = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let s = 0;
    const base = r * size;
    for (let i = 0; i < size; i++) s += acts[base + i] * direction[i];
    out[r] = s;
  }
  return out;
}

/**
 * Where x lies among the reference values (sorted ascending), as a share in [0, 1]: the share of
 * references below x, counting ties half (the mid-rank percentile). 0.5 is a typical reference
 * excerpt; 1 is above every one of them.
 */
export function presence(sortedReference: Float64Array, x: number): number {
  const n = sortedReference.length;
  if (n === 0) throw new Error('presence: empty reference');
  if (Number.isNaN(x)) return NaN;
  const below = lowerBound(sortedReference, x);
  let equal = 0;
  while (below + equal < n && sortedReference[below + equal] === x) equal++;
  return (below + equal / 2) / n;
}

/** First index whose value is >= x. */
function lowerBound(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function sortedCopy(values: Float64Array): Float64Array {
  return Float64Array.from(values).sort();
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
