import { z } from 'zod';
import type { Note } from '../../midi/types.ts';
import { Rng } from '../../util/random.ts';
import { closeTriad } from './alberti.ts';
import { chordPitchClasses, pitchesIn } from './harmony.ts';
import { baseParams } from './params.ts';
import { chordAt, finish, makeNote, timingOf, velocityAt } from './render.ts';

/**
 * Stride / oom-pah bass: a low bass note (root, then fifth, optionally doubled at the octave) on
 * the strong beats and a short close-position chord an octave or two higher on the weak beats
 * (in triple metre: bass on beat 1, chords on 2 and 3, a waltz).
 */
export const strideSchema = baseParams({ low: 31, high: 72 }).extend({
  /** Double the bass note at the octave above. */
  octaveBass: z.boolean().default(true),
});
export type StrideParams = z.infer<typeof strideSchema>;

export function stride(p: StrideParams): Note[] {
  const rng = new Rng(p.seed).fork('stride');
  const t = timingOf('stride', p);
  const { low, high } = p.register;
  const notes: Note[] = [];
  let previous: number[] | undefined;
  for (let bar = 0; bar < t.bars; bar++) {
    const triad = chordPitchClasses(p.key, chordAt(p.progression, bar)).slice(0, 3);
    const voicing = closeTriad(triad, low + 24, high, previous, p.vary ? rng : undefined);
    previous = voicing;
    let strong = 0;
    for (let beat = 0; beat < p.beatsPerBar; beat++) {
      const onset = bar * t.bar + beat * t.beat;
      const vel = velocityAt(p, rng, bar, beat);
      if (isStrongBeat(beat, p.beatsPerBar)) {
        // Root first, then the fifth (with `vary`, sometimes the root again).
        const pc = strong % 2 === 1 && !(p.vary && rng.chance(0.3)) ? triad[2] : triad[0];
        const bass = pitchesIn([pc], low, low + 11)[0];
        notes.push(makeNote(bass, onset, t.beat * 0.85, vel + 6));
        if (p.octaveBass) notes.push(makeNote(bass + 12, onset, t.beat * 0.85, vel + 2));
        strong++;
      } else {
        for (const pitch of voicing) notes.push(makeNote(pitch, onset, t.beat * 0.45, vel - 6));
      }
    }
  }
  return finish(notes, t.end);
}

/** Bass on beats 1 and 3 of 4/4 (every other beat in even metres); on beat 1 only otherwise. */
export function isStrongBeat(beat: number, beatsPerBar: number): boolean {
  return beatsPerBar % 2 === 0 ? beat % 2 === 0 : beat === 0;
}
