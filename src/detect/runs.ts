import { eachLine, quick, type DetectContext } from './context.ts';
import { evenOnsets, runSpan, type OnsetGroup } from './notes.ts';
import type { Span } from './types.ts';

/**
 * Runs by step, shared by scales and chromatic runs: in a line (the top or bottom line of a hand),
 * successive quick notes (at most half a beat apart, roughly even) moving in one direction by
 * steps of a semitone or a tone. `accept` decides from the steps whether the run counts.
 */
export interface Run {
  span: Span;
  /** Signed steps in semitones. */
  steps: number[];
}

export function stepRuns(ctx: DetectContext, minNotes: number): Run[] {
  const out: Run[] = [];
  for (const l of eachLine(ctx)) out.push(...runsOfLine(ctx, l, minNotes));
  return out;
}

function runsOfLine(ctx: DetectContext, l: readonly OnsetGroup[], minNotes: number): Run[] {
  const out: Run[] = [];
  let i = 0;
  while (i + 1 < l.length) {
    const dir = Math.sign(l[i + 1].pitches[0] - l[i].pitches[0]);
    let j = i;
    while (
      j + 1 < l.length &&
      isStep(l[j + 1].pitches[0] - l[j].pitches[0], dir) &&
      quick(ctx, l[j + 1].onset - l[j].onset, l[j].onset) &&
      evenOnsets(l, i, j + 1, 2.1)
    )
      j++;
    if (j - i + 1 >= minNotes) {
      const steps: number[] = [];
      for (let k = i + 1; k <= j; k++) steps.push(l[k].pitches[0] - l[k - 1].pitches[0]);
      out.push({ span: runSpan(l, i, j), steps });
    }
    i = Math.max(i + 1, j);
  }
  return out;
}

function isStep(d: number, dir: number): boolean {
  return dir !== 0 && Math.sign(d) === dir && Math.abs(d) <= 2;
}
