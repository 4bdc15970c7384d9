import { fast, type DetectContext } from './context.ts';
import { runSpan, type OnsetGroup } from './notes.ts';
import type { Span } from './types.ts';

/**
 * Rapid alternation of two attacks, shared by trills (two neighbouring notes) and tremolos (two
 * notes or chords a third or more apart): at least `minAttacks` fast attacks (at most a quarter
 * of a beat or 0.15 s apart) going A B A B ..., where `pair` accepts the two attacks.
 */
export function alternations(
  ctx: DetectContext,
  groups: readonly OnsetGroup[],
  minAttacks: number,
  pair: (a: OnsetGroup, b: OnsetGroup) => boolean,
): Span[] {
  const out: Span[] = [];
  let i = 0;
  while (i + 1 < groups.length) {
    if (!pair(groups[i], groups[i + 1]) || !fastGap(ctx, groups, i)) {
      i++;
      continue;
    }
    let j = i + 1;
    while (
      j + 1 < groups.length &&
      samePitches(groups[j + 1], groups[j - 1]) &&
      fastGap(ctx, groups, j)
    )
      j++;
    if (j - i + 1 >= minAttacks) out.push(runSpan(groups, i, j));
    i = j;
  }
  return out;
}

function fastGap(ctx: DetectContext, g: readonly OnsetGroup[], i: number): boolean {
  return fast(ctx, g[i + 1].onset - g[i].onset, g[i].onset);
}

export function samePitches(a: OnsetGroup, b: OnsetGroup): boolean {
  return a.pitches.length === b.pitches.length && a.pitches.every((p, k) => p === b.pitches[k]);
}
