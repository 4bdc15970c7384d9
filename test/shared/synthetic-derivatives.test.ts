import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConcepts } from '../../src/concepts/load.ts';
import { ConceptLens } from '../../src/lens/lens.ts';
import type { DerivativeMethod } from '../../src/model/head.ts';
import type { TcavEntry } from '../../src/results/results.ts';
import { prepareConcepts, runTcav } from '../../src/tcav/run.ts';
import { SYNTHETIC_MODEL } from '../synthetic/helpers.ts';

// Slow rather than shared-data: the synthetic TCAV benchmark (10 concepts x 5 composers, 20 random
// runs, 40 excerpts) once with exact gradients and once with finite differences (about 1.5 min
// on 2 cores, most of it finite differences), so it runs with the other long suites in
// `npm run test:shared` instead of `npm test`. Every cell must get the same verdict.
async function run(derivatives: DerivativeMethod): Promise<TcavEntry[]> {
  const lens = await ConceptLens.open({ model: SYNTHETIC_MODEL, corpus: 'synthetic', derivatives });
  try {
    const { concepts } = loadConcepts(
      join(import.meta.dirname, '..', '..', 'concepts', 'textures'),
    );
    const entries = await runTcav(lens, await prepareConcepts(lens, concepts), {
      layers: ['layer3'],
      targets: lens.targets(),
      runs: 20,
      setSize: 30,
      targetExcerpts: 40,
      // Finite differences read effects on the target excerpts, so exact ones do too here; the
      // null and pool of the previous defaults keep the finite-difference run to minutes.
      effectWindows: 0,
      nullConcepts: 1000,
      poolSize: 1000,
      seed: 1,
    });
    expect((await lens.derivativesRecord(['layer3']))[0].derivatives).toBe(derivatives);
    return entries;
  } finally {
    await lens.close();
  }
}

describe('TCAV verdicts on the synthetic benchmark', () => {
  it('are the same with exact gradients and with finite differences', async () => {
    const exact = await run('exact');
    const fd = await run('finite-difference');
    const verdict = (e: TcavEntry) =>
      `${e.concept}/${e.target}: ${e.significant ? (e.effect > e.randomEffect ? 'raises' : 'lowers') : 'no effect'}`;
    expect(fd.map(verdict)).toEqual(exact.map(verdict));
    // The effects agree closely too (finite differences smooth ReLU kinks over their step).
    let worst = 0;
    let scale = 0;
    fd.forEach((e, i) => {
      worst = Math.max(worst, Math.abs(e.effect - exact[i].effect));
      scale = Math.max(scale, Math.abs(exact[i].effect));
    });
    console.log(
      `${exact.length} cells, same verdicts; effects differ by at most ${(worst / scale).toExponential(1)} of the largest`,
    );
    expect(worst / scale).toBeLessThan(0.01);
  });
});
