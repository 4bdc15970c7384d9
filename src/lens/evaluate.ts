import { existsSync, readFileSync } from 'node:fs';
import { splitPieces, type SplitName } from '../corpus/split.ts';
import { evaluate, type Evaluation } from '../model/evaluate.ts';
import type { ConceptLens } from './lens.ts';

export interface CorpusEvaluation extends Evaluation {
  split: SplitName | 'all';
  seed: number;
  excerpts: number;
  pieces: number;
}

/**
 * Accuracy of the model on the windows of a corpus split. The split is the piece-level split of
 * src/corpus/split.ts with the seed the model was trained with (from its model card when there is
 * one), so `test` means pieces no performance of which the model saw in training.
 */
export async function evaluateOnCorpus(
  lens: ConceptLens,
  split: SplitName | 'all',
  seed: number,
): Promise<CorpusEvaluation> {
  const all = lens.index.excerpts(lens.targets());
  const sides = splitPieces([...lens.index.entries.values()], { seed });
  const excerpts = split === 'all' ? all : all.filter((x) => sides.get(x.piece) === split);
  const labels = lens.labels;
  const predictions: number[] = [];
  const truth: number[] = [];
  // Chunks keep memory bounded: rolls of one chunk at a time.
  const chunk = 512;
  for (let start = 0; start < excerpts.length; start += chunk) {
    const part = excerpts.slice(start, start + chunk);
    const acts = await lens.activations(
      await lens.corpusItemsAsync(part),
      [],
      `evaluating ${start + part.length}/${excerpts.length}`,
    );
    const C = labels.length;
    for (let i = 0; i < part.length; i++) {
      let best = 0;
      for (let c = 1; c < C; c++) if (acts.logits[i * C + c] > acts.logits[i * C + best]) best = c;
      predictions.push(best);
      truth.push(labels.indexOf(part[i].composer));
    }
  }
  return {
    ...evaluate(predictions, truth, labels),
    split,
    seed,
    excerpts: excerpts.length,
    pieces: new Set(excerpts.map((x) => x.piece)).size,
  };
}

/** The model card next to a model (`<name>.card.json` beside `<name>.onnx`), if any. */
export function readModelCard(modelPath: string): Record<string, unknown> | undefined {
  const path = modelPath.replace(/\.onnx$/i, '') + '.card.json';
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}
