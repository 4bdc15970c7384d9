import type { Excerpt } from '../corpus/types.ts';
import type { ConceptLens } from '../lens/lens.ts';
import { describeEdit, editGrid, type EditPlace } from '../edits/index.ts';
import type { MidiContent, Note } from '../midi/types.ts';
import { excerptNotes, writeMidiFile } from '../midi/write.ts';
import type { PassageRef } from '../results/results.ts';
import type { HubAttackReport, HubAttackWindow } from '../results/similar.ts';
import type { HubAttackResult } from './hub-attack.ts';
import type { RetrievalIndex } from './index.ts';
import type { Scaling } from './types.ts';
import { safeSegment } from '../util/paths.ts';

/**
 * Corpus windows as MIDI files a musicologist can open: the notes sounding in the window, shifted
 * to start at 0, named by rank, composer, piece and place, e.g.
 *   excerpts/hits/03-Chopin-Etudes_op_10_3-bars-1-8.mid
 * Files are read once each, however many windows they give.
 */
export class PassageExporter {
  private readonly contents = new Map<string, MidiContent>();

  constructor(
    private readonly lens: ConceptLens,
    private readonly writeFile: (rel: string) => string,
  ) {}

  /** Where the window lies, for results. */
  ref(x: Excerpt): PassageRef {
    const out: PassageRef = {
      composer: x.composer,
      piece: x.piece,
      file: x.file,
      start: round(x.start),
      end: round(x.end),
    };
    if (x.bars) out.bars = { ...x.bars };
    return out;
  }

  /** Where the window lies, for describing edits (bars where the file has them). */
  place(x: Excerpt): EditPlace {
    this.notes(x);
    return { start: x.start, ...(x.bars ? { timeMap: this.contents.get(x.file)!.timeMap } : {}) };
  }

  /** The window's notes. */
  notes(x: Excerpt): Note[] {
    if (!this.contents.has(x.file)) this.contents.set(x.file, this.lens.index.content(x.file));
    return excerptNotes(this.contents.get(x.file)!.notes, x.start, x.end);
  }

  /** Write the window as `<folder>/<name>-<composer>-<piece>-<place>.mid`; returns the relative path. */
  write(folder: string, name: string, x: Excerpt, notes: readonly Note[] = this.notes(x)): string {
    const where = x.bars
      ? `bars-${x.bars.start}-${x.bars.end}`
      : `${Math.round(x.start)}s-${Math.round(x.end)}s`;
    const rel = `${folder}/${safeSegment(`${name}-${x.composer}-${x.piece}-${where}`)}.mid`;
    writeMidiFile(this.writeFile(rel), notes, {
      name: `${x.composer}, ${x.piece}, ${x.bars ? `bars ${x.bars.start}-${x.bars.end}` : `${x.start.toFixed(1)}-${x.end.toFixed(1)} s`}`,
    });
    return rel;
  }
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/**
 * The hub attack for similar.json: rates instead of counts, the edits in seconds and pitches, and
 * every attacked window written as MIDI before and after, so one can hear how much it changed:
 *   excerpts/hub-attack/07-Chopin-...-original.mid, ...-mp-empirical.mid
 */
export function hubAttackReport(
  lens: ConceptLens,
  result: HubAttackResult,
  index: RetrievalIndex,
  exporter: PassageExporter,
): HubAttackReport {
  const o = result.options;
  const grid = editGrid(lens.layout, lens.classifier.input.windowFrames);
  const rates = (hits: Partial<Record<Scaling, number>>, queries: number) =>
    Object.fromEntries(
      Object.entries(hits).map(([s, h]) => [s, round(h! / Math.max(1, queries))]),
    ) as Partial<Record<Scaling, number>>;
  const windows: HubAttackWindow[] = result.windows.map((w, i) => {
    const name = String(i + 1).padStart(2, '0');
    return {
      ...exporter.ref(w.excerpt),
      notes: w.original.length,
      budget: w.budget,
      queries: w.queries,
      before: rates(w.before, w.queries),
      midi: exporter.write('excerpts/hub-attack', `${name}-original`, w.excerpt, w.original),
      attacks: w.runs.map((r) => ({
        scaling: r.scaling,
        edits: r.edits.map((e) => {
          const d = describeEdit(e, w.original, grid, exporter.place(w.excerpt));
          const n = e.kind === 'add' ? e : w.original[(e as { note: number }).note];
          return {
            kind: e.kind === 'add' ? ('add' as const) : ('delete' as const),
            text: d.text,
            pitch: n.pitch,
            onset: round(n.onset),
            offset: round(n.offset),
            velocity: n.velocity,
          };
        }),
        after: rates(r.hits, w.queries),
        midi: exporter.write('excerpts/hub-attack', `${name}-${r.scaling}`, w.excerpt, r.notes),
      })),
    };
  });
  return {
    layer: index.meta.layer,
    pooling: index.meta.pooling,
    metric: index.meta.metric,
    k: o.k,
    queries: o.queries,
    budget: o.budget,
    candidatesPerStep: o.candidates,
    edits:
      'delete a note, or add one at the onset and with the length and loudness of a note of the window, at one of its pitches or an octave from one, or at any pitch but the extreme octaves',
    summary: result.summary.map((s) => ({
      scaling: s.scaling,
      before: round(s.before),
      after: round(s.after),
      transferred: round(s.transferred),
      hubShareBefore: round(s.hubsBefore),
      hubShare: round(s.hubs),
      gapBefore: round(s.gapBefore),
      gapAfter: round(s.gapAfter),
      editsUsed: round(s.editsUsed),
    })),
    windows,
  };
}
