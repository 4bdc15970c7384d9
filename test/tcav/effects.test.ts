import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConcepts } from '../../src/concepts/load.ts';
import { ConceptLens } from '../../src/lens/lens.ts';
import type { TcavEntry } from '../../src/results/results.ts';
import { prepareConcepts, runTcav, type ConceptCavs } from '../../src/tcav/run.ts';
import { SYNTHETIC_MODEL } from '../synthetic/helpers.ts';

// Effects over every window of a composer (src/tcav/effects.ts): each run's effect must be
// gbar . w, with gbar the mean gradient of the composer's logit over ALL its windows, computed here
// the plain way (activations of every window through the cache, one gradient per window, a mean),
// and w the run's unit CAV as the run reports it.
const TEXTURES = join(import.meta.dirname, '..', '..', 'concepts', 'textures');
const TARGETS = ['Albertini', 'Joplinski'];

describe('TCAV effects over every window of a composer', () => {
  let lens: ConceptLens;
  let all: TcavEntry[];
  let sampled: TcavEntry[];
  let cavs: ConceptCavs | undefined;
  beforeAll(async () => {
    lens = await ConceptLens.open({ model: SYNTHETIC_MODEL, corpus: 'synthetic' });
    const { concepts } = loadConcepts([join(TEXTURES, 'alberti.yaml')]);
    const prepared = await prepareConcepts(lens, concepts);
    const settings = {
      layers: ['layer3'],
      targets: TARGETS,
      runs: 3,
      setSize: 10,
      targetExcerpts: 6,
      nullConcepts: 5,
      poolSize: 80,
      seed: 2,
    };
    all = await runTcav(lens, prepared, { ...settings, onCavs: (c) => (cavs = c) });
    sampled = await runTcav(lens, prepared, { ...settings, effectWindows: 0 });
  }, 600_000);
  afterAll(() => lens?.close());

  it('reads each run’s effect as the mean gradient over all windows along its CAV', async () => {
    const head = await lens.head('layer3');
    for (const target of TARGETS) {
      const windows = lens.index.excerpts([target]);
      const acts = await lens.activations(await lens.corpusItemsAsync(windows), ['layer3']);
      const c = lens.labels.indexOf(target);
      const weights = new Float32Array(acts.n * head.classes);
      for (let i = 0; i < acts.n; i++) weights[i * head.classes + c] = 1;
      const g = await head.gradients(acts.layers.layer3, acts.n, weights);
      const gbar = new Float64Array(head.size);
      for (let i = 0; i < acts.n; i++)
        for (let x = 0; x < head.size; x++) gbar[x] += g[i * head.size + x] / acts.n;
      const perRun = cavs!.directions.map((w) => w.reduce((a, v, x) => a + v * gbar[x], 0));
      const expected = perRun.reduce((a, b) => a + b, 0) / perRun.length;
      const cell = all.find((e) => e.target === target)!;
      expect(cell.effectWindows).toBe(windows.length);
      expect(windows.length).toBeGreaterThan(6);
      expect(cell.effect).toBeCloseTo(expected, 5);
      expect(Math.abs(cell.effect - expected)).toBeLessThan(1e-4 * Math.abs(expected) + 1e-7);
    }
  });

  it('reads effects on the target excerpts with effectWindows 0 (and says nothing of windows)', () => {
    for (const target of TARGETS) {
      const a = all.find((e) => e.target === target)!;
      const s = sampled.find((e) => e.target === target)!;
      expect(s.effectWindows).toBeUndefined();
      // Same CAVs and scores (the same draws), effects from another set of windows.
      expect(s.scores).toEqual(a.scores);
      expect(s.effect).not.toBe(a.effect);
      expect(Math.sign(s.effect)).toBe(Math.sign(a.effect));
    }
  });
});
