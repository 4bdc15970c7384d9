import type { DetectContext } from './context.ts';
import { mergeSpans } from './notes.ts';
import { stepRuns } from './runs.ts';
import type { Span } from './types.ts';

/**
 * Chromatic runs: at least six quick notes in a row going one way by semitones (five semitone
 * steps in a row), in the top or bottom line of a hand, as in Chopin's Op. 10 No. 2.
 */
export const MIN_SEMITONES = 5;

export function detectChromaticRuns(ctx: DetectContext): Span[] {
  const spans: Span[] = [];
  for (const run of stepRuns(ctx, MIN_SEMITONES + 1)) {
    let k = 0;
    while (k < run.steps.length) {
      let m = k;
      while (m < run.steps.length && Math.abs(run.steps[m]) === 1) m++;
      if (m - k >= MIN_SEMITONES) {
        // The semitone stretch is a share of the run's span: notes k..m of the run.
        const per = (run.span.end - run.span.start) / (run.steps.length + 1);
        spans.push({ start: run.span.start + k * per, end: run.span.start + (m + 1) * per });
      }
      k = Math.max(m, k + 1);
    }
  }
  return mergeSpans(spans);
}
