import type {
  AttackedExcerpt,
  AttackSearch,
  PairMedian,
  RobustnessCurve,
} from '../results/attack.ts';

/**
 * Robust accuracy against the budget. `total` is every excerpt drawn (the misclassified ones are
 * wrong at any budget); `attacked` are the correctly classified ones, each with its outcome.
 */
export function robustnessCurve(
  search: AttackSearch,
  attacked: readonly AttackedExcerpt[],
  total: number,
  budgets: readonly number[],
  shares: readonly number[],
  seconds: number,
): RobustnessCurve {
  const needed = attacked.map((a) => {
    const o = a.outcomes[search];
    return o?.success ? o.edits : Infinity;
  });
  const successes = needed.filter(Number.isFinite);
  const byEdits = budgets.map((budget) => {
    const broken = needed.filter((n) => n <= budget).length;
    return {
      budget,
      robustAccuracy: total ? (attacked.length - broken) / total : 0,
      attackSuccess: attacked.length ? broken / attacked.length : 0,
    };
  });
  const byShare = shares.map((share) => {
    const broken = attacked.filter((a, i) => needed[i] <= share * a.notes).length;
    return { share, robustAccuracy: total ? (attacked.length - broken) / total : 0 };
  });
  return {
    search,
    byEdits,
    byShare,
    medianEdits: successes.length ? median(successes) : null,
    meanEdits: successes.length ? successes.reduce((a, b) => a + b, 0) / successes.length : null,
    seconds,
  };
}

/** Median edits of the successful attacks per (true composer -> new composer). */
export function pairMedians(
  search: AttackSearch,
  attacked: readonly AttackedExcerpt[],
): PairMedian[] {
  const groups = new Map<string, { from: string; to: string; edits: number[] }>();
  for (const a of attacked) {
    const o = a.outcomes[search];
    if (!o?.success) continue;
    const key = `${a.composer}\u0000${o.predicted}`;
    if (!groups.has(key)) groups.set(key, { from: a.composer, to: o.predicted, edits: [] });
    groups.get(key)!.edits.push(o.edits);
  }
  return [...groups.values()]
    .map((g) => ({
      search,
      from: g.from,
      to: g.to,
      count: g.edits.length,
      medianEdits: median(g.edits),
    }))
    .sort((a, b) => a.from.localeCompare(b.from) || b.count - a.count || a.to.localeCompare(b.to));
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
