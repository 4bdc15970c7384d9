import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConcepts, type ConceptFile } from '../../src/concepts/load.ts';
import { ConceptLens } from '../../src/lens/lens.ts';
import type { TcavEntry } from '../../src/results/results.ts';
import { prepareConcepts, runTcav, type ConceptCavs } from '../../src/tcav/run.ts';
import { SYNTHETIC_MODEL } from '../synthetic/helpers.ts';

// Properties of the test that hold by construction, checked on the real synthetic model with small
// settings: numbers depend on a concept's content, not its name or the order of its examples; and a
// relative concept read the other way round is the same experiment, mirrored.
const TEXTURES = join(import.meta.dirname, '..', '..', 'concepts', 'textures');

describe.each(['fast', 'logistic'] as const)(
  'TCAV null (%s CAV): content keys and relative concepts',
  (cav) => {
    let lens: ConceptLens;
    let entries: TcavEntry[];
    const cavs = new Map<string, ConceptCavs>();
    beforeAll(async () => {
      lens = await ConceptLens.open({ model: SYNTHETIC_MODEL, corpus: 'synthetic' });
      const { concepts } = loadConcepts([
        join(TEXTURES, 'alberti.yaml'),
        join(TEXTURES, 'stride.yaml'),
      ]);
      const [alberti, stride] = concepts;
      const files: ConceptFile[] = [
        alberti,
        // The same examples under another name, and listed in the reverse order.
        { path: alberti.path, spec: { ...alberti.spec, name: 'copy of alberti' } },
        {
          path: alberti.path,
          spec: {
            ...alberti.spec,
            name: 'alberti reversed',
            examples: alberti.spec.examples.slice().reverse(),
          },
        },
        stride,
        {
          path: alberti.path,
          spec: { ...alberti.spec, name: 'alberti vs stride', relativeTo: 'stride' },
        },
        {
          path: stride.path,
          spec: { ...stride.spec, name: 'stride vs alberti', relativeTo: 'alberti' },
        },
      ];
      entries = await runTcav(lens, await prepareConcepts(lens, files), {
        layers: ['layer3'],
        targets: ['Albertini', 'Joplinski', 'Kantorius'],
        runs: 4,
        setSize: 10,
        targetExcerpts: 8,
        nullConcepts: 6,
        poolSize: 90,
        cav,
        seed: 3,
        onCavs: (c) => cavs.set(c.concept, c),
      });
    }, 600_000);
    afterAll(() => lens?.close());

    const cell = (concept: string, target: string) =>
      entries.find((e) => e.concept === concept && e.target === target)!;
    const numbers = (e: TcavEntry) => {
      const { concept: _c, description: _d, ...rest } = e;
      return rest;
    };

    it('gives an identical copy under another name, or with its examples reordered, identical numbers', () => {
      for (const target of ['Albertini', 'Joplinski', 'Kantorius']) {
        const original = cell('alberti', target);
        expect(numbers(cell('copy of alberti', target))).toEqual(numbers(original));
        expect(numbers(cell('alberti reversed', target))).toEqual(numbers(original));
      }
      expect(cavs.get('copy of alberti')!.directions).toEqual(cavs.get('alberti')!.directions);
      expect(cavs.get('alberti reversed')!.accuracies).toEqual(cavs.get('alberti')!.accuracies);
    });

    it('reads A relativeTo B and B relativeTo A as one experiment: same p-value, mirrored effects', () => {
      for (const target of ['Albertini', 'Joplinski', 'Kantorius']) {
        const ab = cell('alberti vs stride', target);
        const ba = cell('stride vs alberti', target);
        expect(ab.counterexamples).toBe('relative');
        // A normal tail far out can underflow to 0 with a null of 6: equal, and a number.
        expect(Number.isFinite(ab.pValue)).toBe(true);
        expect(ba.pValue).toBe(ab.pValue);
        expect(ba.pValueInterval).toEqual(ab.pValueInterval);
        expect(ba.outcome).toBe(ab.outcome);
        expect(ba.pValueCorrected).toBe(ab.pValueCorrected);
        expect(ba.significant).toBe(ab.significant);
        expect(ba.effect).toBeCloseTo(-ab.effect, 12);
        expect(ba.randomEffect).toBeCloseTo(-ab.randomEffect, 12);
        expect(ba.randomEffectStd).toBeCloseTo(ab.randomEffectStd, 12);
        expect(ba.cavAccuracy).toBeCloseTo(ab.cavAccuracy, 12);
        // Every excerpt's derivative flips sign, so the shares of positive ones are complements.
        ba.scores.forEach((s, i) => expect(s).toBeCloseTo(1 - ab.scores[i], 12));
        expect(ba.nullSizes).toEqual(ab.nullSizes!.slice().reverse());
      }
      const ab = cavs.get('alberti vs stride')!.directions;
      const ba = cavs.get('stride vs alberti')!.directions;
      ab.forEach((d, r) => d.forEach((v, i) => expect(ba[r][i]).toBeCloseTo(-v, 6)));
    });

    it('signature tested against a non-signature points the right way for both composers', () => {
      // Sanity: alberti vs stride raises Albertini and lowers Joplinski (stride's composer).
      expect(cell('alberti vs stride', 'Albertini').effect).toBeGreaterThan(0);
      expect(cell('alberti vs stride', 'Joplinski').effect).toBeLessThan(0);
    });
  },
);
