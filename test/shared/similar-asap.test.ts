import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ConceptLens } from '../../src/lens/lens.ts';
import { evaluateRetrieval } from '../../src/retrieval/evaluate.ts';
import { INDEX_DEFAULTS, RetrievalIndex } from '../../src/retrieval/index.ts';

// The must-show of `similar` on ASAP (docs/similar.md): empirical Mutual Proximity
// halves the skewness of N_10 at least and does not lower precision@10 for "same piece" or "same
// composer" over 500+ queries from pieces with 3+ files. Figures: npm run bench:similar-quality.
const repo = join(import.meta.dirname, '..', '..');
const ASAP = join(repo, '..', 'shared', 'corpora', 'asap');

describe('similar on ASAP at layer3', () => {
  let lens: ConceptLens;
  let index: RetrievalIndex;
  beforeAll(async () => {
    lens = await ConceptLens.open({ model: join(repo, 'models', 'asap.onnx'), corpus: ASAP });
    index = await RetrievalIndex.open(
      lens,
      { ...INDEX_DEFAULTS, layer: 'layer3' },
      { cacheDir: join(repo, '.cache', 'activations') },
    );
  });
  afterAll(async () => {
    await lens?.close();
  });

  it('halves the skewness of N_10 with empirical MP', async () => {
    const report = await index.hubness([5, 10]);
    const skew = (s: string) =>
      report.scalings.find((x) => x.scaling === s)!.occurrence.find((o) => o.k === 10)!.skewness;
    expect(report.windows).toBeGreaterThan(18_000);
    expect(skew('none')).toBeGreaterThan(0.5);
    expect(Math.abs(skew('mp-empirical'))).toBeLessThanOrEqual(skew('none') / 2);
  });

  it('does not lower precision@10 with empirical MP', async () => {
    const ev = await evaluateRetrieval(index, {
      queries: 600,
      k: 10,
      seed: 1,
      scalings: ['none', 'mp-empirical'],
    });
    expect(ev.queries).toBe(600);
    const [none, mp] = ev.scores;
    expect(none.samePiece).toBeGreaterThan(20 * ev.chancePiece);
    expect(mp.samePiece).toBeGreaterThanOrEqual(none.samePiece);
    expect(mp.sameComposer).toBeGreaterThanOrEqual(none.sameComposer);
  });
});
