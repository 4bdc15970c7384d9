import { z } from 'zod';
import type { Note } from '../../midi/types.ts';
import { Rng } from '../../util/random.ts';
import { pitchesIn, scalePitchClasses } from './harmony.ts';
import { baseParams } from './params.ts';
import { finish, makeNote, timingOf, velocityAt } from './render.ts';

/**
 * Scale runs: fast stepwise runs up and down the key's scale, each an octave or more long before
 * turning, bouncing off the edges of the register, as in Classical passage-work.
 */
export const scalesSchema = baseParams({ low: 55, high: 91 }).extend({
  notesPerBeat: z.number().int().min(2).max(8).default(4),
  /** Shortest and longest run, in notes, before the direction turns. */
  runLength: z
    .tuple([z.number().int().min(3), z.number().int().min(3)])
    .refine(([a, b]) => b >= a, {
      message: 'the longest run must not be shorter than the shortest',
    })
    .default([8, 15]),
});
export type ScalesParams = z.infer<typeof scalesSchema>;

export function scales(p: ScalesParams): Note[] {
  const rng = new Rng(p.seed).fork('scales');
  const t = timingOf('scales', p);
  const pitches = pitchesIn(scalePitchClasses(p.key), p.register.low, p.register.high);
  return finish(runs(p, t, rng, pitches, p.notesPerBeat, p.runLength), t.end);
}

/**
 * Walk through `pitches` one neighbour at a time, turning after a run of random length or at
 * the edge of the list. Shared with the chromatic texture, which walks all twelve semitones.
 */
export function runs(
  p: z.infer<ReturnType<typeof baseParams>>,
  t: ReturnType<typeof timingOf>,
  rng: Rng,
  pitches: readonly number[],
  notesPerBeat: number,
  runLength: readonly [number, number],
): Note[] {
  const step = t.beat / notesPerBeat;
  const count = Math.ceil(t.end / step);
  let index = rng.int(0, pitches.length - 1);
  let direction = rng.chance(0.5) ? 1 : -1;
  let left = rng.int(runLength[0], runLength[1]);
  const notes: Note[] = [];
  for (let i = 0; i < count; i++) {
    const onset = i * step;
    const bar = Math.floor(onset / t.bar + 1e-9);
    const beat = Math.floor((onset - bar * t.bar) / t.beat + 1e-9);
    const vel = velocityAt(p, rng, bar, beat, i % notesPerBeat !== 0);
    notes.push(makeNote(pitches[index], onset, step * 0.9, vel));
    if (--left <= 0 || index + direction < 0 || index + direction >= pitches.length) {
      direction = -direction;
      left = rng.int(runLength[0], runLength[1]);
    }
    index += direction;
  }
  return notes;
}
