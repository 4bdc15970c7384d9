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
 * half of the time, at least three different attacks and at most one note struck twice in a row.
 * Alberti basses, the Prelude in C's figure and Chopin's arpeggios all count; scales (steps) and
 * tremolos (two attacks alternating) do not.
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
  /** Widest interval covered by four or more successive notes going one way (repeats allowed). */
  sweep: number;
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
        sweep: widestSweep(groups.slice(i, j + 1).map((g) => g.pitches[0])),
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
  let repeats = 0;
  for (let k = 1; k < window.length; k++) {
    const a = window[k - 1].pitches;
    const b = window[k].pitches;
    if (a.length === b.length && a.every((p, n) => p === b[n])) repeats++;
    if (Math.abs(b[0] - a[0]) >= 3) leaps++;
  }
  // One note struck twice in a row may happen in a figure; more is repetition, not figuration.
  if (repeats > 1) return false;
  // Two attacks alternating (A B A B) is a tremolo, not a broken chord.
  const distinct = new Set(window.map((x) => x.pitches.join(',')));
  if (distinct.size < 3) return false;
  return leaps * 2 >= window.length - 1;
}

/** Widest interval of a run of at least four pitches going one way (a repeated pitch continues it). */
function widestSweep(p: readonly number[]): number {
  let best = 0;
  for (const dir of [1, -1]) {
    let start = 0;
    for (let k = 1; k <= p.length; k++) {
      if (k < p.length && (p[k] - p[k - 1]) * dir >= 0) continue;
      if (k - start >= 4) best = Math.max(best, Math.abs(p[k - 1] - p[start]));
      start = k;
    }
  }
  return best;
}
