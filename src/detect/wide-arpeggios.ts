import type { DetectContext } from './context.ts';
import { brokenChordWindows } from './broken-chords.ts';
import { mergeSpans } from './notes.ts';
import type { Span } from './types.ts';

/**
 * Wide arpeggios: broken-chord figuration (see broken-chords.ts) whose six successive notes
 * sweep over more than an octave and a fifth (at least 19 semitones), as in Chopin's Op. 10 No. 1
 * or the "Aeolian Harp" etude; the Prelude in C's figure (a tenth) is not wide.
 */
export const WIDE_SEMITONES = 19;

export function detectWideArpeggios(ctx: DetectContext): Span[] {
  return mergeSpans(
    brokenChordWindows(ctx)
      .filter((w) => w.high - w.low >= WIDE_SEMITONES)
      .map((w) => w.span),
  );
}
