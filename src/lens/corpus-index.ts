import { makeExcerpts } from '../midi/window.ts';
import { checkRollSize, renderRoll, rollFrames } from '../midi/render.ts';
import type { PianoRoll, RollLayout } from '../midi/roll.ts';
import { readMidiFile } from '../midi/read.ts';
import type { MidiContent } from '../midi/types.ts';
import { forEachFile, type SkippedFile } from '../corpus/read.ts';
import type { Corpus, CorpusEntry, Excerpt } from '../corpus/types.ts';
import { yieldToSignals } from '../util/interrupt.ts';
import { Rng } from '../util/random.ts';
import type { Progress } from '../util/progress.ts';
import type { ActivationCache } from '../model/cache.ts';
import { corpusKey, readWindows, writeWindows } from './corpus-cache.ts';

/**
 * Every model-sized window of a corpus, as descriptors (no rolls held): read once, then sampled
 * and rendered on demand, so memory grows with what is sampled, not with the corpus.
 */
export class CorpusIndex {
  private constructor(
    readonly corpus: Corpus,
    readonly layout: RollLayout,
    readonly windowFrames: number,
    /** Windows of each readable file, non-overlapping, the last aligned to the end. */
    readonly windows: Map<string, Excerpt[]>,
    readonly entries: Map<string, CorpusEntry>,
    readonly skipped: SkippedFile[],
    /** Whether the sustain pedal lengthens notes in the rolls (part of what the windows hold). */
    readonly sustain: boolean,
    /** sha256 of each file's bytes, when the windows came through the cache (corpus-cache.ts). */
    readonly fileHashes?: Map<string, string>,
  ) {}

  /**
   * Read the corpus into windows; with a cache, the windows of a corpus read before (the
   * same bytes, layout and settings) come from there without parsing a file.
   */
  static async build(
    corpus: Corpus,
    layout: RollLayout,
    windowFrames: number,
    options: { sustain?: boolean; progress?: Progress; cache?: ActivationCache } = {},
  ): Promise<CorpusIndex> {
    const sustain = options.sustain ?? false;
    const cached = options.cache && corpusKey(corpus.entries, layout, windowFrames, sustain);
    const stored = cached && readWindows(options.cache!, cached.key, corpus.entries);
    if (stored && cached) {
      const entries = new Map(corpus.entries.map((e) => [e.file, e]));
      const skippedFiles = new Set(stored.skipped.map((s) => s.file));
      for (const file of skippedFiles) entries.delete(file);
      const windows = new Map(Object.entries(stored.windows));
      return new CorpusIndex(
        corpus,
        layout,
        windowFrames,
        windows,
        entries,
        stored.skipped,
        sustain,
        cached.hashes,
      );
    }
    const windows = new Map<string, Excerpt[]>();
    const entries = new Map<string, CorpusEntry>();
    const skipped = await forEachFile(
      corpus.entries,
      (entry, content) => {
        // A file whose roll would be over the size limit is skipped here, never rendered.
        checkRollSize(rollFrames(content.durationSeconds, layout.fps), layout);
        entries.set(entry.file, entry);
        windows.set(
          entry.file,
          makeExcerpts(entry, content, layout, { windowFrames, last: 'shift' }),
        );
      },
      { sustain: options.sustain, progress: options.progress },
    );
    if (cached)
      writeWindows(options.cache!, cached.key, {
        windows: Object.fromEntries(windows),
        skipped,
      });
    return new CorpusIndex(
      corpus,
      layout,
      windowFrames,
      windows,
      entries,
      skipped,
      sustain,
      cached?.hashes,
    );
  }

  composers(): string[] {
    return [...new Set([...this.entries.values()].map((e) => e.composer))].sort();
  }

  /** All windows of the given composers (all composers when omitted), in corpus order. */
  excerpts(composers?: readonly string[]): Excerpt[] {
    const out: Excerpt[] = [];
    for (const list of this.windows.values()) {
      for (const x of list) if (!composers || composers.includes(x.composer)) out.push(x);
    }
    return out;
  }

  /**
   * A seeded sample of `count` windows spread over as many pieces as possible: pieces are taken
   * in random order, one random window each, round after round, so no single long piece dominates.
   */
  sample(count: number, seed: number | string, composers?: readonly string[]): Excerpt[] {
    return spreadOverPieces(this.excerpts(composers), count, seed);
  }

  /** Render the windows' rolls, reading each file once. */
  rolls(excerpts: readonly Excerpt[]): PianoRoll[] {
    const out: PianoRoll[] = new Array(excerpts.length);
    for (const [file, indices] of this.byFile(excerpts))
      this.renderInto(out, excerpts, file, indices);
    return out;
  }

  /**
   * `rolls`, letting a pending Ctrl-C act between files (reading and rendering a few hundred
   * corpus files takes seconds): what long-running stages call.
   */
  async rollsAsync(excerpts: readonly Excerpt[]): Promise<PianoRoll[]> {
    const out: PianoRoll[] = new Array(excerpts.length);
    for (const [file, indices] of this.byFile(excerpts)) {
      this.renderInto(out, excerpts, file, indices);
      await yieldToSignals();
    }
    return out;
  }

  private byFile(excerpts: readonly Excerpt[]): Map<string, number[]> {
    const byFile = new Map<string, number[]>();
    excerpts.forEach((x, i) => {
      if (!byFile.has(x.file)) byFile.set(x.file, []);
      byFile.get(x.file)!.push(i);
    });
    return byFile;
  }

  private renderInto(
    out: PianoRoll[],
    excerpts: readonly Excerpt[],
    file: string,
    indices: number[],
  ) {
    const roll = this.renderFile(file);
    for (const i of indices) out[i] = roll.slice(excerpts[i].startFrame, excerpts[i].frames);
  }

  /** The parsed file behind an excerpt (for exporting its notes as MIDI). */
  content(file: string): MidiContent {
    return readMidiFile(this.entries.get(file)!.path, { sustain: this.sustain });
  }

  private renderFile(file: string): PianoRoll {
    const content = this.content(file);
    return renderRoll(content.notes, this.layout, content.durationSeconds);
  }
}

/**
 * `count` of `windows` spread over as many pieces as they come from: pieces in a seeded order, one
 * window of each (seeded too) per round, round after round. A sample of a corpus, of a split or of
 * a bank's calibration windows then covers the most pieces it can instead of the longest ones.
 */
export function spreadOverPieces(
  windows: readonly Excerpt[],
  count: number,
  seed: number | string,
): Excerpt[] {
  const byPiece = new Map<string, Excerpt[]>();
  for (const x of windows) {
    if (!byPiece.has(x.piece)) byPiece.set(x.piece, []);
    byPiece.get(x.piece)!.push(x);
  }
  const rng = new Rng(seed);
  const pools = rng.shuffle([...byPiece.keys()].sort()).map((p) => rng.shuffle(byPiece.get(p)!));
  const out: Excerpt[] = [];
  for (let round = 0; out.length < count && pools.some((p) => p.length > round); round++) {
    for (const pool of pools) {
      if (out.length >= count) break;
      if (round < pool.length) out.push(pool[round]);
    }
  }
  return out;
}
