import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evaluateOnCorpus } from '../../src/lens/evaluate.ts';
import { ConceptLens } from '../../src/lens/lens.ts';
import { SYNTHETIC_MODEL } from './helpers.ts';

// `model evaluate` (the TypeScript side, onnxruntime) reproduces what the trainer (PyTorch) wrote
// into the model card: same windows, same piece-level split, same weights.
describe('the shipped synthetic model', () => {
  it('reproduces the test figures of its model card', async () => {
    const card = JSON.parse(readFileSync(SYNTHETIC_MODEL.replace(/\.onnx$/, '.card.json'), 'utf8'));
    const lens = await ConceptLens.open({
      model: SYNTHETIC_MODEL,
      corpus: 'synthetic',
      cacheDir: false,
    });
    try {
      const r = await evaluateOnCorpus(lens, 'test', card.split.seed);
      expect(r.labels).toEqual(card.labels);
      expect(r.excerpts).toBe(card.metrics.test.windows);
      expect(r.confusion).toEqual(card.metrics.test.confusion.matrix);
      expect(r.accuracy).toBeCloseTo(card.testAccuracy, 6);
      expect(r.accuracy).toBeGreaterThanOrEqual(0.95);
    } finally {
      await lens.close();
    }
  }, 120_000);
});
