import type { DetectContext } from './context.ts';
import { mergeSpans, pitchClasses, runSpan, type OnsetGroup } from './notes.ts';
import type { Span } from './types.ts';

/**
 * Block chords: full chords struck as one, both hands together: an attack of at least four notes
 * on at least three pitch classes (a plain octave or open fifth doubled is not a chord), at least
 * two such attacks in a row with nothing attacked between them. A melody over held chords, or a
 * chord broken into figuration, is not block chords.
 */
export const MIN_CHORD_NOTES = 4;

export function isBlockChord(g: OnsetGroup): boolean {
  return g.pitches.length >= MIN_CHORD_NOTES && pitchClasses(g.pitches).length >= 3;
}

export function detectBlockChords(ctx: DetectContext): Span[] {
  const groups = ctx.all;
  const spans: Span[] = [];
  let i = 0;
  while (i < groups.length) {
    if (!isBlockChord(groups[i])) {
      i++;
      continue;
    }
    let j = i;
    while (j + 1 < groups.length && isBlockChord(groups[j + 1])) j++;
    if (j > i) spans.push(runSpan(groups, i, j));
    i = j + 1;
  }
  return mergeSpans(spans);
}
