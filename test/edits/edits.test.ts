import { describe, expect, it } from 'vitest';
import {
  applyEdits,
  describeEdit,
  editGrid,
  EditCandidates,
  EDIT_KINDS,
  pitchName,
  renderEdited,
  type NoteEdit,
} from '../../src/edits/index.ts';
import { parseMidi } from '../../src/midi/read.ts';
import { renderRoll } from '../../src/midi/render.ts';
import { DEFAULT_LAYOUT } from '../../src/midi/roll.ts';
import { constantTimeMap } from '../../src/midi/timemap.ts';
import type { Note } from '../../src/midi/types.ts';
import { notesToMidiBytes } from '../../src/midi/write.ts';
import { Rng } from '../../src/util/random.ts';
import { note } from '../helpers/notes.ts';

const layout = DEFAULT_LAYOUT; // 20 fps, pitches 21..108
const grid = editGrid(layout, 40); // a 2-second window
const spans = (notes: Note[]) =>
  notes.map((n) => [n.pitch, +n.onset.toFixed(6), +n.offset.toFixed(6)]);

/** Notes at tick-exact times (1/960 s, the writer's tick at 120 bpm), off the frame grid. */
function tickNotes(seed: number, count: number, pitches: [number, number] = [40, 80]): Note[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => {
    const onset = rng.int(0, 1700) / 960;
    return note(rng.int(...pitches), onset, Math.min(2, onset + rng.int(30, 500) / 960));
  });
}

describe('applyEdits', () => {
  // C4 at 0.5-1.0 s, E4 at 1.0-1.5 s, G4 at 1.9-2.0 s (ends with the window).
  const notes = [note(60, 0.5, 1.0), note(64, 1.0, 1.5), note(67, 1.9, 2.0)];

  it('applies each kind as described, by index into the original list', () => {
    const edits: NoteEdit[] = [
      { kind: 'octave', note: 0, semitones: -12 },
      { kind: 'shift', note: 1, frames: -2 }, // 0.1 s earlier
      { kind: 'delete', note: 2 },
      { kind: 'add', pitch: 72, onset: 1.0, offset: 1.25, velocity: 70 },
    ];
    expect(spans(applyEdits(notes, edits, grid))).toEqual([
      [48, 0.5, 1.0],
      [64, 0.9, 1.4],
      [72, 1.0, 1.25],
    ]);
    expect(spans(applyEdits(notes, [{ kind: 'resize', note: 0, frames: 3 }], grid))[0]).toEqual([
      60, 0.5, 1.15,
    ]);
    expect(notes[0].pitch).toBe(60); // the input is left alone
  });

  it('refuses edits that leave the window, the pitch range or one frame, and double edits', () => {
    const bad: NoteEdit[][] = [
      [{ kind: 'shift', note: 2, frames: 1 }], // past the window's end
      [{ kind: 'shift', note: 0, frames: -11 }], // before its start
      [{ kind: 'resize', note: 0, frames: -10 }], // zero length
      [{ kind: 'resize', note: 2, frames: 1 }], // past the end
      [
        { kind: 'octave', note: 0, semitones: 12 },
        { kind: 'delete', note: 0 },
      ],
      [{ kind: 'delete', note: 3 }],
      [{ kind: 'add', pitch: 120, onset: 0, offset: 0.5, velocity: 80 }],
      [{ kind: 'shift', note: 0, frames: 0.5 }],
    ];
    for (const edits of bad) expect(() => applyEdits(notes, edits, grid)).toThrow();
    expect(() =>
      applyEdits([note(100, 0, 1)], [{ kind: 'octave', note: 0, semitones: 12 }], grid),
    ).toThrow(/outside pitches/);
  });
});

describe('EditCandidates', () => {
  it('enumerates every kind, and each candidate changes exactly the roll cells it declares', () => {
    // Few pitches, so that moved notes often overlap others of the same pitch.
    const notes = tickNotes(7, 30, [55, 62]);
    const before = renderRoll(notes, layout, 2);
    const cands = EditCandidates.enumerate(notes, grid, { layout });
    for (const kind of EDIT_KINDS) expect(cands.size(kind)).toBeGreaterThan(0);
    const P = before.pitches;
    for (let i = 0; i < cands.count; i++) {
      const edit = cands.edit(i);
      const after = renderEdited(notes, [edit], layout, grid);
      // Expected: cells turned on are lit; cells turned off show what the other notes light there.
      const others = renderRoll(
        notes.filter((_, j) => edit.kind === 'add' || j !== edit.note),
        layout,
        2,
      );
      const expected = Float32Array.from(before.data);
      for (const sign of [-1, 1]) {
        for (const cells of cands.cells) {
          if (cells.sign[i] !== sign) continue;
          for (let t = cells.from[i]; t < cells.to[i]; t++) {
            const k = t * P + cells.pitch[i] - layout.lowPitch;
            expected[k] = sign > 0 ? 1 : others.data[k];
          }
        }
      }
      // A moved note re-lights cells of its own old run that another note of its pitch covers.
      if (edit.kind !== 'add' && edit.kind !== 'delete') {
        const moved = applyEdits(notes, [edit], grid).filter((n) => !notes.includes(n));
        const mine = renderRoll(moved, layout, 2);
        for (let k = 0; k < expected.length; k++) if (mine.data[k] > 0) expected[k] = 1;
      }
      expect(Array.from(after.data), `${i}: ${JSON.stringify(edit)}`).toEqual(Array.from(expected));
    }
  });

  it('adds notes only on the onset grid and where nothing sounds yet; leaves excluded notes alone', () => {
    const notes = tickNotes(3, 12);
    const onsets = new Set(notes.map((n) => n.onset));
    const cands = EditCandidates.enumerate(notes, grid, { exclude: new Set([0, 1]) });
    const [a, b] = cands.blocks.add;
    for (let i = a; i < b; i++) {
      const e = cands.edit(i);
      if (e.kind !== 'add') throw new Error('not an add');
      expect(onsets.has(e.onset)).toBe(true);
      expect(
        notes.some((n) => n.pitch === e.pitch && n.onset <= e.onset && n.offset > e.onset),
      ).toBe(false);
    }
    for (let i = 0; i < cands.count; i++) {
      const e = cands.edit(i);
      if (e.kind !== 'add') expect([0, 1]).not.toContain(e.note);
    }
  });

  it('random picks are seeded and cover every kind', () => {
    const cands = EditCandidates.enumerate(tickNotes(5, 20), grid);
    const pick = (seed: number) => {
      const rng = new Rng(seed);
      return Array.from({ length: 50 }, () => cands.random(rng)!);
    };
    expect(pick(1)).toEqual(pick(1));
    expect(new Set(pick(1).map((i) => cands.edit(i).kind)).size).toBe(5);
  });
});

describe('edited excerpts through MIDI', () => {
  it('write and read back to the same roll (tick-exact times stay tick-exact)', () => {
    for (let seed = 0; seed < 10; seed++) {
      const notes = tickNotes(100 + seed, 25);
      const cands = EditCandidates.enumerate(notes, grid);
      const rng = new Rng(seed);
      const edits: NoteEdit[] = [];
      const used = new Set<number>();
      while (edits.length < 8) {
        const e = cands.edit(cands.random(rng)!);
        if (e.kind !== 'add' && used.has(e.note)) continue;
        if (e.kind !== 'add') used.add(e.note);
        edits.push(e);
      }
      const edited = applyEdits(notes, edits, grid);
      const back = parseMidi(notesToMidiBytes(edited)).notes;
      expect(Array.from(renderRoll(back, layout, 2).data)).toEqual(
        Array.from(renderEdited(notes, edits, layout, grid).data),
      );
    }
  });
});

describe('describeEdit', () => {
  it('names the note, its place in bars and seconds, and the change', () => {
    const notes = [note(63, 0.5, 0.9), note(60, 1.0, 1.5)];
    // The excerpt starts 10 s into a 120 bpm 4/4 file: 10.5 s is bar 6, beat 2.
    const place = { start: 10, timeMap: constantTimeMap(120) };
    const text = (e: NoteEdit) => describeEdit(e, notes, grid, place).text;
    expect(text({ kind: 'delete', note: 0 })).toBe('delete E♭4 at bar 6, beat 2 (10.50 s)');
    expect(text({ kind: 'shift', note: 1, frames: 2 })).toBe(
      'play C4 at bar 6, beat 3 (11.00 s) 0.10 s later (2 frames)',
    );
    expect(text({ kind: 'resize', note: 1, frames: -1 })).toBe(
      'shorten C4 at bar 6, beat 3 (11.00 s) from 0.50 s to 0.45 s (1 frame)',
    );
    expect(text({ kind: 'octave', note: 0, semitones: -12 })).toBe(
      'move E♭4 at bar 6, beat 2 (10.50 s) down an octave, to E♭3',
    );
    expect(
      describeEdit({ kind: 'add', pitch: 67, onset: 1, offset: 1.5, velocity: 80 }, notes, grid, {
        start: 70,
      }).text,
    ).toBe('add G4 at 1:11.00, 0.50 s long, with the notes starting there');
    expect([pitchName(21), pitchName(108), pitchName(61)]).toEqual(['A0', 'C8', 'C♯4']);
  });
});
