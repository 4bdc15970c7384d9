import { applyEdits, editNote } from '../edits/apply.ts';
import { describeEdit } from '../edits/describe.ts';
import type { EditGrid, NoteEdit } from '../edits/types.ts';
import type { Note } from '../midi/types.ts';
import { notesToMidiBytes } from '../midi/write.ts';
import type { AttackEdit, AttackOutcome, AttackSearch } from '../results/attack.ts';
import { writeFileAtomic } from '../util/files.ts';
import { safeSegment } from '../util/paths.ts';
import type { AttackExcerpt } from './excerpts.ts';
import type { EditJudgement } from './search.ts';

/**
 * A successful attack as a musician receives it, in `excerpts/attack/<search>/`:
 *   NN-<composer>-<piece>-<where>-original.mid     the excerpt as the model saw it
 *   NN-<composer>-<piece>-<where>-adversarial.mid  the same with the edits
 *   NN-<composer>-<piece>-<where>-edits.txt        the edits in words, one per line
 * Returns the paths relative to the output folder.
 */
export function writeAttackFiles(
  x: AttackExcerpt,
  search: AttackSearch,
  rank: number,
  edits: readonly NoteEdit[],
  described: readonly AttackEdit[],
  outcome: Pick<AttackOutcome, 'predicted'>,
  grid: EditGrid,
  writeFile: (rel: string) => string,
): NonNullable<AttackOutcome['midi']> {
  const e = x.excerpt;
  const where = e.bars
    ? `bars-${e.bars.start}-${e.bars.end}`
    : `${Math.round(e.start)}s-${Math.round(e.end)}s`;
  const base = `excerpts/attack/${search}/${String(rank).padStart(3, '0')}-${safeSegment(e.composer)}-${safeSegment(e.piece)}-${where}`;
  const title = `${e.composer}, ${e.piece}, ${e.bars ? `bars ${e.bars.start}-${e.bars.end}` : `${e.start.toFixed(1)}-${e.end.toFixed(1)} s`}`;
  const paths = {
    original: `${base}-original.mid`,
    adversarial: `${base}-adversarial.mid`,
    edits: `${base}-edits.txt`,
  };
  writeFileAtomic(writeFile(paths.original), notesToMidiBytes(x.notes, { name: title }));
  writeFileAtomic(
    writeFile(paths.adversarial),
    notesToMidiBytes(applyEdits(x.notes, edits, grid), {
      name: `${title}, ${edits.length} edit${edits.length === 1 ? '' : 's'} (${search})`,
    }),
  );
  const lines = [
    `${title} (${e.file})`,
    `The model hears ${e.composer}; after these ${edits.length} edit${edits.length === 1 ? '' : 's'} (${search} search) it hears ${outcome.predicted}.`,
    '',
    ...described.map((d, i) => `${i + 1}. ${d.text}`),
    '',
  ];
  writeFileAtomic(writeFile(paths.edits), lines.join('\n'));
  return paths;
}

/** The edits of an attack as results.json lists them: in words, with the note before and after. */
export function attackEdits(
  x: AttackExcerpt,
  edits: readonly NoteEdit[],
  grid: EditGrid,
  judged?: readonly EditJudgement[],
): AttackEdit[] {
  const span = (n: Note) => ({ pitch: n.pitch, onset: round(n.onset), offset: round(n.offset) });
  return edits.map((e, i) => {
    const d = describeEdit(e, x.notes, grid, x.place, judged?.[i]);
    const from = e.kind === 'add' ? undefined : x.notes[e.note];
    const to =
      e.kind === 'add' ? { ...e, track: 0, channel: 0 } : editNote(x.notes[e.note], e, grid);
    return {
      ...d,
      time: round(d.time),
      ...(from ? { from: span(from) } : {}),
      ...(to ? { to: span(to) } : {}),
    };
  });
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
