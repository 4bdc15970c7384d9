import type { Note, TimeMap } from '../midi/types.ts';
import {
  barGrid,
  beatAt,
  line,
  onsetGroups,
  splitHands,
  type BarSpan,
  type OnsetGroup,
} from './notes.ts';

/**
 * What every detector reads: the notes once grouped into chords, per hand and together, and the
 * beat grid. Built once per piece (see notes.ts for how hands and chords are approximated).
 */
export interface DetectContext {
  notes: readonly Note[];
  bars: readonly BarSpan[];
  /** Onset groups of all notes (both hands). */
  all: OnsetGroup[];
  /** Onset groups of each hand. */
  hands: { upper: OnsetGroup[]; lower: OnsetGroup[] };
  /** Seconds of one beat at a time. */
  beatAt(time: number): number;
}

export function detectContext(notes: readonly Note[], timeMap: TimeMap): DetectContext {
  const end = notes.reduce((m, n) => Math.max(m, n.offset), 0);
  const bars = barGrid(timeMap, end);
  const { upper, lower } = splitHands(notes);
  return {
    notes,
    bars,
    all: onsetGroups(notes),
    hands: { upper: onsetGroups(upper), lower: onsetGroups(lower) },
    beatAt: (t) => beatAt(bars, t),
  };
}

/** Both hands' group lists, for detectors that look at each hand alone. */
export function eachHand(ctx: DetectContext): OnsetGroup[][] {
  return [ctx.hands.upper, ctx.hands.lower];
}

/**
 * A quick note value: an onset gap of at most half a beat (eighths in 4/4, sixteenths in 2/4 at
 * a dotted-quarter beat...). `fast` tightens it to a quarter of a beat or 0.15 s, whichever is longer
 * (trills and tremolos).
 */
export function quick(ctx: DetectContext, gap: number, time: number): boolean {
  return gap > 0 && gap <= ctx.beatAt(time) / 2 + 1e-3;
}

export function fast(ctx: DetectContext, gap: number, time: number): boolean {
  return gap > 0 && gap <= Math.max(0.15, ctx.beatAt(time) / 4) + 1e-3;
}

/** The top and bottom lines of both hands (see notes.ts), for detectors of melodic figures. */
export function eachLine(ctx: DetectContext): OnsetGroup[][] {
  return eachHand(ctx).flatMap((groups) => [line(groups, 'top'), line(groups, 'bottom')]);
}
