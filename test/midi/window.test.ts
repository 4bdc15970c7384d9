import { describe, expect, it } from 'vitest';
import type { CorpusEntry } from '../../src/corpus/types.ts';
import { parseMidi } from '../../src/midi/read.ts';
import { DEFAULT_LAYOUT } from '../../src/midi/roll.ts';
import { makeExcerpts, windowStarts } from '../../src/midi/window.ts';
import { endOfTrack, meter, midiFile, off, on, tempo, track } from './bytes.ts';

describe('windowStarts', () => {
  it('handles the tail: drop, pad, shift', () => {
    expect(windowStarts(1000, { windowFrames: 400, last: 'drop' })).toEqual([0, 400]);
    expect(windowStarts(1000, { windowFrames: 400, last: 'pad' })).toEqual([0, 400, 800]);
    expect(windowStarts(1000, { windowFrames: 400, last: 'shift' })).toEqual([0, 400, 600]);
    expect(windowStarts(1000, { windowFrames: 400, hopFrames: 200, last: 'shift' })).toEqual([
      0, 200, 400, 600,
    ]);
    expect(windowStarts(1100, { windowFrames: 400, hopFrames: 300, last: 'pad' })).toEqual([
      0, 300, 600, 900,
    ]);
    expect(windowStarts(800, { windowFrames: 400, last: 'shift' })).toEqual([0, 400]);
    expect(windowStarts(1000)).toEqual([0, 400]);
  });

  it('gives one padded window for a short piece unless last is drop', () => {
    expect(windowStarts(300, { windowFrames: 400, last: 'pad' })).toEqual([0]);
    expect(windowStarts(300, { windowFrames: 400, last: 'shift' })).toEqual([0]);
    expect(windowStarts(300, { windowFrames: 400, last: 'drop' })).toEqual([]);
    expect(windowStarts(400, { windowFrames: 400, last: 'drop' })).toEqual([0]);
  });

  it('chooses perPiece windows by seed, sorted', () => {
    const all = windowStarts(10_000, { windowFrames: 100 });
    const a = windowStarts(10_000, { windowFrames: 100, perPiece: 5, seed: 7 });
    expect(a).toHaveLength(5);
    expect(a).toEqual([...a].sort((x, y) => x - y));
    expect(new Set(a).size).toBe(5);
    for (const s of a) expect(all).toContain(s);
    expect(windowStarts(10_000, { windowFrames: 100, perPiece: 5, seed: 7 })).toEqual(a);
    const others = [1, 2, 3, 'x'].map((seed) =>
      windowStarts(10_000, { windowFrames: 100, perPiece: 5, seed }).join(),
    );
    expect(others.some((o) => o !== a.join())).toBe(true);
    expect(windowStarts(250, { windowFrames: 100, perPiece: 5, seed: 7 })).toEqual([0, 100]);
  });
});

describe('makeExcerpts', () => {
  // 3/4 at 120 bpm, 480 ticks per beat: a bar is 1.5 s = 30 frames at 20 fps. 9 s of music (6 bars).
  const bytes = midiFile(0, 480, [
    track([meter(0, 3, 4), tempo(0, 500_000), on(0, 60), off(480 * 18, 60), endOfTrack()]),
  ]);
  const content = parseMidi(bytes);
  const entry: CorpusEntry = {
    path: '/x/a.mid',
    file: 'A/a.mid',
    composer: 'A',
    piece: 'A/a',
    kind: 'score',
  };

  it('fills ids, times and inclusive bars for score MIDI', () => {
    const excerpts = makeExcerpts(entry, content, DEFAULT_LAYOUT, {
      windowFrames: 60,
      hopFrames: 45,
      last: 'pad',
    });
    // 180 frames: starts 0, 45, 90; 135 + 60 > 180 so the pad window starts at 135.
    expect(
      excerpts.map((e) => [e.id, e.startFrame, e.start, e.end, e.bars?.start, e.bars?.end]),
    ).toEqual([
      ['A/a.mid@0+60', 0, 0, 3, 1, 2], // 0..3 s = bars 1-2 (3 s is the start of bar 3, not included)
      ['A/a.mid@45+60', 45, 2.25, 5.25, 2, 4], // 2.25 s is in bar 2; 5.25 s in bar 4
      ['A/a.mid@90+60', 90, 4.5, 7.5, 4, 5],
      ['A/a.mid@135+60', 135, 6.75, 9, 5, 6], // padded: ends with the piece
    ]);
    expect(excerpts[0]).toMatchObject({ file: 'A/a.mid', piece: 'A/a', composer: 'A', frames: 60 });
  });

  it('gives no bars for performances, and bars for unknown kinds only with an explicit meter', () => {
    const perf = makeExcerpts({ ...entry, kind: 'performance' }, content, DEFAULT_LAYOUT, {
      windowFrames: 60,
    });
    expect(perf.every((e) => e.bars === undefined)).toBe(true);
    const unknown = makeExcerpts({ ...entry, kind: undefined }, content, DEFAULT_LAYOUT, {
      windowFrames: 60,
    });
    expect(unknown[0].bars).toEqual({ start: 1, end: 2 });
    const noMeter = parseMidi(
      midiFile(0, 480, [track([on(0, 60), off(480 * 18, 60), endOfTrack()])]),
    );
    expect(
      makeExcerpts({ ...entry, kind: undefined }, noMeter, DEFAULT_LAYOUT, { windowFrames: 60 })[0]
        .bars,
    ).toBeUndefined();
  });
});
