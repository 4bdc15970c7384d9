import jstatModule from 'jstat';

const { jStat } = jstatModule;

/**
 * Decided verdicts: three outcomes per cell (significant, not significant, undecided) with a bounded
 * risk that more random concepts would reverse a decision.
 *
 * The p-value a cell estimates. A cell's statistic x is the concept's effect (its mean over the
 * concept's runs); its null is the distribution F of the same statistic over random concepts of the
 * concept's size, drawn from the run's pool and bank of counterexample sets (layer.ts). The p-value
 * the test is after is that of a null known exactly,
 *   p* = 2 Phi(-|x - mu| / sigma),   mu, sigma the mean and standard deviation of F,
 * the two-sided normal tail (over 1000 random concepts the effects have skewness within +-0.16 and
 * excess kurtosis within +-0.35: docs/method.md). A run sees only M draws from F, so its p-value is
 * an estimate, and a cell near its line falls on either side depending on which random concepts
 * were drawn. That is the Monte Carlo error this file bounds, as Gandy (JASA 2009) does for one
 * Monte Carlo test: the resampling risk of a decision is the probability that it differs from the
 * decision p* would give.
 *
 * Why an interval on p* and not a count of exceedances. Gandy's p-value is the share of null draws
 * at least as extreme as x; with Holm over the 64 cells of an ASAP run the smallest p-value must be
 * decided against 0.05/64, and a count needs about 17,000 draws per null before it can say
 * "below 0.0008" at a resampling risk of 0.001 (no exceedance in n draws bounds p by ln(1/delta)/n).
 * The normal form needs the null's mean and spread only, estimated to the needed precision with a
 * few thousand draws.
 *
 * The interval. From M draws with mean m, standard deviation s and kurtosis k:
 *   mu in m +- c s / sqrt(M),   sigma in s (1 +- c sqrt((k - 1) / (4M)))   (delta method for s),
 * each at level delta/2 (c = Phi^-1(1 - delta/4)); |z| = |x - mu| / sigma then lies in
 * [(|x - m| - c s/sqrt(M)) / sigma_hi, (|x - m| + c s/sqrt(M)) / sigma_lo], and p* in the
 * interval of the tails of those bounds. These are large-sample intervals (M >= 500 here).
 *
 * The family (Gandy and Hahn, MMCTest, Scand. J. Stat. 2014). Holm's procedure is monotone: lower
 * p-values never turn a rejection into an acceptance. So if every cell's p* lies in its interval,
 * Holm applied to the upper ends rejects a subset of what Holm on the p*'s rejects, and Holm on
 * the lower ends a superset. A cell rejected by Holm on the upper ends is decided significant; a
 * cell not rejected by Holm on the lower ends is decided not significant; the others are open and
 * get more random concepts (their nulls are doubled), up to a budget, after which they are
 * reported as undecided with their interval. Each interval is built at level
 * delta = epsilon / (cells x steps) (steps: the doublings the budget allows), so by the union bound
 * all of them hold at once with probability at least 1 - epsilon, and then every decided cell has
 * the outcome Holm would give on the p*'s.
 *
 * The guarantee, precisely: given the run's draws other than the random concepts (the pool, the
 * bank of counterexample sets, the concept's own runs, the target excerpts), the probability that
 * any decided cell of the family differs from Holm's decision on the p*'s is at most epsilon (the
 * resampling risk, default 0.001), up to the large-sample approximation of the intervals. It says
 * nothing about the draws it conditions on: a rerun with another seed redraws them too, and how
 * far that moves a cell is measured, not bounded (bench/stability.ts, docs/method.md).
 */
export type Outcome = 'significant' | 'not significant' | 'undecided';

export interface PInterval {
  /** Point estimate of p* from the draws. */
  p: number;
  /** The interval for p* at the level asked for. */
  low: number;
  high: number;
  /** The estimated z = (x - m) / s. */
  z: number;
}

/**
 * Two-sided normal tail 2 Phi(-|z|) = erfc(|z| / sqrt 2), with a relative error below 1.2e-7 far
 * into the tail (jStat's normal CDF returns 0 beyond |z| of about 8, where Holm still compares).
 */
export function twoSided(z: number): number {
  if (!Number.isFinite(z)) return Number.isNaN(z) ? 1 : 0;
  return Math.min(1, erfc(Math.abs(z) / Math.SQRT2));
}

/** erfc(x) for x >= 0 (Numerical Recipes' Chebyshev fit, fractional error < 1.2e-7). */
function erfc(x: number): number {
  const t = 1 / (1 + 0.5 * x);
  return (
    t *
    Math.exp(
      -x * x -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t *
                              (-1.13520398 +
                                t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    )
  );
}

/** The interval for p* of a statistic x against M null draws, at level delta (see above). */
export function pInterval(x: number, draws: ArrayLike<number>, delta: number): PInterval {
  const M = draws.length;
  if (M < 3) throw new Error(`pInterval: at least 3 null draws are needed, got ${M}`);
  let mean = 0;
  for (let i = 0; i < M; i++) mean += draws[i];
  mean /= M;
  let m2 = 0;
  let m4 = 0;
  for (let i = 0; i < M; i++) {
    const d = draws[i] - mean;
    m2 += d * d;
    m4 += d * d * d * d;
  }
  const variance = m2 / (M - 1);
  const s = Math.sqrt(variance);
  const gap = Math.abs(x - mean);
  if (!(s > 0)) {
    const p = gap === 0 ? 1 : 0;
    return { p, low: p, high: p, z: gap === 0 ? 0 : Math.sign(x - mean) * Infinity };
  }
  const kurtosis = m4 / M / (m2 / M) ** 2;
  const c = jStat.normal.inv(1 - delta / 4, 0, 1);
  const meanHalf = (c * s) / Math.sqrt(M);
  const sdHalf = c * Math.sqrt(Math.max(kurtosis - 1, 0.5) / (4 * M));
  const sigmaHigh = s * (1 + sdHalf);
  const sigmaLow = s * (1 - sdHalf);
  const zLow = Math.max(0, gap - meanHalf) / sigmaHigh;
  const zHigh = sigmaLow > 0 ? (gap + meanHalf) / sigmaLow : Infinity;
  const z = (x - mean) / s;
  return { p: twoSided(z), low: twoSided(zHigh), high: twoSided(zLow), z };
}

/** Indices Holm's step-down procedure rejects at level alpha. */
export function holmRejects(pValues: readonly number[], alpha: number): Set<number> {
  const m = pValues.length;
  const order = pValues.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Set<number>();
  for (const [rank, [p, i]] of order.entries()) {
    if (p * (m - rank) >= alpha) break;
    out.add(i);
  }
  return out;
}

/**
 * MMCTest's classification of a family under Holm from intervals of its p-values: significant
 * where Holm rejects even the upper ends, not significant where it keeps even the lower ends.
 */
export function classify(
  intervals: readonly { low: number; high: number }[],
  alpha: number,
): Outcome[] {
  const sure = holmRejects(
    intervals.map((i) => i.high),
    alpha,
  );
  const possible = holmRejects(
    intervals.map((i) => i.low),
    alpha,
  );
  return intervals.map((_, i) =>
    sure.has(i) ? 'significant' : possible.has(i) ? 'undecided' : 'not significant',
  );
}

/** The doublings from `first` random concepts that stay within `budget` (the schedule's steps). */
export function schedule(first: number, budget: number): number[] {
  const out = [Math.min(first, budget)];
  while (out[out.length - 1] < budget) out.push(Math.min(budget, out[out.length - 1] * 2));
  return out;
}
