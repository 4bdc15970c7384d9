import { z } from 'zod';
import type { Note } from '../../midi/types.ts';
import { Rng } from '../../util/random.ts';
import { chordPitchClasses, pitchesIn, scalePitchClasses } from './harmony.ts';
import { baseParams } from './params.ts';
import { chordAt, finish, makeNote, timingOf, velocityAt } from './render.ts';

/**
 * Trill: each note of a slow melody (a chord tone, held for `trillBeats` beats) is trilled, i.e.
 * rapidly alternated with its upper neighbour in the scale (a semitone or a tone above).
 */
export const trillSchema = baseParams({ low: 60, high: 88 }).extend({
  trillBeats: z.number().int().min(1).max(4).default(2),
  /** Trill notes per beat. */
  notesPerBeat: z.number().int().min(4).max(12).default(8),
});
export type TrillParams = z.infer<typeof trillSchema>;

export function trill(p: TrillParams): Note[] {
  const rng = new Rng(p.seed).fork('trill');
  const t = timingOf('trill', p);
  const scale = pitchesIn(scalePitchClasses(p.key), p.register.low, p.register.high);
  const step = t.beat / p.notesPerBeat;
  const notes: Note[] = [];
  let main = scale[Math.floor(scale.length / 2)];
  const totalBeats = t.bars * p.beatsPerBar;
  for (let start = 0; start < totalBeats; start += p.trillBeats) {
    const bar = Math.floor(start / p.beatsPerBar);
    const chord = chordPitchClasses(p.key, chordAt(p.progression, bar));
    // Next main note: a chord tone near the last one, leaving room for the upper neighbour.
    const candidates = scale.filter((s, i) => chord.includes(s % 12) && i + 1 < scale.length);
    const near = candidates.filter((c) => Math.abs(c - main) <= 7 && c !== main);
    main = rng.pick(near.length > 0 ? near : candidates);
    // The upper neighbour in the scale; over harmonic minor's augmented second, a whole tone.
    const upper = Math.min(scale[scale.indexOf(main) + 1], main + 2);
    const beats = Math.min(p.trillBeats, totalBeats - start);
    const count = beats * p.notesPerBeat;
    for (let i = 0; i < count; i++) {
      const beat = start + Math.floor(i / p.notesPerBeat);
      const vel =
        velocityAt(p, rng, bar, beat % p.beatsPerBar, i % p.notesPerBeat !== 0) - (i % 2) * 5;
      notes.push(makeNote(i % 2 === 0 ? main : upper, t.beat * start + i * step, step * 0.9, vel));
    }
  }
  return finish(notes, t.end);
}
