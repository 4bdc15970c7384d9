import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MidiReadError, parseMidi, readMidiFile } from '../../src/midi/read.ts';
import { barToSeconds, secondsToBar } from '../../src/midi/timemap.ts';
import { UserError } from '../../src/util/errors.ts';
import { tempDir } from '../helpers/cli.ts';
import { endOfTrack, meter, midiFile, off, on, tempo, track, trackName } from './bytes.ts';

const simple = (x: { pitch: number; onset: number; offset: number; velocity: number }) => [
  x.pitch,
  x.onset,
  x.offset,
  x.velocity,
];

/**
 * Type 0, 480 ticks per beat, 3/4, 120 bpm then 60 bpm from bar 2 (tick 1440).
 * Hand-worked times: tick t < 1440 -> t / 960 s; tick t >= 1440 -> 1.5 + (t - 1440) / 480 s.
 */
const type0 = midiFile(0, 480, [
  track([
    trackName(0, 'Piano'),
    meter(0, 3, 4),
    tempo(0, 500_000),
    on(0, 60, 100),
    [480, [0x3c, 0]], // running status: note-on 60 velocity 0 = note-off, at tick 480
    on(960, 64, 90), // tick 1440
    tempo(0, 1_000_000),
    off(480, 64), // tick 1920
    on(960, 67, 70), // tick 2880
    on(0, 72, 50), // never closed
    [480, [0x90, 67, 0]], // tick 3360
    endOfTrack(480), // tick 3840
  ]),
]);

describe('parseMidi', () => {
  it('reads a type 0 file with a tempo change and a 3/4 meter (hand-worked times and bars)', () => {
    const content = parseMidi(type0);
    expect(content.format).toBe(0);
    expect(content.trackNames).toEqual(['Piano']);
    expect(content.notes.map(simple)).toEqual([
      [60, 0, 0.5, 100],
      [64, 1.5, 2.5, 90],
      [67, 4.5, 5.5, 70],
      [72, 4.5, 6.5, 50], // unclosed: ends at the last event (tick 3840)
    ]);
    expect(content.durationSeconds).toBe(6.5);
    const tm = content.timeMap;
    expect(tm.explicitMeter).toBe(true);
    expect(secondsToBar(tm, 0)).toEqual({ bar: 1, beat: 1 });
    expect(secondsToBar(tm, 0.5)).toEqual({ bar: 1, beat: 2 });
    expect(secondsToBar(tm, 1.5)).toEqual({ bar: 2, beat: 1 });
    expect(secondsToBar(tm, 2.5)).toEqual({ bar: 2, beat: 2 });
    expect(secondsToBar(tm, 4.5)).toEqual({ bar: 3, beat: 1 });
    expect(secondsToBar(tm, 5.0)).toEqual({ bar: 3, beat: 1.5 });
    expect(barToSeconds(tm, 3, 2)).toBe(5.5);
    expect(barToSeconds(tm, 1, 3)).toBe(1.0);
    expect(barToSeconds(tm, 2)).toBe(1.5);
  });

  it('reads a type 1 file with the tempo map in track 0 and a meter change in mid-bar', () => {
    // 80 bpm (0.75 s/beat), then 240 bpm (0.25 s/beat) from tick 960 (= 1.5 s). 6/8 (bar = 1440
    // ticks, beat = eighth = 240 ticks), then 2/4 from tick 2000, in the middle of bar 2: bar 3 starts there.
    const bytes = midiFile(1, 480, [
      track([
        tempo(0, 750_000),
        meter(0, 6, 8),
        tempo(960, 250_000),
        meter(1040, 2, 4),
        endOfTrack(),
      ]),
      track([
        trackName(0, 'RH'),
        on(0, 60),
        off(480, 60),
        on(480, 62),
        off(480, 62),
        on(480, 64),
        off(480, 64),
        endOfTrack(),
      ]),
      track([on(1440, 48, 40, 1), off(480, 48, 1), endOfTrack()]),
    ]);
    const content = parseMidi(bytes);
    expect(content.format).toBe(1);
    expect(content.trackNames).toEqual(['', 'RH', '']);
    expect(content.notes.map((n) => [n.pitch, n.onset, n.offset, n.track, n.channel])).toEqual([
      [60, 0, 0.75, 1, 0],
      [62, 1.5, 1.75, 1, 0],
      [48, 1.75, 2.0, 2, 1],
      [64, 2.0, 2.25, 1, 0],
    ]);
    const tm = content.timeMap;
    expect(secondsToBar(tm, 2.0)).toEqual({ bar: 2, beat: 3 }); // tick 1920: 480 ticks into bar 2 = 2 eighths
    expect(tm.timeSignatures.map((t) => [t.tick, t.bar])).toEqual([
      [0, 1],
      [2000, 3],
    ]);
    const pos = secondsToBar(tm, 2.25); // tick 2400: 400 ticks into bar 3 (2/4, 480-tick beats)
    expect(pos.bar).toBe(3);
    expect(pos.beat).toBeCloseTo(1 + 400 / 480, 12);
  });

  it('defaults to 120 bpm and an implicit 4/4', () => {
    const content = parseMidi(
      midiFile(0, 96, [track([on(0, 60), off(96, 60), on(96 * 4, 62), off(96, 62), endOfTrack()])]),
    );
    expect(content.notes.map((n) => [n.onset, n.offset])).toEqual([
      [0, 0.5],
      [2.5, 3.0],
    ]);
    expect(content.timeMap.explicitMeter).toBe(false);
    expect(secondsToBar(content.timeMap, 2.5)).toEqual({ bar: 2, beat: 2 });
  });

  it('splits overlapping notes of one pitch: a re-strike ends the sounding note', () => {
    // on@0, on@240, off@480, off@960 on pitch 60 at 120 bpm, 480 ticks per beat.
    const bytes = midiFile(0, 480, [
      track([on(0, 60, 80), on(240, 60, 90), off(240, 60), off(480, 60), endOfTrack()]),
    ]);
    expect(parseMidi(bytes).notes.map(simple)).toEqual([
      [60, 0, 0.25, 80],
      [60, 0.25, 1.0, 90],
    ]);
  });

  it('pairs notes per channel, and drops zero-length notes', () => {
    const bytes = midiFile(0, 480, [
      track([
        on(0, 60, 80, 0),
        on(0, 60, 81, 1),
        off(480, 60, 1),
        off(480, 60, 0),
        on(0, 61),
        off(0, 61),
        endOfTrack(),
      ]),
    ]);
    expect(parseMidi(bytes).notes.map((n) => [n.channel, n.onset, n.offset])).toEqual([
      [0, 0, 1.0],
      [1, 0, 0.5],
    ]);
  });

  it('applies the sustain pedal only when asked', () => {
    // Note 0..0.5 s; pedal down at 0.25 s, up at 1.5 s.
    const bytes = midiFile(0, 480, [
      track([on(0, 60), [240, [0xb0, 64, 127]], off(240, 60), [960, [0xb0, 64, 0]], endOfTrack()]),
    ]);
    const plain = parseMidi(bytes);
    expect(plain.notes.map((n) => n.offset)).toEqual([0.5]);
    expect(plain.pedal).toEqual([
      { time: 0.25, down: true, channel: 0 },
      { time: 1.5, down: false, channel: 0 },
    ]);
    const sustained = parseMidi(bytes, { sustain: true });
    expect(sustained.notes.map((n) => n.offset)).toEqual([1.5]);
    expect(sustained.durationSeconds).toBe(1.5);
  });

  it('skips unknown chunks and data after the last track', () => {
    const alien = [...Array.from('XFIH', (c) => c.charCodeAt(0)), 0, 0, 0, 2, 1, 2];
    const t = track([on(0, 60), off(480, 60), endOfTrack()]);
    const header = Array.from(midiFile(0, 480, [t]).subarray(0, 14));
    const bytes = new Uint8Array([...header, ...alien, ...t, 0, 0, 0]);
    expect(parseMidi(bytes).notes.map((n) => [n.pitch, n.offset])).toEqual([[60, 0.5]]);
  });
});

describe('bad input -> MidiReadError', () => {
  const good = midiFile(1, 480, [
    track([tempo(0, 500_000), endOfTrack()]),
    track([on(0, 60), off(480, 60), on(0, 62), off(480, 62), endOfTrack()]),
  ]);
  const cases: [string, Uint8Array, string][] = [
    ['empty', new Uint8Array(0), 'empty file'],
    [
      'not MIDI',
      new TextEncoder().encode('hello, this is not a MIDI file'),
      'not a MIDI file (no MThd header)',
    ],
    ['truncated in a track', good.subarray(0, good.length - 5), 'truncated: track 2 announces'],
    [
      'truncated between tracks',
      good.subarray(0, 14 + 8 + 11),
      'truncated: the header announces 2 tracks, the file holds 1',
    ],
    ['truncated in the header', good.subarray(0, 10), 'truncated: the file ends inside its header'],
    [
      'type 2',
      midiFile(2, 480, [track([on(0, 60), off(480, 60), endOfTrack()])]),
      'type 2 (asynchronous tracks) is not supported',
    ],
    [
      'SMPTE',
      midiFile(1, 0xe728, [track([on(0, 60), off(40, 60), endOfTrack()])]),
      'SMPTE time division is not supported',
    ],
    [
      'no notes',
      midiFile(1, 480, [track([tempo(0, 500_000), meter(0, 3, 4), endOfTrack(960)])]),
      'no notes',
    ],
    ['bad event', midiFile(0, 480, [track([[0, [0x3c, 0x40]]])]), 'corrupt MIDI data'],
  ];
  for (const [name, bytes, reason] of cases) {
    it(name, () => {
      let error: unknown;
      try {
        parseMidi(bytes);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(MidiReadError);
      expect(error).toBeInstanceOf(UserError);
      expect((error as Error).message.startsWith(reason)).toBe(true);
    });
  }
  it('the two-track fixture itself is valid (the truncation cases cut a good file)', () => {
    expect(parseMidi(good).notes).toHaveLength(2);
    expect(good.length).toBe(14 + 8 + 11 + 8 + 22);
  });
});

describe('readMidiFile', () => {
  const dir = tempDir('concept-lens-midi-');

  it('reads a file and prefixes errors with its path', () => {
    const ok = join(dir, 'ok.mid');
    writeFileSync(ok, type0);
    expect(readMidiFile(ok).notes).toHaveLength(4);
    const bad = join(dir, 'bad.mid');
    writeFileSync(bad, midiFile(2, 480, [track([endOfTrack()])]));
    expect(() => readMidiFile(bad)).toThrow(
      new MidiReadError(`${bad}: type 2 (asynchronous tracks) is not supported`),
    );
    expect(() => readMidiFile(join(dir, 'missing.mid'))).toThrow(UserError);
  });
});
