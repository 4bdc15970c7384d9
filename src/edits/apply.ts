import { renderRoll } from '../midi/render.ts';
import type { PianoRoll, RollLayout } from '../midi/roll.ts';
import type { Note } from '../midi/types.ts';
import type { EditGrid, NoteEdit } from './types.ts';

/** Seconds of slack when checking that a moved note stays inside the window (float sums). */
const SLACK = 1e-9;

/**
 * Apply a set of edits to a note list: a new list (the input is not changed), sorted by onset then
 * pitch, with the edited notes changed, deleted ones gone and added ones in. Indices in the edits
 * refer to `notes`; a note may be edited once. Throws on an edit that is invalid for the grid (a
 * note moved outside the window or the visible pitches, a length below one frame).
 */
export function applyEdits(
  notes: readonly Note[],
  edits: readonly NoteEdit[],
  grid: EditGrid,
): Note[] {
  const changed = new Map<number, Note | null>();
  const added: Note[] = [];
  for (const edit of edits) {
    if (edit.kind === 'add') {
      checkAdd(edit, grid);
      added.push({
        pitch: edit.pitch,
        onset: edit.onset,
        offset: edit.offset,
        velocity: edit.velocity,
        track: 0,
        channel: 0,
      });
      continue;
    }
    if (!Number.isInteger(edit.note) || edit.note < 0 || edit.note >= notes.length)
      throw new Error(`edit ${edit.kind}: no note ${edit.note} (the excerpt has ${notes.length})`);
    if (changed.has(edit.note)) throw new Error(`note ${edit.note} is edited twice`);
    changed.set(edit.note, editNote(notes[edit.note], edit, grid));
  }
  const out: Note[] = [];
  notes.forEach((n, i) => {
    const c = changed.get(i);
    if (c === undefined) out.push(n);
    else if (c !== null) out.push(c);
  });
  out.push(...added);
  return out.sort((a, b) => a.onset - b.onset || a.pitch - b.pitch);
}

/** The edited excerpt rendered as the model sees it: the normal renderer, `grid.frames` frames. */
export function renderEdited(
  notes: readonly Note[],
  edits: readonly NoteEdit[],
  layout: RollLayout,
  grid: EditGrid,
): PianoRoll {
  return renderRoll(applyEdits(notes, edits, grid), layout, grid.frames / grid.fps);
}

/** One note after one edit of it (null: deleted); throws as `applyEdits` does on an invalid edit. */
export function editNote(
  n: Note,
  edit: Exclude<NoteEdit, { kind: 'add' }>,
  grid: EditGrid,
): Note | null {
  const end = grid.frames / grid.fps;
  switch (edit.kind) {
    case 'delete':
      return null;
    case 'shift': {
      checkFrames(edit.frames, 'shift');
      const d = edit.frames / grid.fps;
      if (n.onset + d < -SLACK || n.offset + d > end + SLACK)
        throw new Error(`shift by ${edit.frames} frames moves note ${edit.note} out of the window`);
      return { ...n, onset: Math.max(0, n.onset + d), offset: n.offset + d };
    }
    case 'resize': {
      checkFrames(edit.frames, 'resize');
      const offset = n.offset + edit.frames / grid.fps;
      if (offset > end + SLACK)
        throw new Error(`resize by ${edit.frames} frames ends note ${edit.note} past the window`);
      if (offset - n.onset < 1 / grid.fps - SLACK)
        throw new Error(`resize by ${edit.frames} frames leaves note ${edit.note} under one frame`);
      return { ...n, offset };
    }
    case 'octave': {
      if (edit.semitones !== 12 && edit.semitones !== -12)
        throw new Error(`octave edit by ${edit.semitones} semitones`);
      const pitch = n.pitch + edit.semitones;
      if (pitch < grid.lowPitch || pitch > grid.highPitch)
        throw new Error(
          `octave edit moves note ${edit.note} outside pitches ${grid.lowPitch}..${grid.highPitch}`,
        );
      return { ...n, pitch };
    }
  }
}

function checkFrames(frames: number, kind: string): void {
  if (!Number.isInteger(frames) || frames === 0)
    throw new Error(`${kind} by ${frames} frames: a non-zero whole number is needed`);
}

function checkAdd(edit: Extract<NoteEdit, { kind: 'add' }>, grid: EditGrid): void {
  const end = grid.frames / grid.fps;
  if (!(edit.onset >= 0 && edit.offset > edit.onset && edit.offset <= end + SLACK))
    throw new Error(`added note ${edit.onset}..${edit.offset} s is not inside the window`);
  if (!Number.isInteger(edit.pitch) || edit.pitch < grid.lowPitch || edit.pitch > grid.highPitch)
    throw new Error(
      `added note has pitch ${edit.pitch}, outside ${grid.lowPitch}..${grid.highPitch}`,
    );
  if (!(edit.velocity >= 1 && edit.velocity <= 127))
    throw new Error(`added note has velocity ${edit.velocity}`);
}
