import { z } from 'zod';
import type { Note } from '../../midi/types.ts';
import { Rng } from '../../util/random.ts';
import { chordPitchClasses, pitchesIn } from './harmony.ts';
import { baseParams } from './params.ts';
import { chordAt, finish, makeNote, timingOf, velocityAt } from './render.ts';

/**
 * Arpeggio: sweeping broken chords in sixteenths that climb from the root at the bottom of the
 * register through `octaves` (2+) octaves of chord tones and fall back, one chord per bar, as in
 * Romantic accompaniments and études.
 */
export const arpeggioSchema = baseParams({ low: 36, high: 84 }).extend({
  octaves: z.number().int().min(2).max(4).default(2),
  notesPerBeat: z.number().int().min(2).max(6).default(4),
});
export type ArpeggioParams = z.infer<typeof arpeggioSchema>;

export function arpeggio(p: ArpeggioParams): Note[] {
  const rng = new Rng(p.seed).fork('arpeggio');
  const t = timingOf('arpeggio', p);
  const step = t.beat / p.notesPerBeat;
  const notes: Note[] = [];
  for (let bar = 0; bar < t.bars; bar++) {
    const chord = chordPitchClasses(p.key, chordAt(p.progression, bar)).slice(0, 3);
    const root = pitchesIn([chord[0]], p.register.low, p.register.low + 11)[0];
    const rising = pitchesIn(chord, root, root + 12 * p.octaves);
    // Up and down without repeating the turning points; with `vary`, sometimes only upwards.
    const figure =
      p.vary && rng.chance(0.3) ? rising : [...rising, ...rising.slice(1, -1).reverse()];
    const count = p.beatsPerBar * p.notesPerBeat;
    for (let i = 0; i < count; i++) {
      const beat = Math.floor(i / p.notesPerBeat);
      const pitch = figure[i % figure.length];
      const vel = velocityAt(p, rng, bar, beat, i % p.notesPerBeat !== 0);
      // Notes ring a little (as with pedal) so the harmony blooms.
      notes.push(makeNote(pitch, bar * t.bar + i * step, step * 1.5, vel));
    }
  }
  return finish(notes, t.end);
}
