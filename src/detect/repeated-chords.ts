import { eachHand, type DetectContext } from './context.ts';
import { mergeSpans, runSpan, type OnsetGroup } from './notes.ts';
import type { Span } from './types.ts';

/**
 * Repeated chords: one hand strikes the same chord (two or more notes, the same pitches) at least
 * three times in a row, with no other attack of that hand between (the Waldstein's pulsing eighths;
 * repeated octaves and double notes count; alternating double notes, as in Schumann's Toccata, do
 * not: the chord must come back unchanged).
 */
export const MIN_REPEATS = 3;

export function detectRepeatedChords(ctx: DetectContext): Span[] {
  const spans: Span[] = [];
  for (const groups of eachHand(ctx)) {
    let i = 0;
    while (i < groups.length) {
      if (groups[i].pitches.length < 2) {
        i++;
        continue;
      }
      let j = i;
      while (j + 1 < groups.length && same(groups[j + 1], groups[i])) j++;
      if (j - i + 1 >= MIN_REPEATS) spans.push(runSpan(groups, i, j));
      i = j + 1;
    }
  }
  return mergeSpans(spans);
}

function same(a: OnsetGroup, b: OnsetGroup): boolean {
  return a.pitches.length === b.pitches.length && a.pitches.every((p, k) => p === b.pitches[k]);
}
