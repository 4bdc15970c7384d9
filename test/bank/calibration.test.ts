/**
 * The calibration arithmetic against scikit-learn (test/fixtures/calibration/make.py wrote the
 * expected values): Platt scaling (unpenalised logistic regression), ROC AUC with ties,
 * precision and recall at "present"; and the localisation cut on hand-made cases.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  calibrate,
  chooseThreshold,
  fitPlatt,
  precisionRecall,
  probability,
  rankInWords,
  rocAuc,
} from '../../src/bank/calibration.ts';

interface Case {
  x: number[];
  y: boolean[];
  a: number;
  b: number;
  auc: number;
  threshold: number;
  precision: number;
  recall: number;
}
const cases: Case[] = JSON.parse(
  readFileSync(join(import.meta.dirname, '../fixtures/calibration/cases.json'), 'utf8'),
);

describe('calibration', () => {
  it('fits the same logistic curve as scikit-learn', () => {
    for (const c of cases) {
      const p = fitPlatt(c.x, c.y)!;
      expect(p.a).toBeCloseTo(c.a, 5);
      expect(p.b).toBeCloseTo(c.b, 5);
    }
  });

  it('gives the ROC AUC, precision and recall of scikit-learn', () => {
    for (const c of cases) {
      expect(rocAuc(c.x, c.y)).toBeCloseTo(c.auc, 12);
      const p = fitPlatt(c.x, c.y)!;
      const pr = precisionRecall(
        c.x.map((x) => probability(p, x) >= c.threshold),
        c.y,
      );
      expect(pr.precision).toBeCloseTo(c.precision, 12);
      expect(pr.recall).toBeCloseTo(c.recall, 12);
    }
  });

  it('has nothing to fit when one label is missing', () => {
    expect(fitPlatt([1, 2, 3], [false, false, false])).toBeUndefined();
    expect(rocAuc([1, 2], [true, true])).toBeNaN();
  });

  it('chooses the threshold that maximises F0.5 on the given windows (hand-worked)', () => {
    // Sorted down: 0.9 T, 0.8 T, 0.7 F, 0.6 T, 0.1 F. F0.5 at >=0.8: P 1, R 2/3 -> 0.909;
    // at >=0.6: P 3/4, R 1 -> 0.789. Best: 0.8.
    expect(chooseThreshold([0.9, 0.8, 0.7, 0.6, 0.1], [true, true, false, true, false])).toBe(0.8);
  });

  it('marks a direction that separates held-out windows as localising, one that does not as not', () => {
    const pieces = Array(200).fill('p');
    const x = [...Array(200).keys()].map((i) => i / 10);
    const y = x.map((v) => v >= 10);
    const good = calibrate(
      'octaves',
      { projections: x, labels: y, pieces },
      { projections: x, labels: y, pieces },
    )!;
    expect(good.localises).toBe(true);
    expect(good.heldOut.auc).toBe(1);
    // Held-out labels unrelated to the projection (alternating): AUC about 0.5.
    const noise = x.map((_, i) => i % 2 === 0);
    const bad = calibrate(
      'octaves',
      { projections: x, labels: y, pieces },
      { projections: x, labels: noise, pieces },
    )!;
    expect(bad.localises).toBe(false);
    expect(bad.reason).toMatch(/held-out AUC 0\.\d\d < 0\.9/);
  });

  it('says a rank in words', () => {
    expect(rankInWords(0.873)).toBe('ranks above 87% of corpus windows');
  });
});
