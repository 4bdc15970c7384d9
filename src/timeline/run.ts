import type { ConceptBank } from '../bank/build.ts';
import { forEachFile } from '../corpus/read.ts';
import type { CorpusEntry } from '../corpus/types.ts';
import type { ComposerClassifier } from '../model/classifier.ts';
import type { MidiContent } from '../midi/types.ts';
import { excerptNotes, notesToMidiBytes } from '../midi/write.ts';
import { renderTimelinePage } from '../report/timeline-page.ts';
import { windowPlace } from '../report/timeline-figure.ts';
import { VERSION } from '../results/identity.ts';
import { publicPath } from '../results/public-path.ts';
import type { ModelIdentity } from '../results/results.ts';
import { TIMELINE_FORMAT, type PieceTimeline, type TimelineResults } from '../results/timeline.ts';
import { UserError } from '../util/errors.ts';
import { safeSegment } from '../util/paths.ts';
import type { Progress } from '../util/progress.ts';
import { analysePiece, type AnalyseOptions } from './analyse.ts';

/**
 * Timelines of a list of pieces with one bank: each readable file is analysed (analyse.ts), its
 * page written and the top windows of each concept exported as MIDI, then dropped, so memory holds
 * one piece at a time. Unreadable files are skipped and listed. Products go under `timeline/` of
 * the output folder, the numbers into `timeline.json`.
 */
export interface TimelineSink {
  /** Write a product, `rel` relative to the output folder. */
  writeText(rel: string, text: string): void;
  writeBytes(rel: string, bytes: Uint8Array): void;
}

export interface TimelineRunOptions extends AnalyseOptions {
  command: 'timeline' | 'explain';
  model: ModelIdentity;
  startedAt: string;
  sustain?: boolean;
  progress?: Progress;
  /** Told about each piece with warnings (shorter than a window, ...). */
  warn?: (message: string) => void;
}

export const DEFAULT_TOP_WINDOWS = 3;

export async function runTimeline(
  classifier: ComposerClassifier,
  bank: ConceptBank,
  entries: readonly CorpusEntry[],
  sink: TimelineSink,
  options: TimelineRunOptions,
): Promise<TimelineResults> {
  const started = Date.now();
  const spec = classifier.input;
  for (const c of options.composers) {
    if (!classifier.labels.includes(c))
      throw new UserError(
        `--composer: ${c} is not a composer of the model (${classifier.labels.join(', ')})`,
      );
  }
  const results: TimelineResults = {
    format: TIMELINE_FORMAT,
    run: {
      tool: 'concept-lens',
      version: VERSION,
      command: options.command,
      startedAt: options.startedAt,
      seconds: 0,
      windowSeconds: spec.windowFrames / spec.fps,
      hopSeconds: options.hopFrames / spec.fps,
      hopFrames: options.hopFrames,
      composers: options.composers,
      topWindows: options.topWindows,
      derivatives: [],
    },
    model: options.model,
    bank: {
      ...(bank.path ? { path: publicPath(bank.path) } : {}),
      createdAt: bank.info.createdAt,
      corpus: bank.info.corpus.name,
      referenceExcerpts: bank.info.reference.count,
      concepts: bank.concepts.map((c) => ({
        name: c.name,
        ...(c.description ? { description: c.description } : {}),
        layers: c.layers.map((l) => l.layer),
      })),
    },
    pieces: [],
    skipped: [],
  };
  const skipped = await forEachFile(
    entries,
    async (entry, content) => {
      const piece = await analysePiece(classifier, bank, entry, content, options);
      const slug = `${String(results.pieces.length + 1).padStart(2, '0')}-${pieceSlug(entry.file)}`;
      exportTopWindows(piece, content, slug, results.run.windowSeconds, sink);
      piece.page = `timeline/${slug}.html`;
      const notes = content.notes.map(
        (n) => [n.pitch, ms(n.onset), ms(n.offset), n.velocity] as [number, number, number, number],
      );
      sink.writeText(piece.page, renderTimelinePage(results, piece, notes));
      for (const w of piece.warnings) options.warn?.(`${entry.file}: ${w}`);
      results.pieces.push(piece);
    },
    { sustain: options.sustain, progress: options.progress },
  );
  results.skipped = skipped.map((s) => ({ file: s.file, reason: s.reason }));
  for (const layer of [...new Set(bank.concepts.flatMap((c) => c.layers.map((l) => l.layer)))]) {
    const head = await classifier.head(layer);
    results.run.derivatives.push({
      layer,
      derivatives: head.derivatives,
      ...(head.derivativesNote ? { note: head.derivativesNote } : {}),
    });
    if (head.derivativesNote) options.warn?.(`${layer}: ${head.derivativesNote}`);
  }
  results.run.seconds = Math.round((Date.now() - started) / 100) / 10;
  return results;
}

/** The top windows of each lane as MIDI: `timeline/<piece>/<NN>-<concept>-<layer>-<rank>.mid`. */
function exportTopWindows(
  piece: PieceTimeline,
  content: MidiContent,
  slug: string,
  windowSeconds: number,
  sink: TimelineSink,
): void {
  piece.lanes.forEach((lane, k) => {
    lane.top.forEach((t, rank) => {
      const w = piece.windows[t.window];
      const rel = `timeline/${slug}/${String(k + 1).padStart(2, '0')}-${safeSegment(lane.concept)}-${safeSegment(lane.layer)}-${rank + 1}.mid`;
      const notes = excerptNotes(content.notes, w.start, w.start + windowSeconds);
      sink.writeBytes(
        rel,
        notesToMidiBytes(notes, {
          name: `${lane.concept} (${lane.layer}): ${piece.piece}, ${windowPlace(piece, t.window)}, presence ${t.presence.toFixed(2)}`,
        }),
      );
      t.midi = rel;
    });
  });
}

/** A file name for a piece: the last three parts of its path (the telling ones), made safe. */
function pieceSlug(file: string): string {
  const parts = file
    .replace(/\.(mid|midi)$/i, '')
    .split(/[\\/]/)
    .filter((p) => p && p !== '.' && p !== '..');
  return safeSegment(parts.slice(-3).join('_'));
}

function ms(t: number): number {
  return Math.round(t * 1000) / 1000;
}
