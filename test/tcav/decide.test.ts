import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classify, holmRejects, pInterval, schedule, twoSided } from '../../src/tcav/decide.ts';
import { Rng } from '../../src/util/random.ts';

// Expected values from scipy: training/fixtures/make_decide_fixtures.py.
const fixtures = JSON.parse(
  readFileSync(join(import.meta.dirname, 'decide.fixtures.json'), 'utf8'),
) as {
  tails: Record<string, number>;
  interval: { draws: number[]; x: number; delta: number; p: number; low: number; high: number };
};

describe('decided verdicts (decide.ts)', () => {
  it('two-sided normal tails match scipy, far into the tail', () => {
    for (const [z, p] of Object.entries(fixtures.tails))
      expect(twoSided(Number(z)) / p).toBeCloseTo(1, 6);
  });

  it("the interval for the exact null's p-value matches the formula computed with scipy", () => {
    const f = fixtures.interval;
    const iv = pInterval(f.x, f.draws, f.delta);
    expect(iv.p / f.p).toBeCloseTo(1, 6);
    expect(iv.low / f.low).toBeCloseTo(1, 6);
    expect(iv.high / f.high).toBeCloseTo(1, 6);
    expect(iv.low).toBeLessThan(iv.p);
    expect(iv.high).toBeGreaterThan(iv.p);
  });

  it('covers the exact-null p-value at least as often as its level promises (simulated)', () => {
    // Null N(0, 1); x fixed at 3 so p* = 2 Phi(-3). At delta = 0.1 at most 10% may miss.
    const pStar = twoSided(3);
    const rng = new Rng('decide-coverage');
    let misses = 0;
    const trials = 400;
    for (let t = 0; t < trials; t++) {
      const draws = Array.from({ length: 500 }, () => rng.normal());
      const iv = pInterval(3, draws, 0.1);
      if (pStar < iv.low || pStar > iv.high) misses++;
    }
    expect(misses / trials).toBeLessThan(0.1);
    // And the interval is not trivially wide: it excludes p-values a factor of 3 away.
    const iv = pInterval(
      3,
      Array.from({ length: 4000 }, () => rng.normal()),
      0.1,
    );
    expect(iv.high).toBeLessThan(3 * pStar);
    expect(iv.low).toBeGreaterThan(pStar / 3);
  });

  it("Holm's rejections, worked by hand", () => {
    // m = 4, alpha 0.05: thresholds 0.0125, 0.0167, 0.025, 0.05 in order of p.
    expect([...holmRejects([0.01, 0.04, 0.015, 0.3], 0.05)].sort()).toEqual([0, 2]);
    expect([...holmRejects([0.02, 0.001, 0.5, 0.6], 0.05)]).toEqual([1]);
    expect(holmRejects([0.02, 0.03, 0.04, 0.05], 0.05).size).toBe(0);
  });

  it('classifies a family from intervals as MMCTest does: sure, impossible, open', () => {
    // Cell 0 is rejected even at its upper end; cell 3 kept even at its lower end; cell 1's
    // interval straddles its Holm threshold (0.05/3 after cell 0) and stays open.
    const out = classify(
      [
        { low: 0.0001, high: 0.002 },
        { low: 0.01, high: 0.03 },
        { low: 0.2, high: 0.4 },
        { low: 0.5, high: 0.9 },
      ],
      0.05,
    );
    expect(out).toEqual(['significant', 'undecided', 'not significant', 'not significant']);
  });

  it('doubles the null from the first batch up to the budget', () => {
    expect(schedule(1000, 32000)).toEqual([1000, 2000, 4000, 8000, 16000, 32000]);
    expect(schedule(1000, 3000)).toEqual([1000, 2000, 3000]);
    expect(schedule(50, 20)).toEqual([20]);
  });
});
