/**
 * The robustness study's two extra ASAP models (concept bottleneck, adversarially trained): their
 * model cards' test figures are reproduced by concept-lens (same windows, same split), and the
 * bottleneck's `concepts` layer is what its card says. Skipped when the corpus is absent.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { evaluateOnCorpus } from '../../src/lens/evaluate.ts';
import { ConceptLens } from '../../src/lens/lens.ts';

const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const asap = process.env.CONCEPT_LENS_ASAP ?? resolve(repo, '../shared/corpora/asap');

describe.skipIf(!existsSync(asap)).each(['asap-bottleneck', 'asap-adversarial'])('%s', (name) => {
  const model = resolve(repo, `models/${name}.onnx`);
  it('reproduces the test figures of its model card', async () => {
    const card = JSON.parse(readFileSync(model.replace(/\.onnx$/, '.card.json'), 'utf8'));
    const lens = await ConceptLens.open({ model, corpus: asap, cacheDir: false });
    try {
      const r = await evaluateOnCorpus(lens, 'test', card.split.seed);
      expect(r.labels).toEqual(card.labels);
      expect(r.excerpts).toBe(card.metrics.test.windows);
      expect(r.confusion).toEqual(card.metrics.test.confusion.matrix);
      expect(r.accuracy).toBeCloseTo(card.testAccuracy, 6);
      if (card.concepts) {
        const layer = lens.classifier.layer('concepts');
        expect(layer.shape).toEqual([card.concepts.length]);
      }
    } finally {
      await lens.close();
    }
  });
});
