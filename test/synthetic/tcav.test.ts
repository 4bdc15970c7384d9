import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConcepts } from '../../src/concepts/load.ts';
import { ConceptLens } from '../../src/lens/lens.ts';
import type { TcavEntry } from '../../src/results/results.ts';
import { prepareConcepts, runTcav } from '../../src/tcav/run.ts';
import { signatures, spec, SYNTHETIC_MODEL } from './helpers.ts';

// The must-show of TCAV: on the synthetic corpus, whose composers are defined by their signature
// textures, every signature is significant with a high score for its composer, and the negative
// controls (textures nobody uses) are significant for no composer.
describe('TCAV on the synthetic model', () => {
  let lens: ConceptLens;
  let entries: TcavEntry[];
  beforeAll(async () => {
    lens = await ConceptLens.open({ model: SYNTHETIC_MODEL, corpus: 'synthetic' });
    const { concepts, errors } = loadConcepts(
      join(import.meta.dirname, '..', '..', 'concepts', 'textures'),
    );
    expect(errors).toEqual([]);
    entries = await runTcav(lens, await prepareConcepts(lens, concepts), {
      layers: ['layer3'],
      targets: lens.targets(),
      runs: 20,
      setSize: 30,
      targetExcerpts: 40,
      seed: 1,
    });
  }, 600_000);
  afterAll(() => lens?.close());

  it('takes exact derivatives (reverse-mode gradients of the head)', async () => {
    expect(await lens.derivativesRecord(['layer3'])).toEqual([
      { name: 'layer3', shape: [64, 25, 6], derivatives: 'exact' },
    ]);
  });

  it('has one tested cell per concept and composer, each with its statistics', () => {
    expect(entries).toHaveLength(10 * spec.composers.length);
    for (const e of entries) {
      expect(e.scores).toHaveLength(20);
      expect(e.pValue).toBeGreaterThanOrEqual(0);
      expect(e.pValueCorrected).toBeGreaterThanOrEqual(e.pValue);
    }
  });

  it("finds every composer's signature texture significant, with a high score and the strongest effect", () => {
    for (const [composer, texture] of Object.entries(signatures)) {
      const e = entries.find((x) => x.concept === texture && x.target === composer)!;
      expect({ composer, texture, significant: e.significant, reliable: e.cavReliable }).toEqual({
        composer,
        texture,
        significant: true,
        reliable: true,
      });
      expect(e.score, `${texture} for ${composer}`).toBeGreaterThan(0.8);
      expect(e.effect).toBeGreaterThan(e.randomEffect);
      const strongest = entries
        .filter((x) => x.target === composer)
        .sort((a, b) => b.effect - a.effect)[0];
      expect(strongest.concept, composer).toBe(texture);
    }
  });

  it('finds that no negative control significantly raises any composer', () => {
    // Two-sided, the run also finds trills significantly LOWERING Kantorius (the chorale composer):
    // every running figuration (scales, tremolo, trill) pulls the model away from chorale texture.
    // That is a true property of this model, reported in the issue note; what a negative control
    // must never show is a composer the model recognises by it.
    const table = entries.map(
      (e) =>
        `${e.concept}/${e.target}: score ${e.score.toFixed(2)} effect ${e.effect.toFixed(3)} p ${e.pValueCorrected.toPrecision(2)}`,
    );
    for (const texture of spec.negativeControls) {
      const raising = entries.filter(
        (x) => x.concept === texture && x.significant && x.effect > x.randomEffect,
      );
      expect(
        raising.map((x) => x.target),
        `${texture}\n${table.join('\n')}`,
      ).toEqual([]);
    }
    console.log(
      `negative controls, significant cells: ${
        entries
          .filter((x) => spec.negativeControls.includes(x.concept as never) && x.significant)
          .map((x) => `${x.concept}/${x.target} effect ${x.effect.toFixed(3)}`)
          .join(', ') || 'none'
      }`,
    );
  });
});
