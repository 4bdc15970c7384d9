import { eachHand, quick, type DetectContext } from './context.ts';
import { evenOnsets, mergeSpans, runSpan, type OnsetGroup } from './notes.ts';
import type { Span } from './types.ts';

/**
 * Alberti bass: a triad broken as low, high, middle, high (C G E G) in single notes of equal value,
 * at least two such figures in a row, without a pause between them, in one hand (usually the
 * left). The figure's notes are quick (at most half a beat apart) and lie within a tenth.
 */
export function detectAlberti(ctx: DetectContext): Span[] {
  const spans: Span[] = [];
  for (const groups of eachHand(ctx)) {
    for (let i = 0; i + 3 < groups.length; i++) {
      if (!isFigure(ctx, groups, i)) continue;
      let k = i;
      while (isFigure(ctx, groups, k + 4) && evenOnsets(groups, k, k + 5, 1.3)) k += 4;
      if (k > i) spans.push(runSpan(groups, i, k + 3));
      i = k + 3;
    }
  }
  return mergeSpans(spans);
}

function isFigure(ctx: DetectContext, g: readonly OnsetGroup[], i: number): boolean {
  if (i + 3 >= g.length) return false;
  const four = g.slice(i, i + 4);
  if (four.some((x) => x.pitches.length !== 1)) return false;
  const [lo, hi, mid, hi2] = four.map((x) => x.pitches[0]);
  if (!(lo < mid && mid < hi && hi === hi2 && hi - lo <= 16)) return false;
  return evenOnsets(g, i, i + 3, 1.3) && quick(ctx, g[i + 1].onset - g[i].onset, g[i].onset);
}
