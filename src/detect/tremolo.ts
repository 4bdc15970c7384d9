import { eachHand, type DetectContext } from './context.ts';
import { alternations } from './alternation.ts';
import { mergeSpans, type OnsetGroup } from './notes.ts';
import type { Span } from './types.ts';

/**
 * Tremolo: one hand alternating fast between two notes or chords at least a minor third apart
 * (broken octaves, the "murky bass" of the Pathetique, a chord against its bass), at least six
 * attacks (three of each), no other attack of that hand between.
 */
export const MIN_TREMOLO_ATTACKS = 6;

export function detectTremolo(ctx: DetectContext): Span[] {
  const spans: Span[] = [];
  for (const groups of eachHand(ctx))
    spans.push(...alternations(ctx, groups, MIN_TREMOLO_ATTACKS, apart));
  return mergeSpans(spans);
}

function apart(a: OnsetGroup, b: OnsetGroup): boolean {
  const mean = (g: OnsetGroup) => g.pitches.reduce((s, p) => s + p, 0) / g.pitches.length;
  if (a.pitches.some((p) => b.pitches.includes(p))) return false;
  return Math.abs(mean(a) - mean(b)) >= 3;
}
