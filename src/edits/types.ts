/**
 * Musical edits of a note list: what an adversary (or a curious musician) may change in an
 * excerpt. Every edit names notes by their index in the note list it applies to, and a set of
 * edits applies to one list at once (src/edits/apply.ts), each note edited at most once, so a set
 * reads as a list of changes to the original excerpt.
 *
 * Times are seconds from the start of the excerpt, moves and length changes are whole frames of the
 * model's roll (a frame or two is the smallest change the model can see), so edited times stay on
 * the tick grid of a MIDI file whenever the original times are (at 120 bpm a 20 fps frame is 48
 * ticks): an edited excerpt written as MIDI and read back renders to the same roll.
 */
import type { RollLayout } from '../midi/roll.ts';

export type EditKind = 'delete' | 'add' | 'shift' | 'resize' | 'octave';

export const EDIT_KINDS: readonly EditKind[] = ['delete', 'add', 'shift', 'resize', 'octave'];

export type NoteEdit =
  /** Remove the note. */
  | { kind: 'delete'; note: number }
  /** A new note (on the excerpt's grid when it comes from `EditCandidates`). */
  | { kind: 'add'; pitch: number; onset: number; offset: number; velocity: number }
  /** Move the note (onset and offset together) by whole frames; positive is later. */
  | { kind: 'shift'; note: number; frames: number }
  /** Change the note's length by whole frames, moving its offset; positive is longer. */
  | { kind: 'resize'; note: number; frames: number }
  /** Move the note an octave up (12) or down (-12). */
  | { kind: 'octave'; note: number; semitones: 12 | -12 };

/** The model window an excerpt is edited for: frame rate, visible pitches, length in frames. */
export interface EditGrid {
  fps: number;
  lowPitch: number;
  highPitch: number;
  /** Frames of the window; notes may not be moved or lengthened past its end. */
  frames: number;
}

export function editGrid(layout: RollLayout, frames: number): EditGrid {
  return { fps: layout.fps, lowPitch: layout.lowPitch, highPitch: layout.highPitch, frames };
}

/** The original note an edit changes (undefined for an added note). */
export function editedNote(edit: NoteEdit): number | undefined {
  return edit.kind === 'add' ? undefined : edit.note;
}
