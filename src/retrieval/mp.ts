import jstatModule from 'jstat';
import type { Profiles } from './profiles.ts';

const { jStat } = jstatModule;

/**
 * Mutual Proximity (Schnitzer, Flexer, Schedl, Widmer, "Local and global scaling reduce hubs in
 * space", JMLR 13, 2012). A distance d between x and y is replaced by how unusual it is for both:
 *
 *   MP(x, y) = P(X > d and Y > d),   X, Y: the distances from x (from y) to the other points,
 *
 * and the secondary distance is 1 - MP. Two points are close only if each is among the other's
 * near neighbours relative to its own neighbourhood, which makes neighbourhoods symmetric and
 * takes away the advantage of hubs (points close to everything: their own distances are all
 * small, so a small distance to them is not unusual).
 *
 *  - empirical: MP(x, y) = |{k != x, y : d(x, k) > d and d(y, k) > d}| / (number of such k),
 *    counted with the profiles of src/retrieval/profiles.ts: exact where the pair lies within the
 *    nearest-neighbour lists (which is where it decides neighbourhoods), estimated beyond.
 *  - gaussian ("MP-GaussI"): X and Y independent normals fitted to each point's distances,
 *    MP = sf(d; mu_x, sd_x) * sf(d; mu_y, sd_y).
 *
 * One side of every pair (the "owner": a query, or the corpus row being scanned) comes with its
 * full row of distances to the corpus; the other side is described by its profile only.
 */

/** Normal survival function; a zero spread counts as 1e-7 (as in the Hub Toolbox). */
export function normalSf(d: number, mean: number, std: number): number {
  return 1 - jStat.normal.cdf(d, mean, std > 0 ? std : 1e-7);
}

/** MP-GaussI similarity of a pair at distance d; `a` and `b` index their profiles. */
export function gaussianMp(d: number, pa: Profiles, a: number, pb: Profiles, b: number): number {
  return normalSf(d, pa.mean[a], pa.std[a]) * normalSf(d, pb.mean[b], pb.std[b]);
}

export interface Owner {
  /** Distances from the owner to every corpus point. */
  row: ArrayLike<number>;
  profiles: Profiles;
  /** Index of the owner in `profiles`. */
  at: number;
  /** Index of the owner in the corpus, or -1 for a point outside it (a query). */
  self: number;
}

/**
 * Empirical MP similarity between the owner and corpus point `y` (profiled in `py` at `at`), at
 * distance d = owner.row[y] unless given (a point standing in for y, as in the hub attack).
 */
export function empiricalMp(
  owner: Owner,
  y: number,
  py: Profiles,
  at = y,
  d = owner.row[y],
): number {
  const { row, profiles: px, at: x, self } = owner;
  const inCorpus = self >= 0 ? 1 : 0;
  // Points that can witness the pair: the corpus without x and y.
  const others = py.population[at] - inCorpus;
  if (others <= 0) return 0;
  const near = py.shape.near;

  // |A|: points within d of x, without y.
  const a = countWithin(px, x, d, y);
  // |B| and |A and B| from y's side.
  let b: number;
  let both: number;
  const base = at * near;
  const nb = py.nearCount[at];
  if (py.covers(at, d)) {
    b = 0;
    both = 0;
    for (let r = 0; r < nb; r++) {
      if (py.nearDist[base + r] > d) break;
      const k = py.nearIds[base + r];
      if (k === self) continue;
      b++;
      if (row[k] <= d && k !== y) both++;
    }
  } else {
    let listed = 0;
    let inA = 0;
    for (let r = 0; r < nb; r++) {
      const k = py.nearIds[base + r];
      if (k === self) continue;
      listed++;
      if (row[k] <= d && k !== y) inA++;
    }
    b = Math.max(listed, py.rank(at, d) - inCorpus);
    // Beyond y's list, assume its points fall within d of x as often as the rest of x's do.
    const restA = Math.max(0, a - inA);
    const pool = Math.max(1, others - listed);
    both = inA + Math.min(restA, ((b - listed) * restA) / pool);
  }
  const union = Math.min(others, a + b - both);
  return Math.max(0, (others - union) / others);
}

/** Points of i's distribution within d of it, leaving out `skip`: exact or estimated (see Profiles.rank). */
function countWithin(p: Profiles, i: number, d: number, skip: number): number {
  const near = p.shape.near;
  if (p.covers(i, d)) {
    let c = 0;
    for (let r = 0; r < p.nearCount[i]; r++) {
      if (p.nearDist[i * near + r] > d) break;
      if (p.nearIds[i * near + r] !== skip) c++;
    }
    return c;
  }
  // Estimated: the skipped point lies at distance d, so it is among those counted.
  return Math.max(0, p.rank(i, d) - 1);
}
