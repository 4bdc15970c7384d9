/**
 * Musically small edits (issue 20): added notes stay in the local key unless chromatic edits are
 * asked for (then flagged, at a cost); no candidate makes two notes of one pitch overlap; octave
 * displacements, new dissonances and notes longer than the local note values carry their cost;
 * edits are described spelled in the key, at bar and beat, with the cost in words. Expected values
 * are worked by hand from the notes below.
 */
import { describe, expect, it } from 'vitest';
import {
  applyEdits,
  describeEdit,
  editGrid,
  EditCandidates,
  EDIT_COSTS,
  SMALL_EDIT_COST,
} from '../../src/edits/index.ts';
import { localKeys } from '../../src/key/estimate.ts';
import type { Key } from '../../src/key/spell.ts';
import { DEFAULT_LAYOUT } from '../../src/midi/roll.ts';
import { buildTimeMap, constantTimeMap } from '../../src/midi/timemap.ts';
import { note } from '../helpers/notes.ts';

const grid = editGrid(DEFAULT_LAYOUT, 40); // 20 fps, 2 s
const Eflat: Key = { tonic: 3, mode: 'major' };
const inEflat = new Set([3, 5, 7, 8, 10, 0, 2]);

function all(c: EditCandidates) {
  return Array.from({ length: c.count }, (_, i) => ({
    edit: c.edit(i),
    cost: c.cost[i],
    flags: c.flagNames(i),
  }));
}

describe('musical candidates', () => {
  // An E♭ major chord (E♭4 G4 B♭4) from 0 to 1 s, then B♭3 (1.0-1.5 s) and E♭4 again (1.5-2.0 s).
  const notes = [
    note(63, 0, 1),
    note(67, 0, 1),
    note(70, 0, 1),
    note(58, 1, 1.5),
    note(63, 1.5, 2),
  ];

  it('adds only notes of the local key; chromatic ones only when asked, flagged and dearer', () => {
    const diatonic = all(EditCandidates.enumerate(notes, grid, { keyAt: () => Eflat }));
    const adds = diatonic.filter((c) => c.edit.kind === 'add');
    expect(adds.length).toBeGreaterThan(0);
    for (const a of adds) {
      if (a.edit.kind !== 'add') continue;
      expect(inEflat.has(a.edit.pitch % 12)).toBe(true);
      expect(a.flags).not.toContain('chromatic');
    }
    const chromatic = all(
      EditCandidates.enumerate(notes, grid, { keyAt: () => Eflat, chromatic: true }),
    ).filter((c) => c.edit.kind === 'add' && !inEflat.has(c.edit.pitch % 12));
    expect(chromatic.length).toBeGreaterThan(0);
    for (const a of chromatic) {
      expect(a.flags).toContain('chromatic');
      expect(a.cost).toBeGreaterThanOrEqual(EDIT_COSTS.add + EDIT_COSTS.chromatic);
    }
  });

  it('never makes two notes of one pitch overlap', () => {
    const cands = all(EditCandidates.enumerate(notes, grid, { keyAt: () => Eflat }));
    // Every candidate, applied: no two notes of one pitch overlap (brute force).
    for (const c of cands) {
      if (c.edit.kind === 'delete') continue;
      const after = applyEdits(notes, [c.edit], grid);
      for (let i = 0; i < after.length; i++)
        for (let j = i + 1; j < after.length; j++) {
          const [a, b] = [after[i], after[j]];
          if (a.pitch !== b.pitch) continue;
          expect(a.onset < b.offset - 1e-9 && b.onset < a.offset - 1e-9).toBe(false);
        }
    }
    // A case where the overlap is the only thing forbidding the edit: B♭3 at 0-1 s moved up an
    // octave would sound with the B♭4 already there.
    const clash = [note(70, 0, 1), note(58, 0, 1)];
    const octaves = all(EditCandidates.enumerate(clash, grid)).filter(
      (c) => c.edit.kind === 'octave',
    );
    expect(
      octaves.some((c) => c.edit.kind === 'octave' && c.edit.note === 1 && c.edit.semitones === 12),
    ).toBe(false);
    expect(
      octaves.some(
        (c) => c.edit.kind === 'octave' && c.edit.note === 1 && c.edit.semitones === -12,
      ),
    ).toBe(true);
    // Lengthening a note into the next one of its pitch is left out; adding over a held note too.
    const repeated = [note(60, 0, 0.5), note(60, 0.5, 1), note(64, 1, 1.5)];
    const rs = all(EditCandidates.enumerate(repeated, grid));
    expect(rs.some((c) => c.edit.kind === 'resize' && c.edit.note === 0 && c.edit.frames > 0)).toBe(
      false,
    );
    expect(rs.some((c) => c.edit.kind === 'shift' && c.edit.note === 1 && c.edit.frames < 0)).toBe(
      false,
    );
    // Adding C4 with E4 at 0 s (0-0.5 s) would run into the C4 of 0.25-0.75 s.
    const held = [note(64, 0, 0.5), note(60, 0.25, 0.75)];
    const hs = all(EditCandidates.enumerate(held, grid));
    expect(hs.some((c) => c.edit.kind === 'add' && c.edit.pitch === 60 && c.edit.onset === 0)).toBe(
      false,
    );
    expect(hs.some((c) => c.edit.kind === 'add' && c.edit.pitch === 62 && c.edit.onset === 0)).toBe(
      true,
    );
  });

  it('prices octaves, dissonances and long notes, and the small tier leaves them out', () => {
    const cands = all(EditCandidates.enumerate(notes, grid, { keyAt: () => Eflat }));
    for (const c of cands) {
      if (c.edit.kind === 'octave') {
        expect(c.cost).toBe(EDIT_COSTS.octave);
        expect(c.flags).toEqual(['register']);
      }
      if (c.edit.kind === 'delete') expect(c.cost).toBe(1);
    }
    // Adding F4 (65) to the E♭ chord at 0 s: a second against E♭4 and G4, dissonant.
    const f4 = cands.find(
      (c) => c.edit.kind === 'add' && c.edit.pitch === 65 && c.edit.onset === 0,
    )!;
    expect(f4.flags).toEqual(['dissonant']);
    expect(f4.cost).toBe(EDIT_COSTS.add + EDIT_COSTS.dissonant);
    // Adding E♭5 (75) there: an octave above E♭4, consonant with the whole chord.
    const e5 = cands.find(
      (c) => c.edit.kind === 'add' && c.edit.pitch === 75 && c.edit.onset === 0,
    )!;
    expect(e5.flags).toEqual([]);
    expect(e5.cost).toBe(EDIT_COSTS.add);
    // Quavers of 0.5 s, then G4 doubled to 1 s: longer than every note starting within 2 s.
    const quavers = [note(60, 0, 0.5), note(64, 0, 0.5), note(67, 0.5, 1.0)];
    const doubled = all(EditCandidates.enumerate(quavers, grid)).find(
      (c) => c.edit.kind === 'resize' && c.edit.note === 2 && c.edit.frames === 10,
    );
    expect(doubled?.flags).toEqual(['long']);
    expect(doubled?.cost).toBe(EDIT_COSTS.resize + EDIT_COSTS.long);
    // The small tier: nothing above SMALL_EDIT_COST, nothing flagged.
    const small = all(
      EditCandidates.enumerate(notes, grid, { keyAt: () => Eflat, maxCost: SMALL_EDIT_COST }),
    );
    expect(small.length).toBeGreaterThan(0);
    for (const c of small) {
      expect(c.cost).toBeLessThanOrEqual(SMALL_EDIT_COST);
      expect(c.flags).toEqual([]);
    }
    expect(new Set(small.map((c) => c.edit.kind))).toEqual(
      new Set(['delete', 'add', 'shift', 'resize']),
    );
  });
});

describe('edits in words', () => {
  it('spells the pitch in the local key, places it in bar and beat, and says the cost', () => {
    // 3/4 at 120 bpm (a bar is 1.5 s), B major throughout: the notes of a B major scale.
    const map = buildTimeMap(
      480,
      [{ tick: 0, microsecondsPerBeat: 500_000 }],
      [{ tick: 0, numerator: 3, denominator: 4 }],
    );
    const scale = [59, 61, 63, 64, 66, 68, 70, 71].map((p, i) =>
      note(p, i * 0.75, i * 0.75 + 0.75),
    );
    const keys = localKeys([...scale, note(59, 6, 9), note(66, 6, 9), note(63, 6, 9)], {
      timeMap: map,
      bars: true,
    })!;
    const notes = [note(63, 0.25, 0.5), note(66, 0.5, 1.0)];
    // The excerpt starts at 3 s (bar 3); 3.25 s is bar 3, beat 1½.
    const place = { start: 3, timeMap: map, keys };
    const d = describeEdit({ kind: 'delete', note: 0 }, notes, grid, place, { cost: 1, flags: [] });
    expect(d.pitchName).toBe('D♯4');
    expect(d.key).toBe('B major');
    expect(d.bar).toEqual({ bar: 3, beat: 1.5, meter: '3/4' });
    expect(d.text).toBe(
      'delete D♯4 at bar 3, beat 1½ (3.25 s); key B major; cost 1 note change: one note left out',
    );
    const o = describeEdit({ kind: 'octave', note: 1, semitones: 12 }, notes, grid, place, {
      cost: 4,
      flags: ['register'],
    });
    expect(o.text).toBe(
      'move F♯4 at bar 3, beat 2 (3.50 s) up an octave, to F♯5; key B major; cost 4 note changes: a change of register',
    );
    // Half a millisecond before a bar line (the excerpt file's grid): on the bar line.
    const early = describeEdit({ kind: 'delete', note: 0 }, [note(63, 1.4995, 1.6)], grid, place);
    expect(early.bar).toEqual({ bar: 4, beat: 1, meter: '3/4' });
    // Without bars (a performance): seconds only.
    expect(describeEdit({ kind: 'delete', note: 0 }, notes, grid, { start: 3, keys }).text).toBe(
      'delete D♯4 at 3.25 s; key B major',
    );
    expect(constantTimeMap(120).explicitMeter).toBe(false);
  });
});
