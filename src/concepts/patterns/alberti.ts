import { z } from 'zod';
import type { Note } from '../../midi/types.ts';
import { Rng } from '../../util/random.ts';
import { chordPitchClasses, pitchesIn } from './harmony.ts';
import { baseParams } from './params.ts';
import { chordAt, finish, makeNote, timingOf, velocityAt } from './render.ts';

/**
 * Alberti bass: the left hand breaks a close-position triad into low-high-middle-high eighth
 * notes (C-G-E-G), one chord per bar, moving by the nearest voicing from chord to chord.
 */
export const albertiSchema = baseParams({ low: 43, high: 67 }).extend({
  /** Notes per beat: 2 = eighths (classical), 4 = sixteenths. */
  notesPerBeat: z.number().int().min(1).max(4).default(2),
});
export type AlbertiParams = z.infer<typeof albertiSchema>;

export function alberti(p: AlbertiParams): Note[] {
  const rng = new Rng(p.seed).fork('alberti');
  const t = timingOf('alberti', p);
  const step = t.beat / p.notesPerBeat;
  const notes: Note[] = [];
  let previous: number[] | undefined;
  for (let bar = 0; bar < t.bars; bar++) {
    const triad = chordPitchClasses(p.key, chordAt(p.progression, bar)).slice(0, 3);
    const voicing = closeTriad(
      triad,
      p.register.low,
      p.register.high,
      previous,
      p.vary ? rng : undefined,
    );
    previous = voicing;
    const [low, mid, high] = voicing;
    const figure = [low, high, mid, high];
    const count = p.beatsPerBar * p.notesPerBeat;
    for (let i = 0; i < count; i++) {
      const onset = bar * t.bar + i * step;
      const beat = Math.floor(i / p.notesPerBeat);
      const vel = velocityAt(p, rng, bar, beat, i % p.notesPerBeat !== 0);
      // The low note of each figure is a little stronger: it carries the harmony.
      notes.push(makeNote(figure[i % 4], onset, step * 0.95, i % 4 === 0 ? vel : vel - 8));
    }
  }
  return finish(notes, t.end);
}

/**
 * Three consecutive chord tones (any inversion) inside the register, nearest to the previous
 * voicing; with `rng`, sometimes the second-nearest, for variety.
 */
export function closeTriad(
  triad: readonly number[],
  low: number,
  high: number,
  previous: readonly number[] | undefined,
  rng?: Rng,
): number[] {
  const tones = pitchesIn(triad, low, high);
  const options: number[][] = [];
  for (let i = 0; i + 2 < tones.length; i++) options.push(tones.slice(i, i + 3));
  const centre = previous ? previous[1] : (low + high) / 2 - 4;
  options.sort((a, b) => Math.abs(a[1] - centre) - Math.abs(b[1] - centre));
  return rng && options.length > 1 && rng.chance(0.25) ? options[1] : options[0];
}
