import type { Excerpt } from '../corpus/types.ts';
import type { ConceptLens } from '../lens/lens.ts';
import type { MidiContent, Note } from '../midi/types.ts';
import { excerptNotes, writeMidiFile } from '../midi/write.ts';
import type { PassageRef } from '../results/similar.ts';
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
  return Math.round(x * 1000) / 1000;
}
