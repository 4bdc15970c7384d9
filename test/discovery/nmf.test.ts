import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nmf, nmfTransform } from '../../src/discovery/nmf.ts';
import { Rng } from '../../src/util/random.ts';

// Expected values: scikit-learn NMF(solver='mu'), from training/fixtures/make_discovery_fixtures.py.
const f = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', 'fixtures', 'discovery', 'nmf.json'), 'utf8'),
);

const cd = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', 'fixtures', 'discovery', 'nmf-cd.json'), 'utf8'),
);

describe('nmf', () => {
  it('hals follows scikit-learn coordinate descent (solver=cd, no shuffle) from the same start', () => {
    const r = nmf(Float64Array.from(cd.V), cd.n, cd.m, cd.k, {
      init: { W: Float64Array.from(cd.W0), H: Float64Array.from(cd.H0) },
      maxIterations: cd.iterations,
      tolerance: -1,
      solver: 'hals',
    });
    expect(r.iterations).toBe(cd.iterations);
    const maxW = Math.max(...cd.W);
    const maxH = Math.max(...cd.H);
    r.W.forEach((v, i) => expect(Math.abs(v - cd.W[i]) / maxW).toBeLessThan(1e-6));
    r.H.forEach((v, i) => expect(Math.abs(v - cd.H[i]) / maxH).toBeLessThan(1e-6));
    expect(r.relativeError).toBeCloseTo(cd.relativeError, 8);
  });

  it('hals reaches the error of mu on the same data in fewer iterations', () => {
    const start = { W: Float64Array.from(f.W0), H: Float64Array.from(f.H0) };
    const mu = nmf(Float64Array.from(f.V), f.n, f.m, f.k, { init: start, maxIterations: 500 });
    const hals = nmf(Float64Array.from(f.V), f.n, f.m, f.k, {
      init: start,
      maxIterations: 500,
      solver: 'hals',
    });
    expect(hals.iterations).toBeLessThan(mu.iterations);
    expect(hals.relativeError).toBeLessThan(mu.relativeError * 1.01);
  });

  it('follows scikit-learn multiplicative updates from the same start', () => {
    const r = nmf(Float64Array.from(f.V), f.n, f.m, f.k, {
      init: { W: Float64Array.from(f.W0), H: Float64Array.from(f.H0) },
      maxIterations: f.iterations,
      tolerance: -1,
    });
    expect(r.iterations).toBe(f.iterations);
    const maxW = Math.max(...f.W);
    r.W.forEach((v, i) => expect(Math.abs(v - f.W[i]) / maxW).toBeLessThan(1e-4));
    r.H.forEach((v, i) => expect(v).toBeCloseTo(f.H[i], 4));
    expect(r.relativeError).toBeCloseTo(f.relativeError, 6);
  });

  it('recovers an exactly factorisable matrix (closed form: error -> 0), non-negative', () => {
    const rng = new Rng(5);
    const [n, m, k] = [40, 12, 3];
    const W0 = Float64Array.from({ length: n * k }, () => rng.next());
    const H0 = Float64Array.from({ length: k * m }, () => (rng.next() < 0.5 ? 0 : rng.next()));
    const V = new Float64Array(n * m);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < m; j++)
        for (let a = 0; a < k; a++) V[i * m + j] += W0[i * k + a] * H0[a * m + j];
    const r = nmf(V, n, m, k, { seed: 1, maxIterations: 2000, tolerance: 1e-9 });
    expect(r.relativeError).toBeLessThan(0.02);
    expect([...r.W, ...r.H].every((v) => v >= 0)).toBe(true);
    // Transforming the same rows with the learnt H gives (nearly) the same reconstruction.
    const W = nmfTransform(V, n, r.H, k, m, 500);
    let err = 0;
    let norm = 0;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < m; j++) {
        let s = 0;
        for (let a = 0; a < k; a++) s += W[i * k + a] * r.H[a * m + j];
        err += (V[i * m + j] - s) ** 2;
        norm += V[i * m + j] ** 2;
      }
    expect(Math.sqrt(err / norm)).toBeLessThan(0.05);
  });
});
