import type { Note } from '../midi/types.ts';

/**
 * The two note edits the hub attack makes, shaped like the `delete` and `add` edits of src/edits
 * (branch robust: `NoteEdit`, `applyEdits`), so that switching to those is a change of import once
 * that branch is merged. Indices refer to the original note list.
 */
export type HubEdit =
  | { kind: 'delete'; note: number }
  | { kind: 'add'; pitch: number; onset: number; offset: number; velocity: number };

/** The notes after the edits (a new list sorted by onset, then pitch). */
export function applyHubEdits(notes: readonly Note[], edits: readonly HubEdit[]): Note[] {
  const deleted = new Set<number>();
  const added: Note[] = [];
  for (const e of edits) {
    if (e.kind === 'delete') {
      if (!Number.isInteger(e.note) || e.note < 0 || e.note >= notes.length)
        throw new Error(`delete: no note ${e.note} (the excerpt has ${notes.length})`);
      deleted.add(e.note);
    } else {
      added.push({
        pitch: e.pitch,
        onset: e.onset,
        offset: e.offset,
        velocity: e.velocity,
        track: 0,
        channel: 0,
      });
    }
  }
  return [...notes.filter((_, i) => !deleted.has(i)), ...added].sort(
    (a, b) => a.onset - b.onset || a.pitch - b.pitch,
  );
}
