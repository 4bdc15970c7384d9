import type { ChordSymbol, Key } from './params.ts';

/**
 * Just enough tonal harmony for the generators: diatonic chords of a key, and the piano keys in a
 * register that belong to a chord or scale. Minor keys use the harmonic minor scale so that V is
 * major, as in common-practice music.
 */

const MAJOR = [0, 2, 4, 5, 7, 9, 11];
const HARMONIC_MINOR = [0, 2, 3, 5, 7, 8, 11];
const NUMERALS = ['i', 'ii', 'iii', 'iv', 'v', 'vi', 'vii'];
const NAMES = ['C', 'C#', 'D', 'Eb', 'E', 'F', 'F#', 'G', 'Ab', 'A', 'Bb', 'B'];

/** Pitch classes of the key's scale, tonic first. */
export function scalePitchClasses(key: Key): number[] {
  return (key.mode === 'major' ? MAJOR : HARMONIC_MINOR).map((s) => (s + key.tonic) % 12);
}

/** Scale degree 1..7 of a chord symbol. */
export function chordDegree(symbol: ChordSymbol): number {
  if (typeof symbol === 'number') return symbol;
  const numeral = symbol.toLowerCase().replace(/[o°+]?7?$/, '');
  return NUMERALS.indexOf(numeral) + 1;
}

/** Pitch classes of a diatonic chord: root, third, fifth (and seventh for "V7"), stacked in thirds. */
export function chordPitchClasses(key: Key, symbol: ChordSymbol): number[] {
  const scale = scalePitchClasses(key);
  const degree = chordDegree(symbol) - 1;
  const size = typeof symbol === 'string' && symbol.endsWith('7') ? 4 : 3;
  return Array.from({ length: size }, (_, i) => scale[(degree + 2 * i) % 7]);
}

/** Every piano key in [low, high] whose pitch class is in `pitchClasses`, ascending. */
export function pitchesIn(pitchClasses: readonly number[], low: number, high: number): number[] {
  const out: number[] = [];
  for (let p = low; p <= high; p++) if (pitchClasses.includes(((p % 12) + 12) % 12)) out.push(p);
  return out;
}

/** The pitch of class `pc` in [low, high] nearest to `target` (undefined if none). */
export function nearestPitch(
  pc: number,
  target: number,
  low: number,
  high: number,
): number | undefined {
  let best: number | undefined;
  for (const p of pitchesIn([pc], low, high)) {
    if (best === undefined || Math.abs(p - target) < Math.abs(best - target)) best = p;
  }
  return best;
}

/** "D minor", "Bb major". */
export function keyName(key: Key): string {
  return `${NAMES[key.tonic]} ${key.mode}`;
}
