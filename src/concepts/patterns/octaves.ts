import type { z } from 'zod';
import type { Note } from '../../midi/types.ts';
import { Rng } from '../../util/random.ts';
import { melodyLine } from './melody.ts';
import { baseParams } from './params.ts';
import { finish, makeNote, timingOf, velocityAt } from './render.ts';

/**
 * Octaves: a melody doubled at the octave below, both notes struck together, the bold
 * declamatory texture of Romantic piano writing.
 */
export const octavesSchema = baseParams({ low: 48, high: 88 });
export type OctavesParams = z.infer<typeof octavesSchema>;

export function octaves(p: OctavesParams): Note[] {
  const rng = new Rng(p.seed).fork('octaves');
  const t = timingOf('octaves', p);
  const notes: Note[] = [];
  for (const m of melodyLine(p, t, rng, p.register.low + 12, p.register.high)) {
    const vel = velocityAt(p, rng, m.bar, m.beat, m.offBeat) + 6;
    notes.push(makeNote(m.pitch, m.onset, m.duration, vel));
    notes.push(makeNote(m.pitch - 12, m.onset, m.duration, vel - 4));
  }
  return finish(notes, t.end);
}
