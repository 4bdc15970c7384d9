import { join } from 'node:path';
import { renderRoll } from '../midi/render.ts';
import { DEFAULT_LAYOUT, pitchCount, type PianoRoll, type RollLayout } from '../midi/roll.ts';
import { makeExcerpts } from '../midi/window.ts';
import type { MidiContent } from '../midi/types.ts';
import { UserError } from '../util/errors.ts';
import { writeFileAtomic } from '../util/files.ts';
import type { Progress } from '../util/progress.ts';
import { writeNpyU8 } from './npy.ts';
import { forEachFile, type SkippedFile } from './read.ts';
import { SPLITS, splitPieces, type SplitName } from './split.ts';
import type { Corpus, CorpusEntry, Excerpt } from './types.ts';

/**
 * Export a corpus as piano-roll windows for the Python trainer (`training/`), so that the trainer
 * never re-implements MIDI reading or rendering: the TypeScript side owns the input representation.
 * Format `concept-lens-windows/1`: `index.json` plus uint8 `.npy` shards shaped [N, C, T, P].
 */
export interface ExportOptions {
  out: string;
  seed: number;
  layout?: RollLayout;
  windowFrames?: number;
  /** Hop between training windows (default: half a window); validation and test never overlap. */
  trainHopFrames?: number;
  /** Keep composers with at least this many distinct pieces. */
  minPieces?: number;
  shardSize?: number;
}

export interface ExportSummary {
  out: string;
  labels: string[];
  windows: Record<SplitName, number>;
  pieces: Record<SplitName, number>;
  dropped: string[];
  skipped: SkippedFile[];
}

/** The windows the model sees for a file of a split: the same for export, training and evaluation. */
export function windowsOf(
  entry: CorpusEntry,
  content: MidiContent,
  layout: RollLayout,
  windowFrames: number,
  hopFrames: number,
): Excerpt[] {
  return makeExcerpts(entry, content, layout, { windowFrames, hopFrames, last: 'shift' });
}

/** Composers with at least `minPieces` distinct pieces, sorted; the others are named in `dropped`. */
export function composersWithPieces(entries: readonly CorpusEntry[], minPieces: number) {
  const pieces = new Map<string, Set<string>>();
  for (const e of entries) {
    if (!pieces.has(e.composer)) pieces.set(e.composer, new Set());
    pieces.get(e.composer)!.add(e.piece);
  }
  const kept = [...pieces]
    .filter(([, s]) => s.size >= minPieces)
    .map(([c]) => c)
    .sort();
  const dropped = [...pieces.keys()].filter((c) => !kept.includes(c)).sort();
  return { kept, dropped };
}

export async function exportWindows(
  corpus: Corpus,
  options: ExportOptions,
  progress?: Progress,
): Promise<ExportSummary> {
  const layout = options.layout ?? DEFAULT_LAYOUT;
  const T = options.windowFrames ?? 400;
  const trainHop = options.trainHopFrames ?? Math.floor(T / 2);
  const shardSize = options.shardSize ?? 1024;
  const { kept: labels, dropped } = composersWithPieces(corpus.entries, options.minPieces ?? 1);
  if (labels.length < 2)
    throw new UserError(`${corpus.root}: fewer than two composers with enough pieces to train on`);
  const entries = corpus.entries.filter((e) => labels.includes(e.composer));
  const split = splitPieces(entries, { seed: options.seed });

  const C = layout.channels.length;
  const P = pitchCount(layout);
  const windowSize = C * T * P;
  const buffers = Object.fromEntries(SPLITS.map((s) => [s, [] as Uint8Array[]])) as Record<
    SplitName,
    Uint8Array[]
  >;
  const shardCount: Record<SplitName, number> = { train: 0, validation: 0, test: 0 };
  const windows: Record<SplitName, number> = { train: 0, validation: 0, test: 0 };
  const shards: { file: string; split: SplitName; count: number }[] = [];
  const items: Record<string, unknown>[] = [];

  const flush = (s: SplitName) => {
    const rows = buffers[s];
    if (rows.length === 0) return;
    const file = `${s}-${String(shardCount[s]++).padStart(3, '0')}.npy`;
    const data = new Uint8Array(rows.length * windowSize);
    rows.forEach((r, i) => data.set(r, i * windowSize));
    writeNpyU8(join(options.out, file), [rows.length, C, T, P], data);
    shards.push({ file, split: s, count: rows.length });
    buffers[s] = [];
  };

  const skipped = await forEachFile(
    entries,
    (entry, content) => {
      const s = split.get(entry.piece)!;
      const roll = renderRoll(content.notes, layout, content.durationSeconds);
      for (const excerpt of windowsOf(entry, content, layout, T, s === 'train' ? trainHop : T)) {
        buffers[s].push(toUint8(roll.slice(excerpt.startFrame, T), layout));
        items.push({
          split: s,
          shard: `${s}-${String(shardCount[s]).padStart(3, '0')}.npy`,
          row: buffers[s].length - 1,
          label: labels.indexOf(entry.composer),
          composer: entry.composer,
          piece: entry.piece,
          file: entry.file,
          startFrame: excerpt.startFrame,
        });
        windows[s] += 1;
        if (buffers[s].length >= shardSize) flush(s);
      }
    },
    { progress },
  );
  for (const s of SPLITS) flush(s);
  if (SPLITS.every((s) => windows[s] === 0)) {
    const why = skipped.length
      ? ` (${skipped.length} skipped, e.g. ${skipped[0].file}: ${skipped[0].reason})`
      : '';
    throw new UserError(`${corpus.root}: no readable windows to export${why}`);
  }

  const piecesOf = (s: SplitName) =>
    [...split]
      .filter(([, v]) => v === s)
      .map(([p]) => p)
      .sort();
  const index = {
    format: 'concept-lens-windows/1',
    labels,
    input: {
      fps: layout.fps,
      windowFrames: T,
      lowPitch: layout.lowPitch,
      highPitch: layout.highPitch,
      channels: layout.channels,
      values: layout.values,
      layout: 'NCTP',
    },
    corpus: {
      name: corpus.name,
      license: corpus.license,
      source: corpus.source,
      droppedComposers: dropped,
    },
    split: {
      seed: options.seed,
      trainHopFrames: trainHop,
      evalHopFrames: T,
      pieces: Object.fromEntries(SPLITS.map((s) => [s, piecesOf(s)])),
    },
    shards,
    items,
    skipped,
  };
  writeFileAtomic(join(options.out, 'index.json'), JSON.stringify(index));
  const pieces = Object.fromEntries(SPLITS.map((s) => [s, piecesOf(s).length])) as Record<
    SplitName,
    number
  >;
  return { out: options.out, labels, windows, pieces, dropped, skipped };
}

/** Roll values as bytes: binary 0/1, velocity 0..127. */
function toUint8(roll: PianoRoll, layout: RollLayout): Uint8Array {
  const out = new Uint8Array(roll.data.length);
  const scale = layout.values === 'velocity' ? 127 : 1;
  for (let i = 0; i < out.length; i++) out[i] = Math.round(roll.data[i] * scale);
  return out;
}
