import type { DetectContext } from './context.ts';
import { mergeSpans, pitchClasses, runSpan, type OnsetGroup } from './notes.ts';
import type { Span } from './types.ts';

/**
 * Stride (leaping, "oom-pah") bass: the left hand alternates a low bass note (or octave) with a
 * chord at least a fifth above it, bass then one or two chords (march or waltz), at least two such
 * cycles in a row, evenly spaced (the left hand of a Chopin waltz or mazurka, a stride piano bass).
 */
export const MIN_CYCLES = 2;

export function detectStride(ctx: DetectContext): Span[] {
  const g = ctx.hands.lower;
  const spans: Span[] = [];
  let i = 0;
  while (i < g.length) {
    let k = i;
    let cycles = 0;
    let lastEnd = i;
    for (;;) {
      const len = cycleAt(g, k);
      if (len === 0) break;
      cycles++;
      lastEnd = k + len - 1;
      k += len;
    }
    if (cycles >= MIN_CYCLES && even(g, i, lastEnd)) {
      spans.push(runSpan(g, i, lastEnd));
      i = lastEnd + 1;
    } else i++;
  }
  return mergeSpans(spans);
}

function isBass(x: OnsetGroup): boolean {
  return x.pitches.length <= 2 && pitchClasses(x.pitches).length === 1;
}

function isChord(x: OnsetGroup): boolean {
  return x.pitches.length >= 2 && pitchClasses(x.pitches).length >= 2;
}

/** Length (2 or 3) of a bass-chord(-chord) cycle starting at i, or 0. */
function cycleAt(g: readonly OnsetGroup[], i: number): number {
  if (i + 1 >= g.length || !isBass(g[i])) return 0;
  const bass = g[i].pitches[g[i].pitches.length - 1];
  const above = (x: OnsetGroup) => isChord(x) && x.pitches[0] >= bass + 7;
  if (!above(g[i + 1])) return 0;
  if (i + 2 < g.length && above(g[i + 2])) return 3;
  return 2;
}

function even(g: readonly OnsetGroup[], i: number, j: number): boolean {
  let min = Infinity;
  let max = 0;
  for (let k = i + 1; k <= j; k++) {
    const d = g[k].onset - g[k - 1].onset;
    min = Math.min(min, d);
    max = Math.max(max, d);
  }
  return min > 0 && max <= 2.1 * min;
}
