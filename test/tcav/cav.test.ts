import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decision, fitLogistic } from '../../src/tcav/cav.ts';
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
