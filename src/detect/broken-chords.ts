import { eachHand, quick, type DetectContext } from './context.ts';
import {
  evenOnsets,
  fitsChord,
  mergeSpans,
  pitchClasses,
  runSpan,
  type OnsetGroup,
} from './notes.ts';
import type { Span } from './types.ts';

/**
 * Broken-chord figuration: one hand plays a chord one or two notes at a time in quick, even notes
 * (at most half a beat apart): six successive attacks whose notes together make one triad or
 * seventh chord (three or more pitch classes), moving by leaps (a minor third or more) at least
 * half of the time. Alberti basses, the Prelude in C's figure and Chopin's arpeggios all count;
 * scales (steps) and tremolos (two notes) do not.
 */
export const FIGURE_LENGTH = 6;

export function detectBrokenChords(ctx: DetectContext): Span[] {
  return mergeSpans(brokenChordWindows(ctx).map((w) => w.span));
}

export interface FigureWindow {
  span: Span;
  /** Lowest and highest pitch of the window. */
  low: number;
  high: number;
}

/** Every window of FIGURE_LENGTH attacks in one hand that is a broken chord. */
export function brokenChordWindows(ctx: DetectContext): FigureWindow[] {
  const out: FigureWindow[] = [];
  for (const groups of eachHand(ctx)) {
    for (let i = 0; i + FIGURE_LENGTH - 1 < groups.length; i++) {
      const j = i + FIGURE_LENGTH - 1;
      if (!isBrokenChord(ctx, groups, i, j)) continue;
      const pitches = groups.slice(i, j + 1).flatMap((g) => g.pitches);
      out.push({
        span: runSpan(groups, i, j),
        low: Math.min(...pitches),
        high: Math.max(...pitches),
      });
    }
  }
  return out;
}

function isBrokenChord(ctx: DetectContext, g: readonly OnsetGroup[], i: number, j: number) {
  const window = g.slice(i, j + 1);
  if (window.some((x) => x.pitches.length > 2)) return false;
  if (!quick(ctx, g[i + 1].onset - g[i].onset, g[i].onset) || !evenOnsets(g, i, j, 1.6))
    return false;
  const pcs = pitchClasses(window.flatMap((x) => x.pitches));
  if (pcs.length < 3 || !fitsChord(pcs)) return false;
  let leaps = 0;
  for (let k = 1; k < window.length; k++) {
    const a = window[k - 1].pitches;
    const b = window[k].pitches;
    if (a.length === b.length && a.every((p, n) => p === b[n])) return false;
    if (Math.abs(b[0] - a[0]) >= 3) leaps++;
  }
  return leaps * 2 >= window.length - 1;
}
