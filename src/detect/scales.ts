import type { DetectContext } from './context.ts';
import { mergeSpans } from './notes.ts';
import { stepRuns } from './runs.ts';
import type { Span } from './types.ts';

/**
 * Scale runs: at least seven quick notes in a row going one way by diatonic steps (tones and
 * semitones, at least two tones), in the top or bottom line of a hand. A stepwise melody in long
 * notes is not a run; a chromatic scale is a chromatic run (chromatic-runs.ts).
 */
export const MIN_SCALE_NOTES = 7;

export function detectScales(ctx: DetectContext): Span[] {
  return mergeSpans(
    stepRuns(ctx, MIN_SCALE_NOTES)
      .filter((r) => r.steps.filter((s) => Math.abs(s) === 2).length >= 2)
      .map((r) => r.span),
  );
}
