/**
 * Keys and pitch names spelled in a key. A MIDI pitch says which key of the piano, not how the
 * score writes it: 63 is E♭ in B♭ major and D♯ in E minor. Spelling uses the line of fifths
 * (… B♭ F C G D A E B F♯ C♯ …, C at 0, one step per fifth): every pitch class sits at three
 * places on it twelve steps apart, and a note takes the place nearest the key's centre, so that the
 * seven notes of the key signature come out as written and chromatic notes lean the way tonal music
 * spells them (Temperley, "The Cognition of Basic Musical Structures", MIT Press 2001, ch. 5, keeps
 * the same rule with a moving centre). In a major key with s sharps (flats negative) the spelled
 * window is s-4 .. s+7 (in C: A♭ E♭ B♭ F C G D A E B F♯ C♯), in a minor key s-2 .. s+9 (in A minor:
 * B♭ F C G D A E B F♯ C♯ G♯ D♯), so the raised sixth and seventh and the sharp fourth of minor are
 * spelled sharp and the Neapolitan flat.
 */

export type Mode = 'major' | 'minor';

export interface Key {
  /** Pitch class of the tonic, 0 = C. */
  tonic: number;
  mode: Mode;
}

const LETTERS = 'FCGDAEB';

/** Sharps (positive) or flats (negative) of the key signature, in the spelling this module uses. */
export function keySignature(key: Key): number {
  // Major tonics on the line of fifths from D♭ (-5) to F♯ (6); minor from E♭ minor (-6) to G♯ minor (5).
  const tonicFifths = fifthsOf(key.tonic, key.mode === 'major' ? -5 : -3);
  return key.mode === 'major' ? tonicFifths : tonicFifths - 3;
}

/** "E♭ major", "F♯ minor". */
export function keyName(key: Key): string {
  const s = keySignature(key);
  const tonic = key.mode === 'major' ? s : s + 3;
  return `${fifthsName(tonic)} ${key.mode}`;
}

/** The key's seven scale degrees as pitch classes (natural minor for minor keys). */
export function scalePitchClasses(key: Key): number[] {
  const steps = key.mode === 'major' ? [0, 2, 4, 5, 7, 9, 11] : [0, 2, 3, 5, 7, 8, 10];
  return steps.map((d) => (key.tonic + d) % 12);
}

/**
 * Pitch classes that belong to the key: its scale, and in minor also the raised sixth and seventh
 * (melodic and harmonic minor), which a minor-key piece uses as freely as the signature's notes.
 */
export function inKeyPitchClasses(key: Key): Set<number> {
  const out = new Set(scalePitchClasses(key));
  if (key.mode === 'minor') {
    out.add((key.tonic + 9) % 12);
    out.add((key.tonic + 11) % 12);
  }
  return out;
}

/** Position on the line of fifths of `pitch` spelled in `key`. */
export function spelledFifths(pitch: number, key: Key): number {
  const s = keySignature(key);
  return fifthsOf(mod(pitch, 12), key.mode === 'major' ? s - 4 : s - 2);
}

/** Pitch class only, spelled in the key: "E♭", "D♯". */
export function spellPitchClass(pitch: number, key: Key): string {
  return fifthsName(spelledFifths(pitch, key));
}

/**
 * Scientific pitch name spelled in the key: 63 is "E♭4" in B♭ major and "D♯4" in E minor. The
 * octave number follows the letter (B♯3 sounds as C4, C♭5 as B4).
 */
export function spellPitch(pitch: number, key: Key): string {
  const f = spelledFifths(pitch, key);
  const alter = Math.floor((f + 1) / 7);
  return `${fifthsName(f)}${Math.floor((pitch - alter) / 12) - 1}`;
}

/** Name of a line-of-fifths position: 0 C, 6 F♯, -3 E♭, 13 F𝄪. */
export function fifthsName(f: number): string {
  const letter = LETTERS[mod(f + 1, 7)];
  const alter = Math.floor((f + 1) / 7);
  const acc =
    alter === 0
      ? ''
      : alter > 0
        ? '𝄪'.repeat(alter >> 1) + (alter % 2 ? '♯' : '')
        : '𝄫'.repeat(-alter >> 1) + (-alter % 2 ? '♭' : '');
  return `${letter}${acc}`;
}

/** The place of pitch class `pc` on the line of fifths within [low, low + 11]. */
function fifthsOf(pc: number, low: number): number {
  const f = mod(pc * 7, 12); // 0..11: C G D A E B F♯ C♯ G♯ D♯ A♯ E♯
  return low + mod(f - low, 12);
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}
