import { existsSync } from 'node:fs';
import { readUserFile } from '../util/files.ts';
import { splitPieces, type SplitName } from '../corpus/split.ts';
import { evaluate, voteByPiece, type Evaluation } from '../model/evaluate.ts';
import type { ConceptLens } from './lens.ts';

/** A piece's verdict, named as a musician would: its composer, the vote's composer, its windows. */
export interface PieceVerdict {
  piece: string;
  composer: string;
  predicted: string;
  windows: number;
}

/**
 * The model on a corpus split, twice: window by window (the top-level figures, each window of
 * `windowFrames` judged alone), and piece by piece (`byPiece`: each piece's windows vote by their
 * mean log-probability, src/model/evaluate.ts voteByPiece).
 */
export interface CorpusEvaluation extends Evaluation {
  split: SplitName | 'all';
  seed: number;
  excerpts: number;
  pieces: number;
  byPiece: Evaluation & {
    vote: string;
    verdicts: PieceVerdict[];
  };
}

export const PIECE_VOTE_RULE = "mean log-probability over the piece's windows (argmax)";

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
  const logits = new Float32Array(excerpts.length * labels.length);
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
    logits.set(acts.logits.subarray(0, part.length * C), start * C);
    for (let i = 0; i < part.length; i++) {
      let best = 0;
      for (let c = 1; c < C; c++) if (acts.logits[i * C + c] > acts.logits[i * C + best]) best = c;
      predictions.push(best);
      truth.push(labels.indexOf(part[i].composer));
    }
  }
  const votes = voteByPiece(
    logits,
    labels.length,
    excerpts.map((x) => x.piece),
    truth,
  );
  return {
    ...evaluate(predictions, truth, labels),
    split,
    seed,
    excerpts: excerpts.length,
    pieces: votes.length,
    byPiece: {
      ...evaluate(
        votes.map((v) => v.predicted),
        votes.map((v) => v.truth),
        labels,
      ),
      vote: PIECE_VOTE_RULE,
      verdicts: votes.map((v) => ({
        piece: v.piece,
        composer: labels[v.truth],
        predicted: labels[v.predicted],
        windows: v.windows,
      })),
    },
  };
}

/** The model card next to a model (`<name>.card.json` beside `<name>.onnx`), if any. */
export function readModelCard(modelPath: string): Record<string, unknown> | undefined {
  const path = modelPath.replace(/\.onnx$/i, '') + '.card.json';
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readUserFile(path).toString('utf8'));
  } catch {
    return undefined;
  }
}
