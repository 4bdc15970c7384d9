import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConceptLens } from '../../src/lens/lens.ts';
import type { TcavLayer } from '../../src/tcav/layer.ts';
import { prepareTcavLayer } from '../../src/tcav/run.ts';
import { SYNTHETIC_MODEL } from '../synthetic/helpers.ts';

// The bank of counterexample sets (layer.ts): a random concept's FastCAV runs against bank sets,
// in closed form over the bank's precomputed sums, must give the numbers of the per-run closed
// form over the pool's Gram matrix (fastNullRun), which the run() path was checked against.
interface Internals {
  ensurePoolGram(): Promise<void>;
  bankOfSets(): { sets: Int32Array[] };
  bankRuns(chosen: number[], sets: number[], bank: unknown): number[];
  fastNullRun(plan: {
    train: { row: number; label: number }[];
    test: { row: number; label: number }[];
  }): { mean: number[] };
}

describe('TCAV bank of counterexample sets', () => {
  let lens: ConceptLens;
  let tcav: TcavLayer;
  beforeAll(async () => {
    lens = await ConceptLens.open({ model: SYNTHETIC_MODEL, corpus: 'synthetic', cacheDir: false });
    ({ tcav } = await prepareTcavLayer(lens, 'layer3', {
      targets: ['Albertini', 'Joplinski', 'Kantorius'],
      seed: 5,
      runs: 4,
      setSize: 10,
      targetExcerpts: 8,
      poolSize: 300,
      nullConcepts: 10,
      cav: 'fast',
    }));
  }, 600_000);
  afterAll(() => lens?.close());

  it('gives the per-run closed form, averaged over the runs', async () => {
    const t = tcav as unknown as Internals;
    await t.ensurePoolGram();
    const bank = t.bankOfSets();
    const chosen = [3, 17, 42, 99, 150, 201];
    const taken = new Set(chosen);
    const sets = bank.sets
      .map((rows, b) => ({ rows, b }))
      .filter(({ rows }) => !Array.from(rows).some((r) => taken.has(r)))
      .slice(0, 5);
    expect(sets.length).toBe(5);
    const fast = t.bankRuns(
      chosen,
      sets.map((s) => s.b),
      bank,
    );
    const perRun = sets.map(
      ({ rows }) =>
        t.fastNullRun({
          train: [
            ...chosen.map((row) => ({ row, label: 1 })),
            ...Array.from(rows, (row) => ({ row, label: 0 })),
          ],
          test: [],
        }).mean,
    );
    fast.forEach((v, ti) => {
      const expected = perRun.reduce((a, r) => a + r[ti], 0) / perRun.length;
      expect(Math.abs(v - expected)).toBeLessThan(1e-9 * Math.max(1, Math.abs(expected)));
    });
    expect(fast.some((v) => v !== 0)).toBe(true);
  });
});
