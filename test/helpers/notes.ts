import type { Note } from '../../src/midi/types.ts';

/** A note on track 0, channel 0 (times in seconds). */
export const note = (pitch: number, onset: number, offset: number, velocity = 80): Note => ({
  pitch,
  onset,
  offset,
  velocity,
  track: 0,
  channel: 0,
});
