import { z } from 'zod';
import type { Note } from '../../midi/types.ts';
import { Rng } from '../../util/random.ts';
import { melodyLine } from './melody.ts';
import { baseParams } from './params.ts';
import { finish, makeNote, timingOf, velocityAt } from './render.ts';

/**
 * Canon: two-voice imitation. A melody (the leader) is repeated exactly by a second voice
 * (the follower) `delayBars` later and `interval` semitones away (an octave below by default),
 * as in a canon at the octave.
 */
export const canonSchema = baseParams({ low: 45, high: 84 }).extend({
  delayBars: z.number().int().min(1).max(4).default(1),
  /** Transposition of the follower, semitones. */
  interval: z.union([z.literal(-24), z.literal(-12), z.literal(12), z.literal(24)]).default(-12),
});
export type CanonParams = z.infer<typeof canonSchema>;

export function canon(p: CanonParams): Note[] {
  const rng = new Rng(p.seed).fork('canon');
  const t = timingOf('canon', p);
  const shift = Math.abs(p.interval);
  // The leader keeps out of the follower's way: above it when the follower is lower, and so on.
  const [low, high] =
    p.interval < 0
      ? [p.register.low + shift, p.register.high]
      : [p.register.low, p.register.high - shift];
  const leader = melodyLine(p, t, rng, low, high);
  const delay = p.delayBars * t.bar;
  const notes: Note[] = [];
  for (const m of leader) {
    const vel = velocityAt(p, rng, m.bar, m.beat, m.offBeat);
    notes.push(makeNote(m.pitch, m.onset, m.duration, vel));
    notes.push(makeNote(m.pitch + p.interval, m.onset + delay, m.duration, vel - 6));
  }
  return finish(notes, t.end);
}
