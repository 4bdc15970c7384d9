import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decision, fitFast, fitLogistic } from '../../src/tcav/cav.ts';
import { balancedAccuracy } from '../../src/tcav/layer.ts';
import { combineRows, gram } from '../../src/tcav/linalg.ts';

// Expected values: scikit-learn LogisticRegression, from training/fixtures/make_tcav_fixtures.py.
const fixture = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', 'fixtures', 'tcav', 'logistic.json'), 'utf8'),
) as {
  cases: {
    name: string;
    n: number;
    d: number;
    C: number;
    x: number[];
    y: number[];
    coef: number[];
    intercept: number;
    held: number[];
    heldDecision: number[];
  }[];
};

describe('gram (onnxruntime Gemm)', () => {
  it('computes inner products of rows', async () => {
    const a = Float32Array.from([1, 2, 3, 0, 1, 0]);
    const b = Float32Array.from([1, 1, 1, 2, 0, -1]);
    // hand-worked: [1,2,3].[1,1,1]=6, [1,2,3].[2,0,-1]=-1, [0,1,0].[1,1,1]=1, [0,1,0].[2,0,-1]=0
    expect(Array.from(await gram(a, 2, b, 2, 3))).toEqual([6, -1, 1, 0]);
  });
});

describe('fitLogistic matches scikit-learn', () => {
  for (const c of fixture.cases) {
    it(`${c.name}: n=${c.n}, d=${c.d}, C=${c.C}`, async () => {
      const x = Float32Array.from(c.x);
      const k = await gram(x, c.n, x, c.n, c.d);
      const fit = fitLogistic(k, c.n, c.y, c.C);
      const w = combineRows(x, c.d, fit.alpha);
      const scale = Math.max(...c.coef.map(Math.abs));
      let maxErr = 0;
      w.forEach((v, i) => (maxErr = Math.max(maxErr, Math.abs(v - c.coef[i]))));
      expect(maxErr / scale).toBeLessThan(1e-3);
      expect(fit.bias).toBeCloseTo(c.intercept, 3);
      const held = Float32Array.from(c.held);
      const cross = await gram(held, 10, x, c.n, c.d);
      decision(fit, cross, 10).forEach((v, i) => expect(v).toBeCloseTo(c.heldDecision[i], 2));
    });
  }
});

// Expected values: numpy, straight from FastCAV's definition (training/fixtures/make_tcav_fixtures.py).
const fast = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', 'fixtures', 'tcav', 'fastcav.json'), 'utf8'),
) as {
  cases: {
    name: string;
    n: number;
    d: number;
    x: number[];
    y: number[];
    w: number[];
    bias: number;
    held: number[];
    heldDecision: number[];
  }[];
};

describe('fitFast matches FastCAV computed with numpy', () => {
  for (const c of fast.cases) {
    it(`${c.name}: n=${c.n}, d=${c.d}`, async () => {
      const x = Float32Array.from(c.x);
      const k = await gram(x, c.n, x, c.n, c.d);
      const fit = fitFast(k, c.n, c.y);
      const w = combineRows(x, c.d, fit.alpha);
      const scale = Math.max(...c.w.map(Math.abs));
      w.forEach((v, i) => expect(Math.abs(v - c.w[i]) / scale).toBeLessThan(1e-5));
      const norm = Math.sqrt(c.w.reduce((a, v) => a + v * v, 0));
      expect(fit.norm / norm).toBeCloseTo(1, 5);
      expect(fit.bias).toBeCloseTo(c.bias, 3);
      const held = Float32Array.from(c.held);
      const cross = await gram(held, 8, x, c.n, c.d);
      decision(fit, cross, 8).forEach((v, i) => expect(v).toBeCloseTo(c.heldDecision[i], 3));
    });
  }

  it('gives no direction when one side is empty', () => {
    const fit = fitFast(Float64Array.from([1, 0, 0, 1]), 2, [1, 1]);
    expect(fit.norm).toBe(0);
  });
});

describe('balancedAccuracy', () => {
  it('scores a classifier that always answers one side at chance, whatever the imbalance', () => {
    // 3 concept rows and 10 random rows, all called "random": raw accuracy 10/13 = 0.77, balanced 0.5.
    const test = [
      ...[0, 1, 2].map((row) => ({ row, label: 1 })),
      ...[...Array(10).keys()].map((row) => ({ row: row + 3, label: 0 })),
    ];
    expect(balancedAccuracy(test, new Array(13).fill(-1))).toBe(0.5);
    // hand-worked: recall 2/3 on the concept, 9/10 on random -> (0.6667 + 0.9) / 2
    const values = [1, 1, -1, 1, ...new Array(9).fill(-1)];
    expect(balancedAccuracy(test, values)).toBeCloseTo((2 / 3 + 0.9) / 2, 12);
  });
});
