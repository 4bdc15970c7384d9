/**
 * src/key: spellings checked against how scores write them (hand-worked, music theory), key finding
 * against closed forms (a profile correlates 1 with itself) and hand-made pieces, local keys on a
 * piece that modulates at a known bar.
 */
import { describe, expect, it } from 'vitest';
import {
  estimateKey,
  inKeyPitchClasses,
  keyCorrelations,
  keyName,
  keySignature,
  localKeys,
  PROFILES,
  spellPitch,
  spellPitchClass,
  type Key,
} from '../../src/key/index.ts';
import { buildTimeMap } from '../../src/midi/timemap.ts';
import type { Note } from '../../src/midi/types.ts';
import { note } from '../helpers/notes.ts';

const key = (tonic: number, mode: Key['mode']): Key => ({ tonic, mode });

describe('spelling', () => {
  it('names keys with their usual signatures', () => {
    const cases: [Key, string, number][] = [
      [key(0, 'major'), 'C major', 0],
      [key(9, 'minor'), 'A minor', 0],
      [key(3, 'major'), 'E♭ major', -3],
      [key(3, 'minor'), 'E♭ minor', -6],
      [key(6, 'major'), 'F♯ major', 6],
      [key(1, 'major'), 'D♭ major', -5],
      [key(1, 'minor'), 'C♯ minor', 4],
      [key(8, 'minor'), 'G♯ minor', 5],
      [key(10, 'minor'), 'B♭ minor', -5],
      [key(11, 'major'), 'B major', 5],
    ];
    for (const [k, name, sig] of cases) {
      expect(keyName(k)).toBe(name);
      expect(keySignature(k)).toBe(sig);
    }
  });

  it('spells 63 as E♭ in flat keys and D♯ in sharp ones', () => {
    expect(spellPitch(63, key(10, 'major'))).toBe('E♭4'); // B♭ major: the subdominant
    expect(spellPitch(63, key(4, 'minor'))).toBe('D♯4'); // E minor: the leading tone
    expect(spellPitch(63, key(11, 'major'))).toBe('D♯4'); // B major: the third (the case)
    expect(spellPitch(63, key(0, 'minor'))).toBe('E♭4'); // C minor: the third
  });

  it('spells the key signature notes as written, in every key', () => {
    // The seven letters of a scale are all different when spelled in its key.
    for (let tonic = 0; tonic < 12; tonic++)
      for (const mode of ['major', 'minor'] as const) {
        const k = key(tonic, mode);
        const steps = mode === 'major' ? [0, 2, 4, 5, 7, 9, 11] : [0, 2, 3, 5, 7, 8, 10];
        const letters = steps.map((d) => spellPitchClass(tonic + d, k)[0]);
        expect(new Set(letters).size).toBe(7);
      }
  });

  it('spells chromatic notes by the line of fifths', () => {
    const C = key(0, 'major');
    expect([61, 63, 66, 68, 70].map((p) => spellPitchClass(p, C))).toEqual([
      'C♯',
      'E♭',
      'F♯',
      'A♭',
      'B♭',
    ]);
    const a = key(9, 'minor');
    // Raised sixth and seventh, sharp fourth, Neapolitan.
    expect([66, 68, 63, 70].map((p) => spellPitchClass(p, a))).toEqual(['F♯', 'G♯', 'D♯', 'B♭']);
    // F♯ major's leading tone is E♯; G♯ minor's leading tone is F𝄪.
    expect(spellPitchClass(65, key(6, 'major'))).toBe('E♯');
    expect(spellPitchClass(67, key(8, 'minor'))).toBe('F𝄪');
  });

  it('numbers the octave by the letter', () => {
    expect(spellPitch(60, key(0, 'major'))).toBe('C4');
    expect(spellPitch(60, key(1, 'minor'))).toBe('B♯3'); // C♯ minor: the leading tone
    expect(spellPitch(71, key(3, 'minor'))).toBe('C♭5'); // E♭ minor: the sixth
    expect(spellPitch(21, key(0, 'major'))).toBe('A0');
  });

  it('counts the raised sixth and seventh of minor as in the key', () => {
    expect([...inKeyPitchClasses(key(9, 'minor'))].sort((a, b) => a - b)).toEqual([
      0, 2, 4, 5, 6, 7, 8, 9, 11,
    ]);
    expect([...inKeyPitchClasses(key(0, 'major'))].sort((a, b) => a - b)).toEqual([
      0, 2, 4, 5, 7, 9, 11,
    ]);
  });
});

describe('key finding', () => {
  it('a profile correlates exactly 1 with itself, rotated to its key', () => {
    for (const name of ['krumhansl', 'temperley'] as const)
      for (let tonic = 0; tonic < 12; tonic++) {
        const h = Array.from(
          { length: 12 },
          (_, pc) => PROFILES[name].minor[(pc - tonic + 12) % 12],
        );
        const c = keyCorrelations(h, name);
        expect(c[12 + tonic]).toBeCloseTo(1, 12);
        expect(Math.max(...c)).toBe(c[12 + tonic]);
      }
  });

  it('finds the key of scales and cadences', () => {
    // D major scale, tonic held at the end.
    const d = [62, 64, 66, 67, 69, 71, 73, 74].map((p, i) =>
      note(p, i * 0.5, i * 0.5 + (i === 7 ? 2 : 0.5)),
    );
    expect(keyName(estimateKey(d)!.key)).toBe('D major');
    // i - iv - V - i in G minor (G minor, C minor, D major, G minor chords).
    const chords = [
      [55, 58, 62],
      [55, 60, 63],
      [54, 57, 62],
      [55, 58, 62],
    ];
    const g = chords.flatMap((c, i) => c.map((p) => note(p, i, i + 1)));
    for (const profiles of ['krumhansl', 'temperley'] as const)
      expect(keyName(estimateKey(g, profiles)!.key)).toBe('G minor');
    expect(estimateKey([])).toBeNull();
  });

  it('weighs by duration', () => {
    // A long C major triad and short notes of F♯ major: duration makes C major win.
    const notes = [
      ...[60, 64, 67].map((p) => note(p, 0, 8)),
      ...[66, 70, 73, 61, 63].map((p, i) => note(p, 8 + i * 0.1, 8 + i * 0.1 + 0.1)),
    ];
    expect(keyName(estimateKey(notes)!.key)).toBe('C major');
  });

  it('follows a modulation bar by bar and ignores one chromatic bar', () => {
    // 3/4 at 60 bpm: a bar is 3 s. Bars 1-8 C major (I-IV-V-I twice), bars 9-16 E♭ major the same,
    // and bar 4 replaced by a bar of F♯ major notes (a passing colour, not a modulation).
    const cadence = [
      [60, 64, 67],
      [60, 65, 69],
      [59, 62, 67],
      [60, 64, 67],
    ];
    const notes: Note[] = [];
    for (let bar = 0; bar < 16; bar++) {
      const t = bar % 4;
      let chord = cadence[t];
      if (bar >= 8) chord = chord.map((p) => p + 3);
      if (bar === 3) chord = [66, 70, 73];
      // Each bar: the chord, then its top note and root as quavers of melody.
      for (const p of chord) notes.push(note(p, bar * 3, bar * 3 + 2));
      notes.push(note(chord[0] + 12, bar * 3 + 2, bar * 3 + 3));
    }
    const map = buildTimeMap(
      480,
      [{ tick: 0, microsecondsPerBeat: 1e6 }],
      [{ tick: 0, numerator: 3, denominator: 4 }],
    );
    const keys = localKeys(notes, { timeMap: map, bars: true })!;
    const names = keys.segments.map((s) => keyName(s.key));
    expect(keys.segments.map((s) => s.bar)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    expect(names.slice(0, 7).every((n) => n === 'C major')).toBe(true);
    expect(names.slice(10).every((n) => n === 'E♭ major')).toBe(true);
    // One change only: the modulation, somewhere around bar 9.
    const changes = names.filter((n, i) => i > 0 && n !== names[i - 1]).length;
    expect(changes).toBe(1);
    expect(keyName(keys.keyAt(1.5))).toBe('C major');
    expect(keyName(keys.keyAt(46))).toBe('E♭ major');
    // Without bars: spans of seconds.
    const bySeconds = localKeys(notes)!;
    expect(keyName(bySeconds.keyAt(2))).toBe('C major');
    expect(keyName(bySeconds.keyAt(46))).toBe('E♭ major');
  });
});
