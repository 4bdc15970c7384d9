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

/**
 * Two models attacked on the same excerpts: on the excerpts both classify correctly, the edits each
 * needed (an attack that failed within the budget counts as budget + 1, a lower bound), how often
 * each needed fewer, and an exact two-sided sign test of "neither needs fewer more often".
 */
export interface PairedComparison {
  excerpts: number;
  meanA: number;
  meanB: number;
  medianA: number;
  medianB: number;
  /** Excerpts where A needed fewer edits than B (A less robust), more, and as many. */
  aFewer: number;
  bFewer: number;
  ties: number;
  pSign: number;
}

export function pairedComparison(
  a: readonly AttackedExcerpt[],
  b: readonly AttackedExcerpt[],
  search: AttackSearch,
  budget: number,
): PairedComparison {
  const needed = (x: AttackedExcerpt) => {
    const o = x.outcomes[search];
    return o?.success ? o.edits : budget + 1;
  };
  const byId = new Map(b.map((x) => [x.id, x]));
  const pairs = a.filter((x) => byId.has(x.id)).map((x) => [needed(x), needed(byId.get(x.id)!)]);
  const na = pairs.map((p) => p[0]);
  const nb = pairs.map((p) => p[1]);
  const aFewer = pairs.filter(([p, q]) => p < q).length;
  const bFewer = pairs.filter(([p, q]) => p > q).length;
  const mean = (v: number[]) => (v.length ? v.reduce((s, x) => s + x, 0) / v.length : NaN);
  return {
    excerpts: pairs.length,
    meanA: mean(na),
    meanB: mean(nb),
    medianA: na.length ? median(na) : NaN,
    medianB: nb.length ? median(nb) : NaN,
    aFewer,
    bFewer,
    ties: pairs.length - aFewer - bFewer,
    pSign: signTest(aFewer, bFewer),
  };
}

/** Exact two-sided sign test: 2 P(X <= min(k, n - k)) for X ~ Binomial(n = wins + losses, 1/2), at most 1. */
export function signTest(wins: number, losses: number): number {
  const n = wins + losses;
  if (n === 0) return 1;
  const k = Math.min(wins, losses);
  // log C(n, i) - n log 2, summed in linear space from the largest term down for accuracy.
  let logTerm = -n * Math.LN2; // i = 0
  let sum = 0;
  for (let i = 0; i <= k; i++) {
    if (i > 0) logTerm += Math.log((n - i + 1) / i);
    sum += Math.exp(logTerm);
  }
  return Math.min(1, 2 * sum);
}
