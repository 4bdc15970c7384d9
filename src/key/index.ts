/**
 * Keys from the notes and pitch names spelled in them: the public API of src/key. A stage of its
 * own (rules over the notes, no model), used by the edits (src/edits, src/robustness) to keep added
 * notes in the local key and to spell them, and by the pages to name pitches as a score would.
 */
export { PROFILE_NAMES, PROFILES, type KeyProfiles, type ProfileName } from './profiles.ts';
export {
  fifthsName,
  inKeyPitchClasses,
  keyName,
  keySignature,
  scalePitchClasses,
  spelledFifths,
  spellPitch,
  spellPitchClass,
  type Key,
  type Mode,
} from './spell.ts';
export {
  estimateKey,
  keyCorrelations,
  keyIndex,
  keyOfIndex,
  LOCAL_DEFAULTS,
  localKeys,
  LocalKeys,
  pitchClassHistogram,
  type KeyEstimate,
  type KeySegment,
  type LocalKeyOptions,
} from './estimate.ts';
