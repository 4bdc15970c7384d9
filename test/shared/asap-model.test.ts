/**
 * The ASAP model and concepts on the real corpus (../shared/corpora/asap, or $CONCEPT_LENS_ASAP).
 * Skipped when the corpus is absent.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveExamples } from '../../src/concepts/examples.ts';
import { loadConcepts } from '../../src/concepts/load.ts';
import { evaluateOnCorpus } from '../../src/lens/evaluate.ts';
import { ConceptLens } from '../../src/lens/lens.ts';

const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const asap = process.env.CONCEPT_LENS_ASAP ?? resolve(repo, '../shared/corpora/asap');
const MODEL = resolve(repo, 'models/asap.onnx');

describe.skipIf(!existsSync(asap))('the ASAP model and concepts', () => {
  let lens: ConceptLens;
  beforeAll(async () => {
    lens = await ConceptLens.open({ model: MODEL, corpus: asap });
  });
  afterAll(() => lens?.close());

  it('reproduces the test figures of its model card (same windows, same split)', async () => {
    const card = JSON.parse(readFileSync(MODEL.replace(/\.onnx$/, '.card.json'), 'utf8'));
    const r = await evaluateOnCorpus(lens, 'test', card.split.seed);
    expect(r.labels).toEqual(card.labels);
    expect(r.excerpts).toBe(card.metrics.test.windows);
    expect(r.confusion).toEqual(card.metrics.test.confusion.matrix);
    expect(r.accuracy).toBeCloseTo(card.testAccuracy, 6);
    expect(r.balancedAccuracy).toBeCloseTo(card.testBalancedAccuracy, 6);
    // Its card predates the trainer's piece vote; asap-pooled's card holds one (below).
    expect(card.metrics.test.pieces).toBeUndefined();
  });

  it('asap-pooled: windows and the piece vote equal its card (TypeScript against the trainer)', async () => {
    const model = resolve(repo, 'models/asap-pooled.onnx');
    const card = JSON.parse(readFileSync(model.replace(/\.onnx$/, '.card.json'), 'utf8'));
    const pooled = await ConceptLens.open({ model, corpus: asap });
    try {
      const r = await evaluateOnCorpus(pooled, 'test', card.split.seed);
      expect(r.excerpts).toBe(card.metrics.test.windows);
      expect(r.confusion).toEqual(card.metrics.test.confusion.matrix);
      expect(r.balancedAccuracy).toBeCloseTo(card.testBalancedAccuracy, 6);
      // The piece vote: TypeScript (onnxruntime) against the trainer's NumPy vote in the card.
      expect(r.pieces).toBe(card.metrics.test.pieces.pieces);
      expect(r.byPiece.confusion).toEqual(card.metrics.test.pieces.confusion.matrix);
      expect(r.byPiece.balancedAccuracy).toBeCloseTo(card.testPieceBalancedAccuracy, 6);
    } finally {
      await pooled.close();
    }
  });

  it('resolves every shipped ASAP concept to enough examples from the corpus', async () => {
    const { concepts, errors } = loadConcepts(resolve(repo, 'concepts/asap'));
    expect(errors).toEqual([]);
    expect(concepts.length).toBeGreaterThanOrEqual(8);
    for (const c of concepts) {
      const examples = await resolveExamples(c, 'examples', {
        windowSeconds: 20,
        corpusRoot: asap,
      });
      expect(examples.length, c.spec.name).toBeGreaterThanOrEqual(4);
      expect(examples.every((x) => x.notes.length > 0)).toBe(true);
    }
  });
});
