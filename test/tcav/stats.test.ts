import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { holm, welchTTest } from '../../src/tcav/stats.ts';

// Expected values: scipy.stats.ttest_ind(equal_var=False), from training/fixtures/make_tcav_fixtures.py.
const fixture = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', 'fixtures', 'tcav', 'welch.json'), 'utf8'),
) as {
  tests: { a: number[]; b: number[]; t: number; p: number }[];
};

describe('welchTTest matches scipy', () => {
  fixture.tests.forEach((c, i) => {
    it(`case ${i}`, () => {
      const r = welchTTest(c.a, c.b);
      expect(r.t).toBeCloseTo(c.t, 8);
      expect(Math.abs(r.p - c.p) / Math.max(c.p, 1e-300)).toBeLessThan(1e-6);
    });
  });
  it('handles samples without spread', () => {
    expect(welchTTest([1, 1, 1], [1, 1]).p).toBe(1);
    expect(welchTTest([1, 1, 1], [0, 0]).p).toBe(0);
  });
});

describe('holm', () => {
  it('adjusts a hand-worked example', () => {
    // sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 = 0.04 -> monotone 0.06
    expect(holm([0.01, 0.04, 0.03, 0.005])).toEqual(
      [0.03, 0.06, 0.06, 0.02].map((v) => expect.closeTo(v, 12)),
    );
    // 0.5*2 = 1, then 0.9*1 = 0.9 is raised to 1 to stay monotone
    expect(holm([0.5, 0.9])).toEqual([1, 1]);
  });
});
