import { Rng } from '../util/random.ts';
import type { RetrievalIndex } from './index.ts';
import type { Scaling } from './types.ts';

/**
 * Retrieval quality against a corpus's own ground truth: a window of one performance should find
 * windows of the same piece in the other performances and in the score (ASAP has several files
 * of most pieces). Protocol:
 *  - queries are corpus windows of pieces with at least `minFiles` files in the index, drawn with
 *    a seed and spread over pieces (one window per piece per round);
 *  - a query is a member of the corpus (its own distance profile is the one in the index, as in
 *    leave-one-out evaluations of Mutual Proximity), but no window of its own file may be a hit:
 *    neighbouring windows of one recording are not "other passages", and keeping them would
 *    measure how alike a recording is to itself;
 *  - precision@k: the share of the k hits from the same piece (from another file), and from the
 *    same composer; chance: the same shares over all windows a hit could be.
 */
export interface RetrievalScore {
  scaling: Scaling;
  samePiece: number;
  sameComposer: number;
}

export interface RetrievalEvaluation {
  k: number;
  queries: number;
  queryPieces: number;
  minFiles: number;
  chancePiece: number;
  chanceComposer: number;
  scores: RetrievalScore[];
  /** Seconds per query (one distance row and every scaling). */
  secondsPerQuery: number;
}

export async function evaluateRetrieval(
  index: RetrievalIndex,
  options: {
    queries: number;
    k: number;
    seed: number | string;
    scalings: readonly Scaling[];
    minFiles?: number;
  },
): Promise<RetrievalEvaluation> {
  const minFiles = options.minFiles ?? 3;
  const xs = index.excerpts;
  const filesOf = new Map<string, Set<string>>();
  for (const x of xs) {
    if (!filesOf.has(x.piece)) filesOf.set(x.piece, new Set());
    filesOf.get(x.piece)!.add(x.file);
  }
  const byPiece = new Map<string, number[]>();
  xs.forEach((x, i) => {
    if (filesOf.get(x.piece)!.size < minFiles) return;
    if (!byPiece.has(x.piece)) byPiece.set(x.piece, []);
    byPiece.get(x.piece)!.push(i);
  });
  const rng = new Rng(`${options.seed}/retrieval-queries`);
  const pools = rng.shuffle([...byPiece.keys()].sort()).map((p) => rng.shuffle(byPiece.get(p)!));
  const queries: number[] = [];
  for (
    let round = 0;
    queries.length < options.queries && pools.some((p) => p.length > round);
    round++
  ) {
    for (const pool of pools) {
      if (queries.length >= options.queries) break;
      if (round < pool.length) queries.push(pool[round]);
    }
  }

  // Chance: windows of the same piece (other files) and composer among all a hit could be.
  const countBy = (key: (i: number) => string) => {
    const m = new Map<string, number>();
    xs.forEach((_, i) => m.set(key(i), (m.get(key(i)) ?? 0) + 1));
    return m;
  };
  const perFile = countBy((i) => xs[i].file);
  const perPiece = countBy((i) => xs[i].piece);
  const perComposer = countBy((i) => xs[i].composer);
  let chancePiece = 0;
  let chanceComposer = 0;
  for (const q of queries) {
    const x = xs[q];
    const own = perFile.get(x.file)!;
    const eligible = xs.length - own;
    chancePiece += (perPiece.get(x.piece)! - own) / eligible;
    chanceComposer += (perComposer.get(x.composer)! - own) / eligible;
  }

  const totals = new Map<Scaling, { piece: number; composer: number }>(
    options.scalings.map((s) => [s, { piece: 0, composer: 0 }]),
  );
  const started = Date.now();
  for (const q of queries) {
    const row = await index.corpusRows(q, 1);
    const x = xs[q];
    for (const scaling of options.scalings) {
      const hits = index.search(
        row,
        { k: options.k, scaling, skip: (i) => xs[i].file === x.file },
        q,
      );
      const t = totals.get(scaling)!;
      t.piece += hits.filter((h) => xs[h.index].piece === x.piece).length / options.k;
      t.composer += hits.filter((h) => xs[h.index].composer === x.composer).length / options.k;
    }
  }
  const seconds = (Date.now() - started) / 1000;
  const n = Math.max(1, queries.length);
  return {
    k: options.k,
    queries: queries.length,
    queryPieces: new Set(queries.map((q) => xs[q].piece)).size,
    minFiles,
    chancePiece: chancePiece / n,
    chanceComposer: chanceComposer / n,
    scores: options.scalings.map((scaling) => ({
      scaling,
      samePiece: totals.get(scaling)!.piece / n,
      sameComposer: totals.get(scaling)!.composer / n,
    })),
    secondsPerQuery: seconds / n,
  };
}
