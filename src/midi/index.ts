/** MIDI in, piano roll, MIDI out: the public API of src/midi. */
export type * from './types.ts';
export {
  DEFAULT_LAYOUT,
  PianoRoll,
  pitchCount,
  type RollChannel,
  type RollLayout,
} from './roll.ts';
export { MidiReadError, parseMidi, readMidiFile, type ReadOptions } from './read.ts';
export { applySustain } from './sustain.ts';
export {
  barBeat,
  barToSeconds,
  buildTimeMap,
  formatBeat,
  constantTimeMap,
  secondsToBar,
  secondsToTicks,
  ticksToSeconds,
  type BarBeat,
  type RawTempo,
  type RawTimeSignature,
} from './timemap.ts';
export { offsetFrame, onsetFrame, renderRoll, rollFrames } from './render.ts';
export { makeExcerpts, windowStarts, type WindowOptions } from './window.ts';
export {
  DEFAULT_VELOCITY,
  excerptNotes,
  notesToMidiBytes,
  rollToNotes,
  writeMidiFile,
  type RollToNotesOptions,
  type WriteOptions,
} from './write.ts';
