import type { DetectContext } from './context.ts';
import { mergeSpans, runSpan, type OnsetGroup } from './notes.ts';
import type { Span } from './types.ts';

/**
 * Chorale (homorhythmic) texture: the voices move together in chords: at least four attacks in a
 * row, each of three or more notes with at most one note held over from before it, the chord
 * changing from one attack to the next (a repeated chord is not voice leading), at an unhurried
 * pace (attacks at least half a beat and at most two beats apart).
 */
export const MIN_CHORALE_CHORDS = 4;

export function detectChorale(ctx: DetectContext): Span[] {
  const g = ctx.all;
  const ok = g.map((x, i) => i > 0 && isChoraleStep(ctx, g, i));
  const spans: Span[] = [];
  let i = 0;
  while (i < g.length) {
    // A run of chords i..j where every step into i+1..j is a chorale step.
    if (!isChoraleChord(ctx, g, i)) {
      i++;
      continue;
    }
    let j = i;
    while (j + 1 < g.length && ok[j + 1]) j++;
    if (j - i + 1 >= MIN_CHORALE_CHORDS) spans.push(runSpan(g, i, j));
    i = j + 1;
  }
  return mergeSpans(spans);
}

function isChoraleChord(ctx: DetectContext, g: readonly OnsetGroup[], i: number): boolean {
  return g[i].pitches.length >= 3 && held(ctx, g, i) <= 1;
}

function isChoraleStep(ctx: DetectContext, g: readonly OnsetGroup[], i: number): boolean {
  if (!isChoraleChord(ctx, g, i)) return false;
  const a = g[i - 1].pitches;
  const b = g[i].pitches;
  if (a.length === b.length && a.every((p, k) => p === b[k])) return false;
  const gap = g[i].onset - g[i - 1].onset;
  const beat = ctx.beatAt(g[i - 1].onset);
  return gap >= beat / 2 - 1e-3 && gap <= 2 * beat + 1e-3;
}

/** Notes attacked before group i that still sound at its onset. */
function held(ctx: DetectContext, g: readonly OnsetGroup[], i: number): number {
  const t = g[i].onset;
  let count = 0;
  // Notes of the few groups before i are the only ones that can still sound in a chorale.
  for (let k = Math.max(0, i - 8); k < i; k++)
    for (const n of g[k].notes) if (n.offset > t + 0.03) count++;
  return count;
}
