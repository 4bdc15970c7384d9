import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMidi } from '../../src/midi/read.ts';
import { renderRoll } from '../../src/midi/render.ts';
import { DEFAULT_LAYOUT, PianoRoll, type RollLayout } from '../../src/midi/roll.ts';
import type { Note } from '../../src/midi/types.ts';
import {
  excerptNotes,
  notesToMidiBytes,
  rollToNotes,
  writeMidiFile,
} from '../../src/midi/write.ts';
import { Rng } from '../../src/util/random.ts';
import { tempDir } from '../helpers/cli.ts';
import { note } from '../helpers/notes.ts';

const spans = (notes: Note[]) => notes.map((n) => [n.pitch, n.onset, n.offset, n.velocity]);

/** Random notes on a few pitches, so that repeated and overlapping notes of one pitch are common. */
function randomNotes(seed: number, count: number): Note[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => {
    const onset = rng.int(0, 400) / 37; // off the frame grid on purpose
    return note(rng.int(58, 64), onset, onset + rng.int(1, 60) / 23, rng.int(1, 127));
  });
}

/** Random notes on the frame grid of `fps`, each at least one frame long. */
function gridNotes(seed: number, count: number, fps: number): Note[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => {
    const on = rng.int(0, 200);
    return note(rng.int(58, 64), on / fps, (on + rng.int(1, 30)) / fps, rng.int(1, 127));
  });
}

describe('notesToMidiBytes', () => {
  it('writes notes that read back at tick precision with exact velocities', () => {
    const notes = [note(60, 0, 0.5, 1), note(64, 0.25, 1.25, 127), note(67, 1, 3, 64)];
    const back = parseMidi(notesToMidiBytes(notes, { name: 'excerpt' }));
    expect(spans(back.notes)).toEqual(spans(notes));
    expect(back.trackNames).toContain('excerpt');
  });

  it('keeps times in seconds at any tempo', () => {
    const notes = [note(60, 0.1, 0.7), note(62, 2, 2.5)];
    const back = parseMidi(notesToMidiBytes(notes, { bpm: 90 })).notes;
    back.forEach((n, i) => {
      // 480 ticks per beat at 90 bpm: one tick is 1/720 s.
      expect(Math.abs(n.onset - notes[i].onset)).toBeLessThanOrEqual(1 / 1440);
      expect(Math.abs(n.offset - notes[i].offset)).toBeLessThanOrEqual(1 / 1440);
    });
  });
});

describe('round trip MIDI -> roll -> MIDI -> roll', () => {
  // Velocity rolls only round-trip when notes of one pitch never share a frame: notes on the frame grid.
  const layouts: [string, RollLayout, (seed: number) => Note[], number][] = [
    ['frame', DEFAULT_LAYOUT, (seed) => randomNotes(seed, 60), 120],
    [
      'frame+onset',
      { ...DEFAULT_LAYOUT, channels: ['frame', 'onset'] },
      (seed) => randomNotes(seed, 60),
      120,
    ],
    [
      'frame, velocity',
      { ...DEFAULT_LAYOUT, values: 'velocity' },
      (seed) => gridNotes(seed, 60, 20),
      120,
    ],
    [
      'frame+onset, velocity',
      { ...DEFAULT_LAYOUT, channels: ['frame', 'onset'], values: 'velocity' },
      (seed) => gridNotes(seed, 60, 20),
      120,
    ],
    // 125 bpm: 1000 ticks per second, so 25 fps frame boundaries are whole ticks.
    [
      'onset only, 25 fps',
      { ...DEFAULT_LAYOUT, fps: 25, channels: ['onset'] },
      (seed) => randomNotes(seed, 60),
      125,
    ],
  ];
  for (const [name, layout, makeNotes, bpm] of layouts) {
    it(`gives the same roll (${name})`, () => {
      for (const seed of [1, 2, 3, 4, 5]) {
        const content = parseMidi(notesToMidiBytes(makeNotes(seed), { bpm }));
        const roll = renderRoll(content.notes, layout, content.durationSeconds);
        expect(roll.data.some((v) => v > 0)).toBe(true);
        const again = parseMidi(notesToMidiBytes(rollToNotes(roll), { bpm }));
        const roll2 = renderRoll(again.notes, layout, content.durationSeconds);
        expect(roll2.frames).toBe(roll.frames);
        expect(Array.from(roll2.data)).toEqual(Array.from(roll.data));
      }
    });
  }

  it('splits repeated notes with the onset channel, merges them without it', () => {
    const notes = [note(60, 0, 0.5), note(60, 0.5, 1)];
    const withOnsets = renderRoll(notes, { ...DEFAULT_LAYOUT, channels: ['frame', 'onset'] });
    expect(spans(rollToNotes(withOnsets))).toEqual([
      [60, 0, 0.5, 80],
      [60, 0.5, 1, 80],
    ]);
    expect(spans(rollToNotes(renderRoll(notes)))).toEqual([[60, 0, 1, 80]]);
  });
});

describe('rollToNotes', () => {
  // 10 fps, pitches 60..62, frame channel only, hand-filled.
  const layout: RollLayout = {
    fps: 10,
    lowPitch: 60,
    highPitch: 62,
    channels: ['frame'],
    values: 'velocity',
  };
  const roll = new PianoRoll(layout, 8);
  for (const t of [1, 2, 3, 6]) roll.data[roll.index(0, t, 60)] = 0.5;
  for (const t of [0, 1, 2, 3, 4, 5, 6, 7]) roll.data[roll.index(0, t, 62)] = 1;

  it('merges consecutive frames into notes; velocity from values', () => {
    expect(spans(rollToNotes(roll))).toEqual([
      [62, 0, 0.8, 127],
      [60, 0.1, 0.4, 64],
      [60, 0.6, 0.7, 64],
    ]);
  });

  it('reads a frame range with a mask and a time offset', () => {
    const notes = rollToNotes(roll, {
      startFrame: 2,
      frames: 5,
      mask: (t, pitch) => pitch === 60 || t >= 5,
      timeOffset: 10,
    });
    // Frames 2..6; pitch 60 at frames 2, 3 and 6; pitch 62 only from frame 5 (mask).
    expect(notes.map((n) => [n.pitch, +n.onset.toFixed(9), +n.offset.toFixed(9)])).toEqual([
      [60, 10, 10.2],
      [62, 10.3, 10.5],
      [60, 10.4, 10.5],
    ]);
  });
});

describe('excerptNotes and writeMidiFile', () => {
  const dir = tempDir('concept-lens-write-');

  it('clips and shifts notes to a time range', () => {
    const notes = [note(60, 0, 1), note(62, 1.5, 2.5), note(64, 2.5, 3), note(65, 3, 4)];
    expect(spans(excerptNotes(notes, 2, 3))).toEqual([
      [62, 0, 0.5, 80],
      [64, 0.5, 1, 80],
    ]);
  });

  it('writes a file that reads back', () => {
    const path = join(dir, 'sub', 'x.mid');
    writeMidiFile(path, [note(60, 0, 1)], { name: 'x' });
    expect(spans(parseMidi(readFileSync(path)).notes)).toEqual([[60, 0, 1, 80]]);
  });
});
