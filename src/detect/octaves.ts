import { eachHand, type DetectContext } from './context.ts';
import { mergeSpans, pitchClasses, runSpan, type OnsetGroup } from './notes.ts';
import type { Span } from './types.ts';

/**
 * Octaves: a line doubled at the octave. An attack is an octave when all its notes share one
 * pitch class (an octave, or a double octave) and it has at least two notes. Three such attacks in
 * a row, in one hand (octaves in the right or left hand) or over both hands together (the hands in
 * octaves or unison), make an octave passage; repeated octaves count.
 */
export const MIN_OCTAVE_RUN = 3;

export function detectOctaves(ctx: DetectContext): Span[] {
  const spans: Span[] = [];
  for (const groups of [...eachHand(ctx), ctx.all]) spans.push(...octaveRuns(groups));
  return mergeSpans(spans);
}

function isOctave(g: OnsetGroup): boolean {
  return g.pitches.length >= 2 && pitchClasses(g.pitches).length === 1;
}

function octaveRuns(groups: readonly OnsetGroup[]): Span[] {
  const out: Span[] = [];
  let i = 0;
  while (i < groups.length) {
    if (!isOctave(groups[i])) {
      i++;
      continue;
    }
    let j = i;
    while (j + 1 < groups.length && isOctave(groups[j + 1])) j++;
    if (j - i + 1 >= MIN_OCTAVE_RUN) out.push(runSpan(groups, i, j));
    i = j + 1;
  }
  return out;
}
