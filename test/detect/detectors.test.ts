/**
 * Each detector on hand-made examples: a passage that is the texture (by its definition in the
 * detector's header) and a near miss that is not. 4/4 at 120 bpm: a beat is 0.5 s, a bar 2 s.
 * Right hand on track 0, left hand on track 1 (as in a score MIDI's staves).
 */
import { describe, expect, it } from 'vitest';
import {
  detectBars,
  detectPiece,
  detectWindow,
  TEXTURES,
  type TextureName,
} from '../../src/detect/index.ts';
import { constantTimeMap } from '../../src/midi/timemap.ts';
import type { Note } from '../../src/midi/types.ts';

const map = constantTimeMap(120);
const BEAT = 0.5;
const rh = (pitch: number, onset: number, dur: number): Note => ({
  pitch,
  onset,
  offset: onset + dur,
  velocity: 80,
  track: 0,
  channel: 0,
});
const lh = (pitch: number, onset: number, dur: number): Note => ({
  ...rh(pitch, onset, dur),
  track: 1,
});

/** A line of pitches in one hand, each `dur` seconds, from `start`. */
function line(hand: typeof rh, pitches: number[], dur: number, start = 0): Note[] {
  return pitches.map((p, i) => hand(p, start + i * dur, dur));
}
/** Chords in one hand, each `dur` seconds. */
function chords(hand: typeof rh, list: number[][], dur: number, start = 0): Note[] {
  return list.flatMap((c, i) => c.map((p) => hand(p, start + i * dur, dur)));
}
const repeat = <T>(xs: T[], n: number): T[] => Array.from({ length: n }, () => xs).flat();

/** Textures found in bar 1 (and the bars given). */
function found(notes: Note[], bar = 1): Set<TextureName> {
  const b = detectBars(notes, map).find((x) => x.bar === bar)!;
  return new Set(TEXTURES.filter((t) => b.textures[t]));
}

// A quiet other hand, so that each example is a piano texture rather than one line.
const bassHeld = [lh(36, 0, 2), lh(36, 2, 2)];
const sopranoHeld = [rh(84, 0, 2), rh(84, 2, 2)];

describe('octaves', () => {
  it('a right-hand line in octaves', () => {
    const notes = [
      ...chords(
        rh,
        [
          [60, 72],
          [62, 74],
          [64, 76],
          [65, 77],
        ],
        BEAT,
      ),
      ...bassHeld,
    ];
    expect(found(notes).has('octaves')).toBe(true);
  });
  it('not a line in thirds', () => {
    const notes = [
      ...chords(
        rh,
        [
          [60, 64],
          [62, 65],
          [64, 67],
          [65, 69],
        ],
        BEAT,
      ),
      ...bassHeld,
    ];
    expect(found(notes).has('octaves')).toBe(false);
  });
  it('the hands in unison octaves', () => {
    const ps = [60, 62, 64, 65, 67, 69, 71, 72];
    const notes = [
      ...line(rh, ps, BEAT / 2),
      ...line(
        lh,
        ps.map((p) => p - 12),
        BEAT / 2,
      ),
    ];
    expect(found(notes).has('octaves')).toBe(true);
  });
});

describe('repeated chords', () => {
  it('a left-hand chord struck eight times', () => {
    const notes = [...chords(lh, repeat([[48, 52, 55]], 8), BEAT / 2), ...sopranoHeld];
    expect(found(notes).has('repeated-chords')).toBe(true);
  });
  it('not two double notes alternating', () => {
    const notes = [
      ...chords(
        lh,
        repeat(
          [
            [48, 52],
            [50, 53],
          ],
          4,
        ),
        BEAT / 2,
      ),
      ...sopranoHeld,
    ];
    expect(found(notes).has('repeated-chords')).toBe(false);
  });
});

describe('block chords', () => {
  it('chords in both hands, four in a row', () => {
    const notes = [
      ...chords(
        rh,
        [
          [64, 67, 72],
          [65, 69, 72],
          [67, 71, 74],
          [64, 67, 72],
        ],
        BEAT,
      ),
      ...chords(
        lh,
        [
          [48, 55],
          [41, 53],
          [43, 55],
          [48, 55],
        ],
        BEAT,
      ),
    ];
    expect(found(notes).has('block-chords')).toBe(true);
  });
  it('not a melody over left-hand chords', () => {
    const notes = [
      ...line(rh, [72, 74, 76, 77], BEAT),
      ...chords(
        lh,
        [
          [48, 52, 55],
          [48, 53, 57],
          [47, 50, 55],
          [48, 52, 55],
        ],
        BEAT,
      ),
    ];
    expect(found(notes).has('block-chords')).toBe(false);
  });
});

describe('Alberti bass', () => {
  it('C G E G in eighths', () => {
    const notes = [...line(lh, repeat([48, 55, 52, 55], 4), BEAT / 2), ...sopranoHeld];
    const f = found(notes);
    expect(f.has('alberti')).toBe(true);
    expect(f.has('broken-chords')).toBe(true);
  });
  it('not C E G E (a broken chord but no Alberti figure)', () => {
    const notes = [...line(lh, repeat([48, 52, 55, 52], 4), BEAT / 2), ...sopranoHeld];
    const f = found(notes);
    expect(f.has('alberti')).toBe(false);
    expect(f.has('broken-chords')).toBe(true);
  });
});

describe('broken chords and wide arpeggios', () => {
  it('a C major figure in sixteenths within a tenth: broken, not wide', () => {
    const notes = [...line(rh, repeat([60, 64, 67, 72, 67, 64], 3), BEAT / 4), ...bassHeld];
    const f = found(notes);
    expect(f.has('broken-chords')).toBe(true);
    expect(f.has('wide-arpeggios')).toBe(false);
  });
  it('a sweep over two octaves and more: wide', () => {
    const up = [48, 55, 60, 64, 67, 72, 76, 79];
    const notes = [...line(rh, [...up, ...up.slice().reverse()], BEAT / 4), ...bassHeld];
    const f = found(notes);
    expect(f.has('broken-chords')).toBe(true);
    expect(f.has('wide-arpeggios')).toBe(true);
  });
  it('not a scale', () => {
    const notes = [...line(rh, [60, 62, 64, 65, 67, 69, 71, 72], BEAT / 4), ...bassHeld];
    expect(found(notes).has('broken-chords')).toBe(false);
  });
  it('not a figure outside any one chord', () => {
    const notes = [...line(rh, repeat([60, 63, 66, 70, 73, 61], 3), BEAT / 4), ...bassHeld];
    expect(found(notes).has('broken-chords')).toBe(false);
  });
});

describe('scales and chromatic runs', () => {
  const major = [60, 62, 64, 65, 67, 69, 71, 72];
  const chromatic = [60, 61, 62, 63, 64, 65, 66, 67];
  it('a C major scale in sixteenths is a scale run, not chromatic', () => {
    const f = found([...line(rh, major, BEAT / 4), ...bassHeld]);
    expect(f.has('scales')).toBe(true);
    expect(f.has('chromatic-runs')).toBe(false);
  });
  it('a chromatic scale in sixteenths is a chromatic run, not a diatonic scale', () => {
    const f = found([...line(rh, chromatic, BEAT / 4), ...bassHeld]);
    expect(f.has('chromatic-runs')).toBe(true);
    expect(f.has('scales')).toBe(false);
  });
  it('the scale in half notes is a melody, not a run', () => {
    const f = found([...line(rh, major, 2 * BEAT), ...bassHeld], 2);
    expect(f.has('scales')).toBe(false);
  });
  it('a falling scale in the left hand counts too', () => {
    const f = found([
      ...line(
        lh,
        major
          .slice()
          .reverse()
          .map((p) => p - 24),
        BEAT / 4,
      ),
      ...sopranoHeld,
    ]);
    expect(f.has('scales')).toBe(true);
  });
});

describe('trills and tremolo', () => {
  it('D-E alternating in thirty-seconds is a trill', () => {
    const f = found([...line(rh, repeat([74, 76], 8), BEAT / 8), ...bassHeld]);
    expect(f.has('trills')).toBe(true);
    expect(f.has('tremolo')).toBe(false);
  });
  it('C-C alternating an octave apart in sixteenths is a tremolo, not a trill', () => {
    const f = found([...line(lh, repeat([36, 48], 8), BEAT / 4), ...sopranoHeld]);
    expect(f.has('tremolo')).toBe(true);
    expect(f.has('trills')).toBe(false);
  });
  it('the same alternation in quarters is neither', () => {
    const f = found([...line(lh, repeat([36, 48], 4), BEAT), ...sopranoHeld]);
    expect(f.has('tremolo')).toBe(false);
    expect(f.has('trills')).toBe(false);
  });
  it('four attacks are an ornament, not a trill', () => {
    const f = found([...line(rh, [74, 76, 74, 76], BEAT / 8), rh(74, BEAT / 2, 1.5), ...bassHeld]);
    expect(f.has('trills')).toBe(false);
  });
});

describe('stride bass', () => {
  it('bass note, chord a tenth above, twice per bar', () => {
    const lhNotes = [
      ...repeat([0, 1], 2).flatMap((k, i) =>
        k === 0 ? [lh(36, i * BEAT, BEAT)] : [52, 55, 60].map((p) => lh(p, i * BEAT, BEAT)),
      ),
    ];
    const f = found([...lhNotes, ...line(rh, [72, 74, 76, 77], BEAT)]);
    expect(f.has('stride')).toBe(true);
  });
  it('not chords alone', () => {
    const f = found([
      ...chords(
        lh,
        repeat(
          [
            [48, 52, 55],
            [48, 53, 57],
          ],
          2,
        ),
        BEAT,
      ),
      ...line(rh, [72, 74, 76, 77], BEAT),
    ]);
    expect(f.has('stride')).toBe(false);
  });
});

describe('chorale', () => {
  const progression = [
    [48, 55, 64, 72],
    [53, 57, 65, 72],
    [55, 59, 67, 74],
    [48, 55, 64, 72],
    [45, 57, 64, 72],
    [50, 57, 65, 74],
    [43, 55, 62, 71],
    [48, 55, 64, 72],
  ];
  it('four voices moving together in quarters', () => {
    const notes = progression.flatMap((c, i) => [
      lh(c[0], i * BEAT, BEAT),
      lh(c[1], i * BEAT, BEAT),
      rh(c[2], i * BEAT, BEAT),
      rh(c[3], i * BEAT, BEAT),
    ]);
    expect(found(notes).has('chorale')).toBe(true);
    expect(found(notes, 2).has('chorale')).toBe(true);
  });
  it('not one chord repeated', () => {
    const notes = repeat([progression[0]], 8).flatMap((c, i) =>
      c.map((p) => rh(p, i * BEAT, BEAT)),
    );
    const f = found(notes);
    expect(f.has('chorale')).toBe(false);
    expect(f.has('repeated-chords')).toBe(true);
  });
  it('not a melody over a held chord', () => {
    const notes = [
      ...line(rh, [72, 74, 76, 77, 79, 77, 76, 74], BEAT),
      lh(48, 0, 4),
      lh(52, 0, 4),
      lh(55, 0, 4),
    ];
    expect(found(notes).has('chorale')).toBe(false);
  });
});

describe('imitation', () => {
  // A subject with its own rhythm: eighths and a quarter, leaps and steps.
  const subject = (p0: number, t0: number, hand: typeof rh): Note[] => {
    const steps = [0, 2, 4, 0, 7, 5, 4, 2];
    const durs = [0.25, 0.25, 0.5, 0.25, 0.25, 0.5, 0.25, 0.25];
    let t = t0;
    return steps.map((s, i) => {
      const n = hand(p0 + s, t, durs[i]);
      t += durs[i];
      return n;
    });
  };
  // Free counterpoint above the answer: notes moving by step, no motif of the subject.
  const counter = (p0: number, t0: number, hand: typeof rh) =>
    [0, -1, -3, -5, -3, -1].map((s, i) => hand(p0 + s, t0 + i * 0.375, 0.375));

  it('a subject answered a fifth lower after a bar while the first voice goes on', () => {
    const notes = [...subject(72, 0, rh), ...counter(81, 2.5, rh), ...subject(65, 2.5, lh)];
    const bars = detectBars(notes, map);
    expect(bars[0].textures.imitation).toBe(false); // the subject alone is not yet imitation
    expect(bars[1].textures.imitation).toBe(true);
  });
  it('not both hands playing the subject together (parallel motion)', () => {
    const notes = [
      ...subject(72, 0, rh),
      ...subject(60, 0, lh),
      ...subject(72, 2.5, rh),
      ...subject(60, 2.5, lh),
    ];
    expect(detectBars(notes, map).some((b) => b.textures.imitation)).toBe(false);
  });
  it('not an Alberti figure repeated under a melody', () => {
    const notes = [
      ...line(lh, repeat([48, 55, 52, 55], 12), BEAT / 2),
      ...line(rh, [72, 74, 76, 77, 79, 77], 1),
    ];
    expect(detectBars(notes, map).some((b) => b.textures.imitation)).toBe(false);
  });
});

describe('bars and windows', () => {
  it('a texture is present in a bar when it covers a beat of it, and a window reports its share', () => {
    // A trill over the last beat of bar 1 only, then rests.
    const notes = [...line(rh, repeat([74, 76], 4), BEAT / 8, 1.5), ...bassHeld];
    const piece = detectPiece(notes, map);
    expect(piece.bars[0].textures.trills).toBe(true);
    expect(piece.bars[0].strength.trills).toBeCloseTo(0.25, 1);
    expect(piece.bars[1].textures.trills).toBe(false);
    const w = detectWindow(notes, map, 0, 4);
    expect(w.share.trills).toBeCloseTo(0.125, 1);
    expect(w.present.trills).toBe(false);
    expect(detectWindow(notes, map, 1.5, 2, 0.5).present.trills).toBe(true);
  });
  it('an empty piece has no bars and no texture', () => {
    expect(detectBars([], map)).toEqual([]);
  });
});
