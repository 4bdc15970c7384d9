import jstatModule from 'jstat';
import { TopK } from './knn.ts';
import { empiricalMp, gaussianMp, type Owner } from './mp.ts';
import type { Profiles } from './profiles.ts';
import type { Scaling } from './types.ts';

const { jStat } = jstatModule;

/** Secondary distance from the owner to corpus point y (profiled in `corpus`). */
export function scaledDistance(
  owner: Owner,
  y: number,
  corpus: Profiles,
  scaling: Scaling,
): number {
  const d = owner.row[y];
  if (scaling === 'none') return d;
  if (scaling === 'mp-gaussian') return 1 - gaussianMp(d, owner.profiles, owner.at, corpus, y);
  return 1 - empiricalMp(owner, y, corpus);
}

/** Secondary distances from the owner to every corpus point (the owner's own entry: Infinity). */
export function scaledRow(owner: Owner, corpus: Profiles, scaling: Scaling): Float64Array {
  const out = new Float64Array(owner.row.length);
  for (let y = 0; y < out.length; y++)
    out[y] = y === owner.self ? Infinity : scaledDistance(owner, y, corpus, scaling);
  return out;
}

/**
 * The owner's k nearest corpus points under a scaling, without evaluating MP for every point:
 * MP(x, y) can never exceed x's own share of points farther than d (P(X > d)), which falls as d
 * grows, so once k candidates are known, every point farther than the distance at which that
 * bound drops below the k-th best score is skipped with one comparison. Exact (same result as
 * scanning everything); `skip` leaves points out (the owner itself is always left out).
 */
export function scaledNeighbours(
  owner: Owner,
  corpus: Profiles,
  scaling: Scaling,
  k: number,
  skip?: (y: number) => boolean,
): TopK {
  const top = new TopK(k);
  const row = owner.row;
  const n = row.length;
  const excluded = (y: number) => y === owner.self || (skip !== undefined && skip(y));
  const px = owner.profiles;
  const x = owner.at;
  const near = px.shape.near;
  if (scaling === 'none') {
    for (let y = 0; y < n; y++)
      if (row[y] <= top.threshold && !excluded(y)) top.offer(y, row[y], row[y]);
    return top;
  }
  const seen = new Set<number>();
  // The owner's nearest points first: they set a good threshold early.
  for (let r = 0; r < px.nearCount[x]; r++) {
    const y = px.nearIds[x * near + r];
    if (y >= n || excluded(y)) continue;
    seen.add(y);
    top.offer(y, scaledDistance(owner, y, corpus, scaling), row[y]);
  }
  const inCorpus = owner.self >= 0 ? 1 : 0;
  const others = Math.max(1, px.population[x] - inCorpus);
  const bound = (): number => {
    const t = top.threshold; // a secondary distance: 1 - (k-th best MP)
    if (!(t < 1)) return Infinity;
    const best = 1 - t;
    if (scaling === 'mp-gaussian') {
      // sf(d; mu_x, sd_x) < best beyond this distance.
      const sd = px.std[x] > 0 ? px.std[x] : 1e-7;
      const d = jStat.normal.inv(1 - best, px.mean[x], sd);
      // Generous: jStat's inverse is accurate to about 1e-9; a looser bound only costs evaluations.
      return Number.isFinite(d) ? d + Math.abs(d) * 1e-6 + 1e-9 : Infinity;
    }
    // Empirical: MP <= (others - |A|) / others with |A| >= rank - 1.
    return px.distanceBound(x, Math.ceil((1 - best) * others + 1));
  };
  let limit = bound();
  for (let y = 0; y < n; y++) {
    if (row[y] > limit || seen.has(y) || excluded(y)) continue;
    if (top.offer(y, scaledDistance(owner, y, corpus, scaling), row[y])) limit = bound();
  }
  return top;
}
