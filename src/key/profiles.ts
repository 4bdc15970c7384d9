/**
 * Key profiles: how strongly each of the twelve pitch classes, counted from the tonic, belongs to a
 * major or a minor key. A key finder correlates a piece's pitch-class histogram with the 24
 * rotations of a major and a minor profile (Krumhansl and Schmuckler's algorithm). Two published
 * pairs are offered, copied from their sources (do not tune them):
 *
 * - 'krumhansl': Krumhansl and Kessler's probe-tone ratings (C. L. Krumhansl, "Cognitive Foundations
 *   of Musical Pitch", Oxford UP 1990, table 2.1), the profiles of the original algorithm;
 * - 'temperley': Temperley's revised profiles (D. Temperley, "What's key for key? The
 *   Krumhansl-Schmuckler key-finding algorithm reconsidered", Music Perception 17(1), 1999, fig. 4),
 *   which raise the leading tone and lower the chromatic degrees.
 */

export type ProfileName = 'krumhansl' | 'temperley';

export const PROFILE_NAMES: readonly ProfileName[] = ['krumhansl', 'temperley'];

export interface KeyProfiles {
  /** Weights of the pitch classes 0..11 above the tonic, in a major key. */
  major: readonly number[];
  /** The same in a minor key. */
  minor: readonly number[];
}

export const PROFILES: Record<ProfileName, KeyProfiles> = {
  krumhansl: {
    major: [6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88],
    minor: [6.33, 2.68, 3.52, 5.38, 2.6, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17],
  },
  temperley: {
    major: [5.0, 2.0, 3.5, 2.0, 4.5, 4.0, 2.0, 4.5, 2.0, 3.5, 1.5, 4.0],
    minor: [5.0, 2.0, 3.5, 4.5, 2.0, 4.0, 2.0, 4.5, 3.5, 2.0, 1.5, 4.0],
  },
};
