/**
 * Edits in words a musician can check against the score: the note spelled in its local key, its
 * place as bar and beat under the piece's own time signatures (seconds for performances, whose
 * bars mean nothing), the change, and what it costs musically (src/edits/candidates.ts).
 */
import type { LocalKeys } from '../key/estimate.ts';
import { keyName, spellPitch, type Key } from '../key/spell.ts';
import { barBeat, formatBeat } from '../midi/timemap.ts';
import type { BarPosition, Note, TimeMap } from '../midi/types.ts';
import { EDIT_COSTS, type EditFlag } from './candidates.ts';
import type { EditGrid, EditKind, NoteEdit } from './types.ts';

const NAMES = ['C', 'C♯', 'D', 'E♭', 'E', 'F', 'F♯', 'G', 'A♭', 'A', 'B♭', 'B'];

/** Scientific pitch name: 60 is C4, 61 C♯4, 63 E♭4. */
export function pitchName(pitch: number): string {
  return `${NAMES[((pitch % 12) + 12) % 12]}${Math.floor(pitch / 12) - 1}`;
}

/**
 * Seconds within which an edit's time is taken on the beat grid of its file: an excerpt's notes are
 * held on the excerpt MIDI file's own grid (1/960 s), up to half of that away from the file's.
 */
const PLACE_TOLERANCE = 1e-3;

/** Where an excerpt sits in its file, to place its notes for a musician. */
export interface EditPlace {
  /** Seconds of the excerpt's start within the file. */
  start: number;
  /** The file's time map when its bars mean something (score MIDI with a meter): bar and beat too. */
  timeMap?: TimeMap;
  /** The file's local keys (seconds within the file): pitches are spelled in them. */
  keys?: LocalKeys;
}

/** Cost and flags of an edit as the search judged it (src/robustness/search.ts). */
export interface EditCostInput {
  cost: number;
  flags: readonly EditFlag[];
}

/** An edit's cost in words: what makes it more than a small change, if anything. */
export function costInWords(kind: EditKind, judged: EditCostInput): string {
  const why: string[] = [];
  if (kind === 'octave') why.push('a change of register');
  if (judged.flags.includes('chromatic')) why.push('a chromatic note, outside the key');
  if (judged.flags.includes('dissonant')) why.push('a new dissonance with a note sounding');
  if (judged.flags.includes('long')) why.push('held longer than the notes around it');
  const units = `${judged.cost} note change${judged.cost === 1 ? '' : 's'}`;
  if (why.length > 0) return `cost ${units}: ${why.join(', ')}`;
  const small: Record<EditKind, string> = {
    delete: 'one note left out',
    add: 'one note of the key added, consonant with what sounds',
    shift:
      judged.cost <= EDIT_COSTS.shift[0]
        ? 'a note nudged by one frame'
        : 'a note nudged by two frames',
    resize: 'a note played longer or shorter, within the note values around it',
    octave: 'a change of register',
  };
  return `cost ${units}: ${small[kind]}`;
}

/** An edit in words and in numbers, for a musician to find and check it. */
export interface DescribedEdit {
  kind: EditKind;
  /** E.g. "delete E♭5 at bar 12, beat 2½ (3.25 s)". */
  text: string;
  /** The pitch of the note edited (or added). */
  pitch: number;
  pitchName: string;
  /** The local key the pitch is spelled in, e.g. "E♭ major". */
  key?: string;
  /** Onset of the note edited (or added), seconds within the file. */
  time: number;
  /** Bar and beat (beat always within the bar), with the bar's meter, e.g. "3/4". */
  bar?: BarPosition & { meter: string };
  edit: NoteEdit;
  /** Musical cost (units of one note changed) and what raises it. */
  cost?: number;
  flags?: EditFlag[];
  /** The cost in words. */
  costText?: string;
}

/** Describe one edit of `notes` (the note list the edit's indices refer to). */
export function describeEdit(
  edit: NoteEdit,
  notes: readonly Note[],
  grid: EditGrid,
  place: EditPlace,
  judged?: EditCostInput,
): DescribedEdit {
  const note: Note =
    edit.kind === 'add'
      ? { ...edit, track: 0, channel: 0 }
      : (notes[edit.note] ??
        (() => {
          throw new Error(`edit ${edit.kind}: no note ${edit.note}`);
        })());
  const time = place.start + note.onset;
  const bar = place.timeMap ? barBeat(place.timeMap, time, PLACE_TOLERANCE) : undefined;
  const key: Key | undefined = place.keys?.keyAt(time);
  const spell = (p: number) => (key ? spellPitch(p, key) : pitchName(p));
  const name = spell(note.pitch);
  const at = `at ${bar ? `bar ${bar.bar}, beat ${formatBeat(bar.beat)} (${clock(time)})` : clock(time)}`;
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
      text = `move ${name} ${at} ${edit.semitones > 0 ? 'up' : 'down'} an octave, to ${spell(note.pitch + edit.semitones)}`;
      break;
  }
  if (key) text += `; key ${keyName(key)}`;
  const out: DescribedEdit = {
    kind: edit.kind,
    text,
    pitch: note.pitch,
    pitchName: name,
    ...(key ? { key: keyName(key) } : {}),
    time,
    edit,
  };
  if (bar)
    out.bar = {
      bar: bar.bar,
      // Rounded down: a beat never reads as the next bar's.
      beat: Math.floor(bar.beat * 1000) / 1000,
      meter: `${bar.numerator}/${bar.denominator}`,
    };
  if (judged) {
    out.cost = judged.cost;
    out.flags = [...judged.flags];
    out.costText = costInWords(edit.kind, judged);
    out.text += `; ${out.costText}`;
  }
  return out;
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
