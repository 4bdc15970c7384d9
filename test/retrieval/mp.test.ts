import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { distances, meanRow, prepareVectors } from '../../src/retrieval/distance.ts';
import { kOccurrence, skewness, summarizeKOccurrence } from '../../src/retrieval/hubness.ts';
import { empiricalMp, gaussianMp } from '../../src/retrieval/mp.ts';
import { Profiles, referenceSample } from '../../src/retrieval/profiles.ts';
import { scaledNeighbours, scaledRow } from '../../src/retrieval/scaled.ts';
import { SCALINGS, type Metric, type Scaling } from '../../src/retrieval/types.ts';
import { Rng } from '../../src/util/random.ts';

// Expected values: training/fixtures/make_retrieval_fixtures.py (NumPy and SciPy, from the
// definitions of Mutual Proximity and k-occurrence).
interface Case {
  name: string;
  metric: Metric;
  n: number;
  dims: number;
  vectors: number[];
  queries: number[];
  distances: number[];
  queryDistances: number[];
  mean: number[];
  std: number[];
  mpEmpirical: number[];
  mpGaussian: number[];
  queryMpEmpirical: number[];
  queryMpGaussian: number[];
  k: number;
  hubness: Record<
    Scaling,
    {
      neighbours: number[][];
      counts: number[];
      skewness: number;
      hubShare: number;
      antiHubShare: number;
    }
  >;
}
const fixture = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', 'fixtures', 'retrieval', 'mp.json'), 'utf8'),
) as { cases: Case[]; skewness: { values: number[]; skewness: number }[] };

/** Profiles of every corpus point from the fixture's distance matrix, with complete near lists. */
function corpusProfiles(c: Case, near = c.n) {
  const D = Float32Array.from(c.distances);
  const rows = [...Array(c.n).keys()].map((i) => D.subarray(i * c.n, (i + 1) * c.n));
  const reference = referenceSample(c.n, c.n, () => 0);
  const profiles = new Profiles(c.n, { near, levels: 16 });
  rows.forEach((row, i) => profiles.setFromRow(i, row, i, reference));
  return { rows, profiles, reference };
}

describe.each(fixture.cases)('Mutual Proximity against NumPy ($name)', (c) => {
  const { rows, profiles, reference } = corpusProfiles(c);

  it('computes the distances from the vectors (Gemm) as NumPy does', async () => {
    const data = Float32Array.from(c.vectors);
    const x = prepareVectors(data, c.n, c.dims, c.metric, meanRow(data, c.n, c.dims));
    const D = await distances(x, x);
    // float32 inner products: near-duplicates (3 and 7, 0.005 apart) carry the largest error.
    for (let i = 0; i < c.n; i++)
      for (let j = 0; j < c.n; j++)
        if (i !== j) expect(Math.abs(D[i * c.n + j] - c.distances[i * c.n + j])).toBeLessThan(2e-4);
  });

  it('gives each point the mean and spread of its distances to the others', () => {
    for (let i = 0; i < c.n; i++) {
      expect(profiles.mean[i]).toBeCloseTo(c.mean[i], 10);
      expect(profiles.std[i]).toBeCloseTo(c.std[i], 10);
    }
  });

  it('matches empirical and Gaussian MP for every corpus pair', () => {
    let checked = 0;
    for (let i = 0; i < c.n; i++) {
      const owner = { row: rows[i], profiles, at: i, self: i };
      for (let j = 0; j < c.n; j++) {
        if (i === j) continue;
        expect(1 - empiricalMp(owner, j, profiles)).toBeCloseTo(c.mpEmpirical[i * c.n + j], 12);
        expect(1 - gaussianMp(rows[i][j], profiles, i, profiles, j)).toBeCloseTo(
          c.mpGaussian[i * c.n + j],
          9,
        );
        checked++;
      }
    }
    expect(checked).toBe(c.n * (c.n - 1));
  });

  it('matches MP of queries from outside the corpus', () => {
    const m = c.queryDistances.length / c.n;
    const qp = new Profiles(m, profiles.shape);
    for (let q = 0; q < m; q++) {
      const row = Float32Array.from(c.queryDistances.slice(q * c.n, (q + 1) * c.n));
      qp.setFromRow(q, row, -1, reference);
      const owner = { row, profiles: qp, at: q, self: -1 };
      const emp = scaledRow(owner, profiles, 'mp-empirical');
      const gau = scaledRow(owner, profiles, 'mp-gaussian');
      for (let j = 0; j < c.n; j++) {
        expect(emp[j]).toBeCloseTo(c.queryMpEmpirical[q * c.n + j], 12);
        expect(gau[j]).toBeCloseTo(c.queryMpGaussian[q * c.n + j], 9);
      }
    }
  });

  it.each(SCALINGS)('finds the same k-nearest lists and k-occurrence (%s)', (scaling) => {
    const expected = c.hubness[scaling];
    const width = c.k;
    const lists = new Int32Array(c.n * width);
    for (let i = 0; i < c.n; i++) {
      const top = scaledNeighbours(
        { row: rows[i], profiles, at: i, self: i },
        profiles,
        scaling,
        c.k,
      );
      expect([...top.ids]).toEqual(expected.neighbours[i]);
      lists.set(top.ids, i * width);
    }
    const counts = kOccurrence(lists, c.n, width, c.k);
    expect([...counts]).toEqual(expected.counts);
    const summary = summarizeKOccurrence(counts, c.k);
    expect(summary.skewness).toBeCloseTo(expected.skewness, 10);
    expect(summary.hubShare).toBeCloseTo(expected.hubShare, 12);
    expect(summary.antiHubShare).toBeCloseTo(expected.antiHubShare, 12);
  });
});

describe('k-occurrence skewness against scipy.stats.skew', () => {
  it.each(fixture.skewness)('skewness of $values.length values', ({ values, skewness: s }) => {
    expect(skewness(values)).toBeCloseTo(s, 10);
  });
  it('calls constant data unskewed (scipy returns nan there)', () => {
    expect(skewness([5, 5, 5, 5])).toBe(0);
  });
});

describe('empirical MP with short nearest lists (the approximation used for large corpora)', () => {
  // 400 points with hubs (a dense core in 60 dimensions); nearest lists of 40 and quantiles of a
  // 100-point reference sample against the exact definition, computed here by brute force.
  const n = 400;
  const dims = 60;
  const rng = new Rng('mp-approximation');
  const data = Float32Array.from({ length: n * dims }, (_, e) =>
    Math.floor(e / dims) % 3 === 0 ? 0.4 * rng.normal() : rng.normal(),
  );
  const rows: Float32Array[] = [];
  const reference = referenceSample(n, 100, () => rng.next());
  const exactProfiles = new Profiles(n, { near: n, levels: 32 });
  const shortProfiles = new Profiles(n, { near: 40, levels: 32 });

  it('builds the profiles', async () => {
    const x = prepareVectors(data, n, dims, 'euclidean');
    const D = await distances(x, x);
    for (let i = 0; i < n; i++) {
      rows.push(D.subarray(i * n, (i + 1) * n));
      exactProfiles.setFromRow(
        i,
        rows[i],
        i,
        referenceSample(n, n, () => 0),
      );
      shortProfiles.setFromRow(i, rows[i], i, reference);
    }
  });

  it('is exact wherever the pair lies within the nearest lists, roughly right elsewhere', () => {
    let exactPairs = 0;
    let maxApproxError = 0;
    let sumApproxError = 0;
    let approxPairs = 0;
    for (let i = 0; i < n; i += 7) {
      const owner = (p: Profiles) => ({ row: rows[i], profiles: p, at: i, self: i });
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        const exact = empiricalMp(owner(exactProfiles), j, exactProfiles);
        const approx = empiricalMp(owner(shortProfiles), j, shortProfiles);
        if (shortProfiles.covers(i, rows[i][j]) && shortProfiles.covers(j, rows[i][j])) {
          expect(approx).toBe(exact);
          exactPairs++;
        } else {
          sumApproxError += Math.abs(approx - exact);
          approxPairs++;
          maxApproxError = Math.max(maxApproxError, Math.abs(approx - exact));
        }
      }
    }
    expect(exactPairs).toBeGreaterThan(100);
    // Beyond the lists the share of common neighbours is estimated as if independent: far pairs
    // (MP well below what decides a neighbour) carry errors of a few hundredths.
    expect(sumApproxError / approxPairs).toBeLessThan(0.1);
    expect(maxApproxError).toBeLessThan(0.3);
  });

  it('keeps most of the exact 10 nearest, and pruning changes nothing', () => {
    let overlap = 0;
    let lists = 0;
    for (let i = 0; i < n; i += 3) {
      const exact = scaledNeighbours(
        { row: rows[i], profiles: exactProfiles, at: i, self: i },
        exactProfiles,
        'mp-empirical',
        10,
      );
      const owner = { row: rows[i], profiles: shortProfiles, at: i, self: i };
      const approx = scaledNeighbours(owner, shortProfiles, 'mp-empirical', 10);
      // Pruned search = full scan of the same secondary distances.
      const full = scaledRow(owner, shortProfiles, 'mp-empirical');
      const order = [...Array(n).keys()]
        .filter((j) => j !== i)
        .sort((a, b) => full[a] - full[b] || rows[i][a] - rows[i][b] || a - b)
        .slice(0, 10);
      expect([...approx.ids]).toEqual(order);
      const gauss = scaledNeighbours(owner, shortProfiles, 'mp-gaussian', 10);
      const gFull = scaledRow(owner, shortProfiles, 'mp-gaussian');
      const gOrder = [...Array(n).keys()]
        .filter((j) => j !== i)
        .sort((a, b) => gFull[a] - gFull[b] || rows[i][a] - rows[i][b] || a - b)
        .slice(0, 10);
      expect([...gauss.ids]).toEqual(gOrder);
      overlap += [...approx.ids].filter((j) => exact.ids.includes(j)).length;
      lists += 10;
    }
    expect(overlap / lists).toBeGreaterThan(0.9);
  });
});
