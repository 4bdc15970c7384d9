import { relative } from 'node:path';
import { loadCorpus } from '../corpus/manifest.ts';
import { splitPieces } from '../corpus/split.ts';
import type { CorpusEntry } from '../corpus/types.ts';
import { detectPiece, windowTextures, type TextureName } from '../detect/index.ts';
import { readMidiFile } from '../midi/read.ts';
import { excerptNotes } from '../midi/write.ts';
import { UserError } from '../util/errors.ts';
import { sha256 } from '../util/files.ts';
import { yieldToSignals } from '../util/interrupt.ts';
import type { ConceptExample, ResolveContext } from './examples.ts';
import type { ExampleSpec } from './schema.ts';

/**
 * Concept examples gathered by a symbolic detector (src/detect) over a corpus, so that a concept
 * comes from many pieces instead of one:
 *
 *  - the corpus's score files (bars are exact there; performances when it has no scores) of the
 *    pieces of the split asked for (the piece-level split of src/corpus/split.ts);
 *  - in each file, model windows that start on a bar line where the texture sounds and that it
 *    covers for at least `minShare` of their length, not overlapping;
 *  - then windows drawn round-robin over pieces (one window of each piece in turn) up to
 *    `maxExamples`, so no piece dominates. The order of pieces and of windows within a piece is a
 *    hash of their notes: deterministic, and keyed by content, not by names.
 *
 * A set from fewer than `minPieces` pieces is refused: a CAV learnt from one piece learns the piece.
 * Cost: every file of the split is read and detected (seconds per file).
 */
export interface DetectedWindow {
  file: string;
  piece: string;
  /** Seconds in the file. */
  start: number;
  end: number;
  /** First and last bar the window touches. */
  bars: [number, number];
  share: number;
  notes: ConceptExample['notes'];
  hash: string;
}

export async function detectExamples(
  spec: ExampleSpec,
  ctx: ResolveContext,
  id: string,
  where: string,
): Promise<ConceptExample[]> {
  const d = spec.detect!;
  if (!ctx.corpusRoot)
    throw new UserError(`${where}: detect: gathers examples from a corpus (give --corpus)`);
  const windows = await detectedWindows(ctx.corpusRoot, d.texture as TextureName, {
    windowSeconds: ctx.windowSeconds,
    split: d.split,
    splitSeed: d.splitSeed ?? 1,
    minShare: d.minShare ?? 0.5,
    sustain: ctx.sustain,
  });
  const chosen = spreadOverPieces(windows, d.maxExamples ?? 40);
  const pieces = new Set(chosen.map((w) => w.piece));
  const minPieces = d.minPieces ?? 3;
  if (pieces.size < minPieces)
    throw new UserError(
      `${where}: detect ${d.texture} finds it in ${pieces.size} piece(s) of ${d.split ? `the ${d.split} split of ` : ''}the corpus; minPieces is ${minPieces}`,
    );
  return chosen.map((w) => ({
    id: `${id}:detect:${w.hash}`,
    source: `${where}: ${w.file} bars ${w.bars[0]}-${w.bars[1]} (detect ${d.texture}, ${Math.round(w.share * 100)}% of the window)`,
    notes: w.notes,
    file: w.file,
    piece: w.piece,
  }));
}

export interface GatherOptions {
  windowSeconds: number;
  split?: 'train' | 'validation' | 'test';
  splitSeed: number;
  minShare: number;
  sustain?: boolean;
}

/** Every window of the corpus (split) where the texture sounds (see the module header). */
export async function detectedWindows(
  corpusRoot: string,
  texture: TextureName,
  o: GatherOptions,
): Promise<DetectedWindow[]> {
  const corpus = loadCorpus(corpusRoot);
  const sides = splitPieces(corpus.entries, { seed: o.splitSeed });
  let entries = corpus.entries.filter((e) => !o.split || sides.get(e.piece) === o.split);
  const scores = entries.filter((e) => e.kind === 'score');
  if (scores.length > 0) entries = scores;
  entries = [...new Map(entries.map((e) => [e.file, e])).values()].sort((a, b) =>
    a.file < b.file ? -1 : a.file > b.file ? 1 : 0,
  );
  const out: DetectedWindow[] = [];
  for (const entry of entries) {
    await yieldToSignals();
    out.push(...windowsOfFile(entry, corpus.root, texture, o));
  }
  return out;
}

function windowsOfFile(
  entry: CorpusEntry,
  root: string,
  texture: TextureName,
  o: GatherOptions,
): DetectedWindow[] {
  let content;
  try {
    content = readMidiFile(entry.path, { sustain: o.sustain });
  } catch (err) {
    if (err instanceof UserError) return []; // a bad file of the corpus is skipped, as corpus reads do
    throw err;
  }
  const piece = detectPiece(content.notes, content.timeMap, [texture]);
  const W = o.windowSeconds;
  const out: DetectedWindow[] = [];
  let free = 0;
  for (const bar of piece.bars) {
    if (bar.start < free - 1e-9 || !bar.textures[texture]) continue;
    const end = bar.start + W;
    if (end > content.durationSeconds + 1e-9) break;
    const share = windowTextures(piece, bar.start, end).share[texture];
    if (share < o.minShare) continue;
    const notes = excerptNotes(content.notes, bar.start, end);
    const lastBar = piece.bars.filter((b) => b.start < end - 1e-9).at(-1)!.bar;
    out.push({
      file: relative(root, entry.path) || entry.file,
      piece: entry.piece,
      start: bar.start,
      end,
      bars: [bar.bar, lastBar],
      share,
      notes,
      hash: sha256(notes.map((n) => `${n.pitch}@${n.onset.toFixed(3)}`).join(',')).slice(0, 16),
    });
    free = end;
  }
  return out;
}

/** Up to `max` windows, one piece at a time in turn; orders are hashes of content. */
export function spreadOverPieces(windows: readonly DetectedWindow[], max: number) {
  const byPiece = new Map<string, DetectedWindow[]>();
  for (const w of windows) byPiece.set(w.piece, [...(byPiece.get(w.piece) ?? []), w]);
  const queues = [...byPiece.values()].map((ws) =>
    [...ws].sort((a, b) => (a.hash < b.hash ? -1 : 1)),
  );
  // A piece's place in the turn: the hash of all its windows' hashes.
  const key = (ws: DetectedWindow[]) => sha256(ws.map((w) => w.hash).join(''));
  queues.sort((a, b) => (key(a) < key(b) ? -1 : 1));
  const out: DetectedWindow[] = [];
  for (let round = 0; out.length < max; round++) {
    let took = false;
    for (const q of queues) {
      if (round < q.length && out.length < max) {
        out.push(q[round]);
        took = true;
      }
    }
    if (!took) break;
  }
  return out;
}
