import { describe, expect, it } from 'vitest';
import { generateTexture } from '../../src/concepts/patterns/index.ts';
import type { Note } from '../../src/midi/types.ts';

/** Musical properties of each texture, checked on its notes. */

const pc = (p: number) => ((p % 12) + 12) % 12;

/** Notes grouped by onset (to the microsecond), in time order. */
function byOnset(notes: readonly Note[]): Note[][] {
  const groups = new Map<number, Note[]>();
  for (const n of notes) {
    const k = Math.round(n.onset * 1e6);
    groups.set(k, [...(groups.get(k) ?? []), n]);
  }
  return [...groups.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([, g]) => g.sort((a, b) => a.pitch - b.pitch));
}

const SEEDS = [1, 2, 3, 4, 5];

describe('alberti', () => {
  it('plays C-G-E-G in C major (hand-worked)', () => {
    const notes = generateTexture('alberti', {
      progression: ['I'],
      bars: 1,
      register: { low: 48, high: 67 },
    });
    expect(notes.map((n) => n.pitch)).toEqual([48, 55, 52, 55, 48, 55, 52, 55]);
    expect(notes.map((n) => n.onset)).toEqual([0, 0.3, 0.6, 0.9, 1.2, 1.5, 1.8, 2.1]);
  });

  it('keeps the low-high-middle-high order on chord tones in every figure', () => {
    for (const seed of SEEDS) {
      const notes = generateTexture('alberti', {
        seed,
        vary: true,
        bars: 8,
        key: { tonic: 2, mode: 'minor' },
      });
      expect(notes.length % 4).toBe(0);
      for (let i = 0; i < notes.length; i += 4) {
        const [low, high, mid, high2] = notes.slice(i, i + 4).map((n) => n.pitch);
        expect(low).toBeLessThan(mid);
        expect(mid).toBeLessThan(high);
        expect(high2).toBe(high);
        expect(new Set([low, mid, high].map(pc)).size).toBe(3);
      }
    }
  });
});

describe('chorale', () => {
  it('sounds four voices together on every beat, the bass on the root', () => {
    // C major, I IV V I: roots C, F, G, C on successive beats.
    for (const seed of SEEDS) {
      const notes = generateTexture('chorale', { seed, vary: true, bars: 3, tempo: 60 });
      const chords = byOnset(notes);
      expect(chords).toHaveLength(12);
      chords.forEach((chord, beat) => {
        expect(chord).toHaveLength(4);
        expect(chord[0].onset).toBeCloseTo(beat, 6);
        expect(pc(chord[0].pitch)).toBe([0, 5, 7, 0][beat % 4]);
        expect(new Set(chord.map((n) => n.pitch)).size).toBe(4);
      });
    }
  });
});

describe('canon', () => {
  it('repeats the leader a bar later an octave lower', () => {
    for (const seed of SEEDS) {
      const bar = 2.4; // 4 beats at 100 bpm
      const notes = generateTexture('canon', { seed, bars: 6 });
      const end = 6 * bar;
      // Notes of the first bar are the leader's; later notes are matched to a leader note a
      // bar earlier and an octave higher, else they are the leader's.
      const leader: Note[] = [];
      const follower: Note[] = [];
      const unmatched = new Set<Note>();
      for (const n of notes) {
        const source = leader.find(
          (m) =>
            unmatched.has(m) &&
            Math.abs(m.onset + bar - n.onset) < 1e-6 &&
            m.pitch - 12 === n.pitch,
        );
        if (source) {
          unmatched.delete(source);
          follower.push(n);
          expect(n.offset - n.onset).toBeCloseTo(source.offset - source.onset, 6);
        } else {
          leader.push(n);
          unmatched.add(n);
        }
      }
      // Every leader note that has time to be imitated was imitated.
      for (const m of unmatched) expect(m.onset + bar).toBeGreaterThanOrEqual(end - 1e-6);
      expect(follower.length).toBeGreaterThan(notes.length * 0.35);
    }
  });
});

describe('trill', () => {
  it('alternates two pitches a semitone or a tone apart, main note first', () => {
    for (const seed of SEEDS) {
      // 2 beats per trill, 8 notes per beat: 16 notes per trill.
      const notes = generateTexture('trill', {
        seed,
        vary: true,
        bars: 4,
        key: { tonic: 9, mode: 'minor' },
      });
      expect(notes).toHaveLength(4 * 4 * 8);
      for (let i = 0; i < notes.length; i += 16) {
        const group = notes.slice(i, i + 16).map((n) => n.pitch);
        const [main, upper] = group;
        expect([1, 2]).toContain(upper - main);
        group.forEach((p, j) => expect(p).toBe(j % 2 === 0 ? main : upper));
      }
    }
  });
});

describe('stride', () => {
  it('puts an octave bass on beats 1 and 3 and a chord above it on 2 and 4', () => {
    for (const seed of SEEDS) {
      const groups = byOnset(generateTexture('stride', { seed, vary: true, bars: 4 }));
      expect(groups).toHaveLength(16);
      for (let bar = 0; bar < 4; bar++) {
        const beats = groups.slice(bar * 4, bar * 4 + 4);
        for (const strong of [beats[0], beats[2]]) {
          expect(strong.map((n) => n.pitch - strong[0].pitch)).toEqual([0, 12]);
        }
        for (const weak of [beats[1], beats[3]]) {
          expect(weak).toHaveLength(3);
          expect(weak[0].pitch).toBeGreaterThan(Math.max(beats[0][1].pitch, beats[2][1].pitch));
          expect(weak[2].offset - weak[2].onset).toBeLessThan(
            beats[0][0].offset - beats[0][0].onset,
          );
        }
      }
    }
  });

  it('is a waltz in 3/4: bass on beat 1, chords on 2 and 3', () => {
    const groups = byOnset(generateTexture('stride', { beatsPerBar: 3, bars: 2 }));
    expect(groups.map((g) => g.length)).toEqual([2, 3, 3, 2, 3, 3]);
  });
});

describe('arpeggio', () => {
  it('spans two octaves or more of chord tones in every bar', () => {
    const chords = [
      [0, 4, 7],
      [5, 9, 0],
      [7, 11, 2],
      [0, 4, 7],
    ]; // I IV V I in C
    for (const seed of SEEDS) {
      const notes = generateTexture('arpeggio', { seed, vary: true, bars: 4, tempo: 60 });
      for (let bar = 0; bar < 4; bar++) {
        const pitches = notes
          .filter((n) => n.onset >= bar * 4 - 1e-6 && n.onset < (bar + 1) * 4 - 1e-6)
          .map((n) => n.pitch);
        expect(Math.max(...pitches) - Math.min(...pitches)).toBeGreaterThanOrEqual(24);
        for (const p of pitches) expect(chords[bar]).toContain(pc(p));
      }
    }
  });
});

describe('octaves', () => {
  it('doubles every melody note an octave below', () => {
    for (const seed of SEEDS) {
      for (const group of byOnset(generateTexture('octaves', { seed, vary: true, bars: 4 }))) {
        expect(group.map((n) => n.pitch - group[0].pitch)).toEqual([0, 12]);
      }
    }
  });
});

describe('scales', () => {
  it('moves by scale steps only, in C major by tones and semitones on white keys', () => {
    for (const seed of SEEDS) {
      const notes = generateTexture('scales', { seed, vary: true, bars: 4 });
      for (const n of notes) expect([0, 2, 4, 5, 7, 9, 11]).toContain(pc(n.pitch));
      for (let i = 1; i < notes.length; i++)
        expect([1, 2]).toContain(Math.abs(notes[i].pitch - notes[i - 1].pitch));
      const span = Math.max(...notes.map((n) => n.pitch)) - Math.min(...notes.map((n) => n.pitch));
      expect(span).toBeGreaterThanOrEqual(12);
    }
  });
});

describe('chromatic', () => {
  it('moves by semitones only and turns now and then', () => {
    for (const seed of SEEDS) {
      const notes = generateTexture('chromatic', { seed, vary: true, bars: 4 });
      const steps = notes.slice(1).map((n, i) => n.pitch - notes[i].pitch);
      for (const s of steps) expect(Math.abs(s)).toBe(1);
      const turns = steps.slice(1).filter((s, i) => s !== steps[i]).length;
      expect(turns).toBeGreaterThanOrEqual(3);
    }
  });
});

describe('tremolo', () => {
  it('alternates a chord tone with its octave, or repeats it with interval 0', () => {
    for (const seed of SEEDS) {
      const notes = generateTexture('tremolo', { seed, vary: true, bars: 2 });
      for (let i = 0; i < notes.length; i += 2)
        expect(notes[i + 1].pitch - notes[i].pitch).toBe(12);
      const repeated = generateTexture('tremolo', {
        seed,
        interval: 0,
        bars: 2,
        beatsPerBar: 4,
        notesPerBeat: 6,
      });
      // Each half bar repeats one pitch: 2 beats x 6 notes.
      for (let i = 0; i < repeated.length; i += 12) {
        expect(new Set(repeated.slice(i, i + 12).map((n) => n.pitch)).size).toBe(1);
      }
    }
  });
});
