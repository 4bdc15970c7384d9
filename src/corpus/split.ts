import { Rng } from '../util/random.ts';
import type { CorpusEntry } from './types.ts';

export type SplitName = 'train' | 'validation' | 'test';
export const SPLITS: readonly SplitName[] = ['train', 'validation', 'test'];

export interface SplitOptions {
  seed: number;
  /** Shares of each composer's pieces; default 70/15/15. */
  fractions?: Record<SplitName, number>;
}

/**
 * Assign every piece (never a file) to train, validation or test, per composer so each split
 * sees every composer. Several performances of one piece always land on the same side.
 * A composer with at least 3 pieces gets at least one validation and one test piece.
 * Pieces are sorted before shuffling and each composer draws from its own seeded stream, so the
 * split depends only on the seed and the set of pieces, not on file order.
 */
export function splitPieces(
  entries: readonly CorpusEntry[],
  options: SplitOptions,
): Map<string, SplitName> {
  const fractions = options.fractions ?? { train: 0.7, validation: 0.15, test: 0.15 };
  const byComposer = new Map<string, Set<string>>();
  for (const e of entries) {
    if (!byComposer.has(e.composer)) byComposer.set(e.composer, new Set());
    byComposer.get(e.composer)!.add(e.piece);
  }
  const rng = new Rng(options.seed);
  const out = new Map<string, SplitName>();
  for (const composer of [...byComposer.keys()].sort()) {
    const pieces = rng.fork(composer).shuffle([...byComposer.get(composer)!].sort());
    const n = pieces.length;
    let nTest = Math.round(n * fractions.test);
    let nVal = Math.round(n * fractions.validation);
    if (n >= 3) {
      nTest = Math.max(1, nTest);
      nVal = Math.max(1, nVal);
    }
    pieces.forEach((piece, i) => {
      const existing = out.get(piece);
      const split: SplitName = i < nTest ? 'test' : i < nTest + nVal ? 'validation' : 'train';
      // A piece attributed to two composers keeps its first split: it must never straddle two sides.
      if (!existing) out.set(piece, split);
    });
  }
  return out;
}

export function entriesOfSplit(
  entries: readonly CorpusEntry[],
  split: Map<string, SplitName>,
  name: SplitName,
): CorpusEntry[] {
  return entries.filter((e) => split.get(e.piece) === name);
}
