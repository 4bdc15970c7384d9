import jstatModule from 'jstat';
import { mean, sampleStandardDeviation } from 'simple-statistics';

const { jStat } = jstatModule;

/**
 * The tests TCAV needs: Welch's two-sample t-test (concept scores against random-vs-random scores;
 * the two sets need not share a variance) and Holm's step-down correction for the many tests of a
 * run. The t distribution's CDF comes from jStat; the rest is a few lines of arithmetic.
 */
export interface TTest {
  t: number;
  df: number;
  /** Two-sided p-value. */
  p: number;
}

export function welchTTest(a: readonly number[], b: readonly number[]): TTest {
  if (a.length < 2 || b.length < 2)
    throw new Error('welchTTest: each sample needs at least 2 values');
  const va = sampleStandardDeviation(a as number[]) ** 2 / a.length;
  const vb = sampleStandardDeviation(b as number[]) ** 2 / b.length;
  const diff = mean(a as number[]) - mean(b as number[]);
  const se = Math.sqrt(va + vb);
  if (se === 0)
    return {
      t: diff === 0 ? 0 : Math.sign(diff) * Infinity,
      df: a.length + b.length - 2,
      p: diff === 0 ? 1 : 0,
    };
  const t = diff / se;
  const df = (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1));
  const p = Math.min(1, 2 * (1 - jStat.studentt.cdf(Math.abs(t), df)));
  return { t, df, p };
}

/**
 * Is one new value `x` drawn from the distribution that the sample `b` comes from? Student's t
 * with the prediction-interval standard error s_b * sqrt(1 + 1/n), n - 1 degrees of freedom:
 * the same as a pooled two-sample t-test of [x] against b (scipy's ttest_ind([x], b)).
 */
export function predictionTest(x: number, b: readonly number[]): TTest {
  if (b.length < 2) throw new Error('predictionTest: the sample needs at least 2 values');
  const sd = sampleStandardDeviation(b as number[]);
  const diff = x - mean(b as number[]);
  const df = b.length - 1;
  if (sd === 0)
    return { t: diff === 0 ? 0 : Math.sign(diff) * Infinity, df, p: diff === 0 ? 1 : 0 };
  const t = diff / (sd * Math.sqrt(1 + 1 / b.length));
  return { t, df, p: Math.min(1, 2 * (1 - jStat.studentt.cdf(Math.abs(t), df))) };
}

/** Holm-Bonferroni adjusted p-values (same order as the input); reject where adjusted < alpha. */
export function holm(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => [p, i] as const).sort((x, y) => x[0] - y[0]);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach(([p, i], rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    adjusted[i] = running;
  });
  return adjusted;
}

export function meanStd(xs: readonly number[]): { mean: number; std: number } {
  if (xs.length === 0) return { mean: NaN, std: NaN };
  return {
    mean: mean(xs as number[]),
    std: xs.length > 1 ? sampleStandardDeviation(xs as number[]) : 0,
  };
}
