import type { Note } from '../../midi/types.ts';
import type { Rng } from '../../util/random.ts';
import { UserError } from '../../util/errors.ts';
import type { BaseParams, ChordSymbol } from './params.ts';

/** Time grid, note building and loudness shared by the generators. */

export interface Timing {
  /** Seconds per beat. */
  beat: number;
  /** Seconds per bar. */
  bar: number;
  /** Bars to generate (the last may be cut short by `end`). */
  bars: number;
  /** Seconds; no note sounds past it. */
  end: number;
}

export function timingOf(texture: string, p: BaseParams): Timing {
  if (p.bars !== undefined && p.seconds !== undefined) {
    throw new UserError(`pattern ${texture}: give bars or seconds, not both`);
  }
  const beat = 60 / p.tempo;
  const bar = beat * p.beatsPerBar;
  const bars = p.seconds !== undefined ? Math.ceil(p.seconds / bar - 1e-9) : (p.bars ?? 4);
  return { beat, bar, bars, end: p.seconds ?? bars * bar };
}

/** The chord of a bar (or beat), cycling through the progression. */
export function chordAt(progression: readonly ChordSymbol[], index: number): ChordSymbol {
  return progression[index % progression.length];
}

/**
 * Loudness of a note: metric accents (downbeat strongest, then beats, then off-beats), a gentle
 * swell over each two-bar phrase, and with `vary` a little random unevenness like a player's.
 */
export function velocityAt(
  p: BaseParams,
  rng: Rng,
  bar: number,
  beatInBar: number,
  offBeat = false,
): number {
  const accent = offBeat ? 0 : beatInBar === 0 ? 10 : 4;
  const phrase = (bar % 2) + beatInBar / p.beatsPerBar; // 0..2 across a two-bar phrase
  const swell = Math.round(8 * Math.sin((Math.PI * phrase) / 2));
  const noise = p.vary ? Math.round(rng.normal() * 5) : 0;
  return Math.max(1, Math.min(127, p.velocity + accent + swell - 4 + noise));
}

export function makeNote(pitch: number, onset: number, duration: number, velocity: number): Note {
  const v = Math.max(1, Math.min(127, Math.round(velocity)));
  return { pitch, onset, offset: onset + duration, velocity: v, track: 0, channel: 0 };
}

/** Cut notes at `end`, round times to microseconds, and sort by onset then pitch. */
export function finish(notes: Note[], end: number): Note[] {
  const round = (t: number) => Math.round(t * 1e6) / 1e6;
  return notes
    .filter((n) => n.onset < end - 1e-9)
    .map((n) => ({ ...n, onset: round(n.onset), offset: round(Math.min(n.offset, end)) }))
    .filter((n) => n.offset > n.onset)
    .sort((a, b) => a.onset - b.onset || a.pitch - b.pitch);
}
