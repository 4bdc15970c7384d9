import { z } from 'zod';
import type { Note } from '../../midi/types.ts';
import { Rng } from '../../util/random.ts';
import { chordPitchClasses, pitchesIn } from './harmony.ts';
import { baseParams } from './params.ts';
import { chordAt, finish, makeNote, timingOf, velocityAt } from './render.ts';

/**
 * Tremolo: rapid alternation of a chord tone and the note `interval` semitones above it (an
 * octave by default, a measured "fingered" tremolo); `interval: 0` gives repeated notes.
 * The chord tone changes each half bar, following the harmony.
 */
export const tremoloSchema = baseParams({ low: 48, high: 84 }).extend({
  interval: z.number().int().min(0).max(12).default(12),
  notesPerBeat: z.number().int().min(2).max(12).default(6),
});
export type TremoloParams = z.infer<typeof tremoloSchema>;

export function tremolo(p: TremoloParams): Note[] {
  const rng = new Rng(p.seed).fork('tremolo');
  const t = timingOf('tremolo', p);
  const step = t.beat / p.notesPerBeat;
  const notes: Note[] = [];
  let lower = Math.round((p.register.low + p.register.high - p.interval) / 2);
  const half = Math.ceil(p.beatsPerBar / 2);
  for (let bar = 0; bar < t.bars; bar++) {
    const chord = chordPitchClasses(p.key, chordAt(p.progression, bar));
    const tones = pitchesIn(chord, p.register.low, p.register.high - p.interval);
    for (const [from, to] of [
      [0, half],
      [half, p.beatsPerBar],
    ]) {
      // Move to a chord tone near the previous one (with `vary`, sometimes a farther one).
      const near = tones.filter((x) => Math.abs(x - lower) <= (p.vary ? 9 : 5));
      lower = near.length > 0 ? rng.pick(near) : tones[0];
      for (let i = from * p.notesPerBeat; i < to * p.notesPerBeat; i++) {
        const beat = Math.floor(i / p.notesPerBeat);
        const vel = velocityAt(p, rng, bar, beat, i % p.notesPerBeat !== 0);
        const pitch = i % 2 === 0 ? lower : lower + p.interval;
        notes.push(makeNote(pitch, bar * t.bar + i * step, step * 0.9, vel));
      }
    }
  }
  return finish(notes, t.end);
}
