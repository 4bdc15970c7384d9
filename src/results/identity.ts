import type { ConceptLens } from '../lens/lens.ts';
import { readModelCard } from '../lens/evaluate.ts';
import { publicPath } from './public-path.ts';
import type { CorpusIdentity, ModelIdentity, RunInfo, RunResults } from './results.ts';

/** What results.json says about the model, the corpus and the run, gathered from an open lens. */
export function modelIdentity(lens: ConceptLens, path: string): ModelIdentity {
  const c = lens.classifier;
  const card = readModelCard(path);
  const identity: ModelIdentity = {
    path: publicPath(path),
    sha256: c.sha256,
    labels: c.labels,
    input: { ...c.input },
  };
  if (card) {
    const data = card.data as Record<string, unknown> | string | undefined;
    identity.card = {
      name: typeof card.name === 'string' ? card.name : undefined,
      testAccuracy: typeof card.testAccuracy === 'number' ? card.testAccuracy : undefined,
      testBalancedAccuracy:
        typeof card.testBalancedAccuracy === 'number' ? card.testBalancedAccuracy : undefined,
      data:
        typeof data === 'string'
          ? data
          : data
            ? [data.corpus ?? data.name, data.license ? `license ${data.license}` : undefined]
                .filter(Boolean)
                .join(', ')
            : undefined,
    };
  }
  return identity;
}

export function corpusIdentity(lens: ConceptLens): CorpusIdentity {
  const entries = [...lens.index.entries.values()];
  return {
    name: lens.index.corpus.name,
    root: publicPath(lens.index.corpus.root),
    files: entries.length,
    pieces: new Set(entries.map((e) => `${e.composer}/${e.piece}`)).size,
    composers: lens.index.composers(),
  };
}

export const VERSION = '0.1.0';

export function emptyResults(
  lens: ConceptLens,
  modelPath: string,
  run: Omit<RunInfo, 'tool' | 'version' | 'seconds'>,
): RunResults {
  return {
    run: { tool: 'concept-lens', version: VERSION, seconds: 0, ...run },
    model: modelIdentity(lens, modelPath),
    corpus: corpusIdentity(lens),
    tcav: [],
    concepts: [],
    skipped: lens.index.skipped.map((s) => ({ file: s.file, reason: s.reason })),
  };
}
