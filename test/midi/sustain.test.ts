import { describe, expect, it } from 'vitest';
import { applySustain } from '../../src/midi/sustain.ts';
import type { Note, PedalEvent } from '../../src/midi/types.ts';

const note = (pitch: number, onset: number, offset: number, channel = 0): Note => ({
  pitch,
  onset,
  offset,
  velocity: 80,
  track: 0,
  channel,
});
const pedal = (...events: [time: number, down: boolean, channel?: number][]): PedalEvent[] =>
  events.map(([time, down, channel = 0]) => ({ time, down, channel }));
const spans = (notes: Note[]) => notes.map((n) => [n.pitch, n.onset, n.offset]);

describe('applySustain (cases worked by hand)', () => {
  it('holds a note released under the pedal until the pedal goes up', () => {
    expect(spans(applySustain([note(60, 0, 1)], pedal([0.5, true], [2, false])))).toEqual([
      [60, 0, 2],
    ]);
  });

  it('leaves a note released before the pedal goes down', () => {
    expect(spans(applySustain([note(60, 0, 1)], pedal([1.5, true], [3, false])))).toEqual([
      [60, 0, 1],
    ]);
  });

  it('ends a held note when the same pitch is struck again', () => {
    const out = applySustain(
      [note(60, 0, 1), note(62, 0.2, 0.4), note(60, 1.5, 2)],
      pedal([0.5, true], [3, false]),
    );
    // 60 is cut by its own re-strike at 1.5; 62 was released before the pedal; the second 60 lasts to 3.
    expect(spans(out)).toEqual([
      [60, 0, 1.5],
      [62, 0.2, 0.4],
      [60, 1.5, 3],
    ]);
  });

  it('only uses the pedal of the note channel', () => {
    const out = applySustain(
      [note(60, 0, 1, 0), note(64, 0, 1, 1)],
      pedal([0.5, true, 1], [2, false, 1]),
    );
    expect(spans(out)).toEqual([
      [60, 0, 1],
      [64, 0, 2],
    ]);
  });

  it('holds to the end of the last note when the pedal is never released', () => {
    const out = applySustain([note(60, 0, 1), note(67, 2, 4)], pedal([0.5, true]));
    expect(spans(out)).toEqual([
      [60, 0, 4],
      [67, 2, 4],
    ]);
  });

  it('a pedal down at the release instant sustains; an up at that instant does not', () => {
    expect(spans(applySustain([note(60, 0, 1)], pedal([1, true], [2, false])))).toEqual([
      [60, 0, 2],
    ]);
    expect(spans(applySustain([note(60, 0, 1)], pedal([0, true], [1, false])))).toEqual([
      [60, 0, 1],
    ]);
  });

  it('uses the first of repeated down events and does not modify its input', () => {
    const input = [note(60, 0, 1)];
    const out = applySustain(input, pedal([0.2, true], [0.8, true], [1.5, false], [2.5, false]));
    expect(spans(out)).toEqual([[60, 0, 1.5]]);
    expect(input[0].offset).toBe(1);
  });
});
