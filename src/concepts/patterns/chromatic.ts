import { z } from 'zod';
import type { Note } from '../../midi/types.ts';
import { Rng } from '../../util/random.ts';
import { baseParams } from './params.ts';
import { finish, timingOf } from './render.ts';
import { runs } from './scales.ts';

/**
 * Chromatic lines: runs that move only by semitones, up and down, turning after a few notes,
 * the slithering chromaticism of late-Romantic passage-work.
 */
export const chromaticSchema = baseParams({ low: 55, high: 84 }).extend({
  notesPerBeat: z.number().int().min(2).max(8).default(4),
  runLength: z
    .tuple([z.number().int().min(3), z.number().int().min(3)])
    .refine(([a, b]) => b >= a, {
      message: 'the longest run must not be shorter than the shortest',
    })
    .default([5, 12]),
});
export type ChromaticParams = z.infer<typeof chromaticSchema>;

export function chromatic(p: ChromaticParams): Note[] {
  const rng = new Rng(p.seed).fork('chromatic');
  const t = timingOf('chromatic', p);
  const pitches = Array.from(
    { length: p.register.high - p.register.low + 1 },
    (_, i) => p.register.low + i,
  );
  return finish(runs(p, t, rng, pitches, p.notesPerBeat, p.runLength), t.end);
}
