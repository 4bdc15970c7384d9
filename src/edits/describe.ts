import { secondsToBar } from '../midi/timemap.ts';
import type { BarPosition, Note, TimeMap } from '../midi/types.ts';
import type { EditGrid, EditKind, NoteEdit } from './types.ts';

const NAMES = ['C', 'C♯', 'D', 'E♭', 'E', 'F', 'F♯', 'G', 'A♭', 'A', 'B♭', 'B'];

/** Scientific pitch name: 60 is C4, 61 C♯4, 63 E♭4. */
export function pitchName(pitch: number): string {
  return `${NAMES[((pitch % 12) + 12) % 12]}${Math.floor(pitch / 12) - 1}`;
}

/** Where an excerpt sits in its file, to place its notes for a musician. */
export interface EditPlace {
  /** Seconds of the excerpt's start within the file. */
  start: number;
  /** The file's time map when its bars mean something (score MIDI with a meter): bar and beat too. */
  timeMap?: TimeMap;
}

/** An edit in words and in numbers, for a musician to find and check it. */
export interface DescribedEdit {
  kind: EditKind;
  /** E.g. "delete E♭5 at bar 12, beat 2.5 (3.25 s)". */
  text: string;
  /** The pitch of the note edited (or added). */
  pitch: number;
  pitchName: string;
  /** Onset of the note edited (or added), seconds within the file. */
  time: number;
  bar?: BarPosition;
  edit: NoteEdit;
}

/** Describe one edit of `notes` (the note list the edit's indices refer to). */
export function describeEdit(
  edit: NoteEdit,
  notes: readonly Note[],
  grid: EditGrid,
  place: EditPlace,
): DescribedEdit {
  const note: Note =
    edit.kind === 'add'
      ? { ...edit, track: 0, channel: 0 }
      : (notes[edit.note] ??
        (() => {
          throw new Error(`edit ${edit.kind}: no note ${edit.note}`);
        })());
  const time = place.start + note.onset;
  const bar = place.timeMap ? secondsToBar(place.timeMap, time) : undefined;
  const name = pitchName(note.pitch);
  const at = `at ${bar ? `bar ${bar.bar}, beat ${round(bar.beat, 2)} (${clock(time)})` : clock(time)}`;
  const frame = 1 / grid.fps;
  let text: string;
  switch (edit.kind) {
    case 'delete':
      text = `delete ${name} ${at}`;
      break;
    case 'add':
      text = `add ${name} ${at}, ${seconds(edit.offset - edit.onset)} long, with the notes starting there`;
      break;
    case 'shift':
      text = `play ${name} ${at} ${seconds(Math.abs(edit.frames) * frame)} ${edit.frames > 0 ? 'later' : 'earlier'} (${frames(edit.frames)})`;
      break;
    case 'resize': {
      const before = note.offset - note.onset;
      text = `${edit.frames > 0 ? 'lengthen' : 'shorten'} ${name} ${at} from ${seconds(before)} to ${seconds(before + edit.frames * frame)} (${frames(edit.frames)})`;
      break;
    }
    case 'octave':
      text = `move ${name} ${at} ${edit.semitones > 0 ? 'up' : 'down'} an octave, to ${pitchName(note.pitch + edit.semitones)}`;
      break;
  }
  const out: DescribedEdit = {
    kind: edit.kind,
    text,
    pitch: note.pitch,
    pitchName: name,
    time,
    edit,
  };
  if (bar) out.bar = { bar: bar.bar, beat: round(bar.beat, 3) };
  return out;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function seconds(s: number): string {
  return `${s.toFixed(2)} s`;
}

function frames(k: number): string {
  const n = Math.abs(k);
  return `${n} frame${n === 1 ? '' : 's'}`;
}

/** Seconds within a file as a listener finds them: 3.25 s, or 1:23.25 past a minute. */
function clock(t: number): string {
  if (t < 60) return `${t.toFixed(2)} s`;
  const m = Math.floor(t / 60);
  const s = t - 60 * m;
  return `${m}:${s < 10 ? '0' : ''}${s.toFixed(2)}`;
}
