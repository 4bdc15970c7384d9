/**
 * The symbolic detectors (src/detect) against hand labels of 136 real ASAP bars
 * (test/fixtures/detect/labels.yaml, made by reading the notes; see its README). The floors below
 * are the figures measured when the labels were made (docs/detectors.md), rounded down: a change
 * to a detector that loses precision or recall on real bars fails here. Skipped without ASAP.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { detectLabelledBars, readLabels, scoreDetectors } from '../../src/detect/labels.ts';
import type { TextureName } from '../../src/detect/types.ts';

const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const asap = process.env.CONCEPT_LENS_ASAP ?? resolve(repo, '../shared/corpora/asap');

/** [precision, recall] floors on all labels. */
const FLOORS: Record<TextureName, [number, number]> = {
  octaves: [0.95, 0.95],
  'repeated-chords': [0.95, 0.95],
  'block-chords': [0.9, 0.75],
  alberti: [0.7, 0.95],
  'broken-chords': [0.9, 0.95],
  'wide-arpeggios': [0.95, 0.95],
  scales: [0.95, 0.95],
  'chromatic-runs': [0.85, 0.8],
  trills: [0.75, 0.95],
  tremolo: [0.95, 0.95],
  stride: [0.95, 0.95],
  chorale: [0.85, 0.95],
  imitation: [0.5, 0.5],
};

describe.skipIf(!existsSync(asap))('detectors on hand-labelled ASAP bars', () => {
  const labels = readLabels(resolve(repo, 'test/fixtures/detect/labels.yaml'));

  it('labels 130 bars or more, about half of them held out', () => {
    expect(labels.length).toBeGreaterThanOrEqual(130);
    expect(labels.filter((l) => l.half === 'held-out').length).toBeGreaterThan(60);
    expect(labels.filter((l) => l.half === 'dev').length).toBeGreaterThan(60);
  });

  it('precision and recall per detector stay at their measured floors', () => {
    const scores = scoreDetectors(labels, detectLabelledBars(labels, asap));
    for (const s of scores) {
      expect(s.bars, s.texture).toBeGreaterThanOrEqual(40);
      expect(s.truePositives + s.falseNegatives, s.texture).toBeGreaterThanOrEqual(5);
      const [p, r] = FLOORS[s.texture];
      expect(s.precision, `${s.texture} precision`).toBeGreaterThanOrEqual(p);
      expect(s.recall, `${s.texture} recall`).toBeGreaterThanOrEqual(r);
    }
  });
});
