import type { Note } from '../midi/types.ts';
import { onsetGroups } from './notes.ts';

/**
 * Voices by pitch proximity (for imitation): the notes of each chord, from the top down, join the
 * free voice (its last note over by this onset) whose last pitch is nearest, within MAX_LEAP
 * semitones; a note that finds none starts a new voice. This follows the lines of a fugue well
 * while they do not cross; where they cross, a line may pass from one voice to another.
 */
export const MAX_LEAP = 9;

export interface Voice {
  notes: Note[];
}

export function separateVoices(notes: readonly Note[]): Voice[] {
  const voices: { notes: Note[]; last: number; end: number }[] = [];
  for (const g of onsetGroups(notes)) {
    const taken = new Set<number>();
    const chord = [...g.notes].sort((a, b) => b.pitch - a.pitch);
    for (const n of chord) {
      let best = -1;
      let bestCost = Infinity;
      voices.forEach((v, k) => {
        if (taken.has(k) || v.end > n.onset + 0.03) return;
        const cost = Math.abs(v.last - n.pitch);
        if (cost <= MAX_LEAP && cost < bestCost) {
          best = k;
          bestCost = cost;
        }
      });
      if (best < 0) {
        voices.push({ notes: [], last: n.pitch, end: 0 });
        best = voices.length - 1;
      }
      const v = voices[best];
      v.notes.push(n);
      v.last = n.pitch;
      v.end = n.offset;
      taken.add(best);
    }
  }
  return voices.map((v) => ({ notes: v.notes }));
}
