import { eachLine, type DetectContext } from './context.ts';
import { alternations } from './alternation.ts';
import { mergeSpans } from './notes.ts';
import type { Span } from './types.ts';

/**
 * Trills: a note and its upper or lower neighbour (a semitone or a tone) alternating fast, at
 * least six attacks (three of each), in the top or bottom line of a hand. Only trills written out
 * in notes are seen; a trill sign that a score MIDI does not play is invisible to it.
 */
export const MIN_TRILL_ATTACKS = 6;

export function detectTrills(ctx: DetectContext): Span[] {
  const spans: Span[] = [];
  for (const l of eachLine(ctx))
    spans.push(
      ...alternations(ctx, l, MIN_TRILL_ATTACKS, (a, b) => {
        const d = Math.abs(a.pitches[0] - b.pitches[0]);
        return d === 1 || d === 2;
      }),
    );
  return mergeSpans(spans);
}
