import { z } from 'zod';
import type { Note } from '../../midi/types.ts';
import { Rng } from '../../util/random.ts';
import { chordPitchClasses, pitchesIn } from './harmony.ts';
import { baseParams } from './params.ts';
import { chordAt, finish, makeNote, timingOf, velocityAt } from './render.ts';

/**
 * Chorale: four-voice block chords, one chord per beat (the progression advances per beat), the
 * bass on the chord root in the lowest octave of the register and three upper voices in close
 * position that move as little as possible from chord to chord, as in a hymn harmonisation.
 * Needs a register of 26 semitones or more (then three close upper voices always fit).
 */
export const choraleSchema = baseParams({ low: 40, high: 76 }).extend({
  /** Fraction of the beat each chord is held (1 = legato). */
  legato: z.number().min(0.3).max(1).default(0.92),
});
export type ChoraleParams = z.infer<typeof choraleSchema>;

export function chorale(p: ChoraleParams): Note[] {
  const rng = new Rng(p.seed).fork('chorale');
  const t = timingOf('chorale', p);
  const { low, high } = p.register;
  const notes: Note[] = [];
  let upperPrev: number[] | undefined;
  for (let bar = 0; bar < t.bars; bar++) {
    for (let beat = 0; beat < p.beatsPerBar; beat++) {
      const chord = chordPitchClasses(p.key, chordAt(p.progression, bar * p.beatsPerBar + beat));
      const root = chord[0];
      // A seventh chord drops its fifth so that four voices still sound root, third and seventh.
      const upperClasses = chord.length === 4 ? [chord[0], chord[1], chord[3]] : chord;
      const bass = pitchesIn([root], low, low + 11)[0];
      const tones = pitchesIn(upperClasses, bass + 3, high);
      const options: number[][] = [];
      for (let i = 0; i + 2 < tones.length; i++) options.push(tones.slice(i, i + 3));
      const centre = upperPrev ? upperPrev[1] : (bass + high) / 2 + 3;
      options.sort((a, b) => Math.abs(a[1] - centre) - Math.abs(b[1] - centre));
      const upper = p.vary && options.length > 1 && rng.chance(0.2) ? options[1] : options[0];
      upperPrev = upper;
      const onset = bar * t.bar + beat * t.beat;
      const vel = velocityAt(p, rng, bar, beat);
      for (const pitch of [bass, ...upper])
        notes.push(makeNote(pitch, onset, t.beat * p.legato, vel));
    }
  }
  return finish(notes, t.end);
}
