import type { EditCandidates } from '../edits/candidates.ts';
import type { PianoRoll } from '../midi/roll.ts';

/**
 * First-order effect of every candidate edit on a function of the roll whose gradient is `grad`
 * (same layout as `roll.data`): sum over the cells the edit changes of g * (new value - old value),
 * with cells turned on going to 1 and cells turned off to 0. Each run of cells costs two lookups in
 * prefix sums of the gradient along time, so tens of thousands of candidates cost about as much as
 * one pass over the roll. Uses the 'frame' channel (the one a note lights for its whole length).
 */
export function firstOrderEffects(
  cands: EditCandidates,
  roll: PianoRoll,
  grad: Float32Array,
): Float32Array {
  const { frames: T, pitches: P } = roll;
  const low = roll.layout.lowPitch;
  const channel = Math.max(0, roll.layout.channels.indexOf('frame'));
  const base = channel * T * P;
  // G[t][p] = sum_{u < t} g[u][p]; GX the same of g * x (the cells' current values).
  const G = new Float64Array((T + 1) * P);
  const GX = new Float64Array((T + 1) * P);
  for (let t = 0; t < T; t++) {
    for (let p = 0; p < P; p++) {
      const g = grad[base + t * P + p];
      const x = roll.data[base + t * P + p];
      G[(t + 1) * P + p] = G[t * P + p] + g;
      GX[(t + 1) * P + p] = GX[t * P + p] + g * x;
    }
  }
  const out = new Float32Array(cands.count);
  for (const cells of cands.cells) {
    const { pitch, from, to, sign } = cells;
    for (let i = 0; i < cands.count; i++) {
      const s = sign[i];
      if (s === 0) continue;
      const p = pitch[i] - low;
      const a = from[i] * P + p;
      const b = to[i] * P + p;
      const gx = GX[b] - GX[a];
      // On: every cell goes to 1, so the change is g * (1 - x); off: to 0, a change of -g * x.
      out[i] += s > 0 ? G[b] - G[a] - gx : -gx;
    }
  }
  return out;
}

/** Indices of the k smallest values, smallest first (one pass, a small sorted buffer). */
export function smallestK(values: Float32Array, k: number): number[] {
  const best: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (best.length === k && !(v < values[best[k - 1]])) continue;
    let j = best.length < k ? best.length : k - 1;
    if (best.length < k) best.push(i);
    while (j > 0 && values[best[j - 1]] > v) {
      best[j] = best[j - 1];
      j--;
    }
    best[j] = i;
  }
  return best;
}
