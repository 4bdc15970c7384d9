/**
 * What Mutual Proximity needs to know about each point: the distribution of its distances to all
 * the other points of the corpus. Storing every distance is out of the question (20,000 windows
 * make 400 M of them), so each point keeps
 *  - the mean and standard deviation of its distances (for MP with Gaussians, exact);
 *  - its `near` nearest neighbours, ids and distances, sorted (the tail of the distribution where
 *    empirical MP decides who is a neighbour: exact there);
 *  - `levels` quantiles of its distances to a fixed reference sample of the corpus (the bulk of
 *    the distribution, for the rank of a distance beyond the nearest ones: estimated there).
 * With `near` >= the corpus size every rank is exact, and MP is exactly Schnitzer et al.'s.
 */
export interface ProfileShape {
  /** Nearest neighbours kept per point. */
  near: number;
  /** Quantiles of the distance distribution kept per point (>= 2). */
  levels: number;
}

export const DEFAULT_PROFILE_SHAPE: ProfileShape = { near: 100, levels: 64 };

export class Profiles {
  readonly mean: Float64Array;
  readonly std: Float64Array;
  /** How many distances each distribution holds (corpus size minus one for a corpus point). */
  readonly population: Int32Array;
  /** [n x near]: ids and distances of the nearest points, ascending; `nearCount` are valid. */
  readonly nearIds: Int32Array;
  readonly nearDist: Float32Array;
  readonly nearCount: Int32Array;
  /** [n x levels]: distance quantiles (ascending) and the share of the sample at or below each. */
  readonly quantiles: Float32Array;
  readonly shares: Float32Array;

  constructor(
    readonly n: number,
    readonly shape: ProfileShape,
    arrays?: Partial<Record<ProfileArray, ArrayLike<number>>>,
  ) {
    const { near, levels } = shape;
    if (!(near >= 1 && levels >= 2)) throw new Error(`profiles: near ${near}, levels ${levels}`);
    this.mean = new Float64Array(n);
    this.std = new Float64Array(n);
    this.population = new Int32Array(n);
    this.nearIds = new Int32Array(n * near);
    this.nearDist = new Float32Array(n * near);
    this.nearCount = new Int32Array(n);
    this.quantiles = new Float32Array(n * levels);
    this.shares = new Float32Array(n * levels);
    for (const [name, values] of Object.entries(arrays ?? {}))
      (this[name as ProfileArray] as { set(v: ArrayLike<number>): void }).set(values!);
  }

  /** The arrays, for storing the profiles (see index-file.ts). */
  arrays(): Record<ProfileArray, Float64Array | Float32Array | Int32Array> {
    return Object.fromEntries(PROFILE_ARRAYS.map((k) => [k, this[k]])) as Record<
      ProfileArray,
      Float64Array | Float32Array | Int32Array
    >;
  }

  /**
   * Profile point `i` from its distances to every corpus point (`row`), leaving out `self` (its
   * own index when it is a corpus point, -1 otherwise). `reference`: corpus indices whose distances
   * give the quantiles.
   */
  setFromRow(i: number, row: ArrayLike<number>, self: number, reference: Int32Array): void {
    const { near, levels } = this.shape;
    // One pass for both moments (float64: distances are far from needing a two-pass variance).
    let sum = 0;
    let squares = 0;
    for (let j = 0; j < row.length; j++) {
      const v = row[j];
      sum += v;
      squares += v * v;
    }
    if (self >= 0 && self < row.length) {
      sum -= row[self];
      squares -= row[self] * row[self];
    }
    const count = row.length - (self >= 0 && self < row.length ? 1 : 0);
    const mean = count > 0 ? sum / count : 0;
    this.mean[i] = mean;
    this.std[i] = count > 0 ? Math.sqrt(Math.max(0, squares / count - mean * mean)) : 0;
    this.population[i] = count;

    // Nearest `near` by a bounded max-heap: one comparison per distance, few insertions.
    const k = Math.min(near, count);
    const heapD = new Float64Array(k);
    const heapI = new Int32Array(k);
    let size = 0;
    for (let j = 0; j < row.length; j++) {
      const d = row[j];
      // Fast path: most distances are farther than the farthest kept one.
      if (size === k && d > heapD[0]) continue;
      if (j === self) continue;
      if (size < k) {
        let c = size++;
        while (c > 0) {
          const p = (c - 1) >> 1;
          if (!worse(heapD[p], heapI[p], d, j)) {
            heapD[c] = heapD[p];
            heapI[c] = heapI[p];
            c = p;
          } else break;
        }
        heapD[c] = d;
        heapI[c] = j;
      } else if (worse(heapD[0], heapI[0], d, j)) {
        let c = 0;
        for (;;) {
          const l = 2 * c + 1;
          if (l >= size) break;
          const r = l + 1;
          const m = r < size && worse(heapD[r], heapI[r], heapD[l], heapI[l]) ? r : l;
          if (worse(heapD[m], heapI[m], d, j)) {
            heapD[c] = heapD[m];
            heapI[c] = heapI[m];
            c = m;
          } else break;
        }
        heapD[c] = d;
        heapI[c] = j;
      }
    }
    const order = [...Array(size).keys()].sort(
      (a, b) => heapD[a] - heapD[b] || heapI[a] - heapI[b],
    );
    order.forEach((h, r) => {
      this.nearIds[i * near + r] = heapI[h];
      this.nearDist[i * near + r] = heapD[h];
    });
    this.nearCount[i] = size;

    // Quantiles of the distances to the reference sample.
    const buffer = new Float64Array(reference.length);
    let m = 0;
    for (const j of reference) if (j !== self && j < row.length) buffer[m++] = row[j];
    const sorted = buffer.subarray(0, m).sort();
    for (let l = 0; l < levels; l++) {
      const pos = m > 0 ? Math.round((l * (m - 1)) / (levels - 1)) : 0;
      this.quantiles[i * levels + l] = m > 0 ? sorted[pos] : 0;
      this.shares[i * levels + l] = m > 0 ? (pos + 1) / m : 1;
    }
  }

  /** True when the nearest-neighbour list of `i` covers distances up to `d` (ranks up to d are exact). */
  covers(i: number, d: number): boolean {
    const c = this.nearCount[i];
    return c >= this.population[i] || (c > 0 && d <= this.nearDist[i * this.shape.near + c - 1]);
  }

  /**
   * How many of the points in i's distribution lie within distance d of i (ties included): exact
   * where the nearest list covers d, otherwise estimated from the quantiles (never below the
   * nearest list's length, never above the population).
   */
  rank(i: number, d: number): number {
    const near = this.shape.near;
    const c = this.nearCount[i];
    if (this.covers(i, d)) {
      // Binary search: entries with distance <= d.
      let lo = 0;
      let hi = c;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (this.nearDist[i * near + mid] <= d) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    }
    return Math.min(this.population[i], Math.max(c, this.population[i] * this.share(i, d)));
  }

  /**
   * The largest distance at which `rank(i, d) <= r` can still hold, or a little more (for pruning:
   * points farther than this from i cannot have a rank <= r).
   */
  distanceBound(i: number, r: number): number {
    const near = this.shape.near;
    const c = this.nearCount[i];
    if (c >= this.population[i]) {
      if (r >= c) return Infinity;
      return r < 1 ? this.nearDist[i * near] : this.nearDist[i * near + Math.floor(r)];
    }
    if (r < c) return this.nearDist[i * near + Math.floor(r)];
    if (r >= this.population[i]) return Infinity;
    // Invert the interpolated share: the first level whose share exceeds r / population.
    const target = r / this.population[i];
    const L = this.shape.levels;
    for (let l = 0; l < L; l++) {
      if (this.shares[i * L + l] > target) return this.quantiles[i * L + l];
    }
    return Infinity;
  }

  /** Estimated share of i's distances at or below d, from the quantiles (linear between levels). */
  private share(i: number, d: number): number {
    const L = this.shape.levels;
    const q = this.quantiles;
    const s = this.shares;
    const base = i * L;
    if (d < q[base]) return 0;
    if (d >= q[base + L - 1]) return 1;
    let lo = 0;
    let hi = L - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (q[base + mid] <= d) lo = mid;
      else hi = mid;
    }
    const span = q[base + hi] - q[base + lo];
    const t = span > 0 ? (d - q[base + lo]) / span : 1;
    return s[base + lo] + t * (s[base + hi] - s[base + lo]);
  }
}

export type ProfileArray =
  'mean' | 'std' | 'population' | 'nearIds' | 'nearDist' | 'nearCount' | 'quantiles' | 'shares';
export const PROFILE_ARRAYS: readonly ProfileArray[] = [
  'mean',
  'std',
  'population',
  'nearIds',
  'nearDist',
  'nearCount',
  'quantiles',
  'shares',
];

/** Max-heap order: (da, ia) is farther than (db, ib); ties broken by index, so results are deterministic. */
function worse(da: number, ia: number, db: number, ib: number): boolean {
  return da > db || (da === db && ia > ib);
}

/** A seeded choice of up to `size` reference indices out of n, sorted (all of them when n <= size). */
export function referenceSample(n: number, size: number, random: () => number): Int32Array {
  if (n <= size) return Int32Array.from({ length: n }, (_, i) => i);
  // Partial Fisher-Yates over the index range.
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < size; i++) {
    const j = i + Math.floor(random() * (n - i));
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
  return idx.slice(0, size).sort();
}
