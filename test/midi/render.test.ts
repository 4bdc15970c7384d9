import { describe, expect, it } from 'vitest';
import { renderRoll, rollFrames } from '../../src/midi/render.ts';
import { DEFAULT_LAYOUT, type RollLayout } from '../../src/midi/roll.ts';
import { note } from '../helpers/notes.ts';

/** Frames where (channel, pitch) is non-zero. */
function activeFrames(
  roll: ReturnType<typeof renderRoll>,
  channel: number,
  pitch: number,
): number[] {
  const out: number[] = [];
  for (let t = 0; t < roll.frames; t++) if (roll.get(channel, t, pitch) > 0) out.push(t);
  return out;
}

describe('renderRoll', () => {
  it('quantises onsets down and offsets to the nearest frame (hand-worked at 20 fps)', () => {
    // 0.07 s -> frame floor(1.4) = 1; 0.21 s -> round(4.2) = 4: frames 1, 2, 3.
    // 0.051..0.06 s -> frame 1, offset round(1.2) = 1 -> at least one frame: frame 1.
    // 0.15..0.30 s -> floor(3) = 3, round(6) = 6.
    const roll = renderRoll([note(60, 0.07, 0.21), note(62, 0.051, 0.06), note(64, 0.15, 0.3)]);
    expect(roll.frames).toBe(6);
    expect(activeFrames(roll, 0, 60)).toEqual([1, 2, 3]);
    expect(activeFrames(roll, 0, 62)).toEqual([1]);
    expect(activeFrames(roll, 0, 64)).toEqual([3, 4, 5]);
    expect(roll.data[roll.index(0, 1, 60)]).toBe(1);
    expect(roll.data.reduce((s, v) => s + v, 0)).toBe(7);
  });

  it('does not let floating-point products like 0.58 * 50 = 28.999999999999996 move an onset', () => {
    const layout: RollLayout = { ...DEFAULT_LAYOUT, fps: 50 };
    expect(0.58 * 50).toBeLessThan(29);
    expect(activeFrames(renderRoll([note(60, 0.58, 0.6)], layout), 0, 60)).toEqual([29]);
  });

  it('drops notes outside the pitch range and cuts at the given duration', () => {
    const roll = renderRoll(
      [note(20, 0, 1), note(109, 0, 1), note(21, 0, 1), note(108, 0.5, 2)],
      DEFAULT_LAYOUT,
      1,
    );
    expect(roll.frames).toBe(20);
    expect(activeFrames(roll, 0, 21)).toHaveLength(20);
    expect(activeFrames(roll, 0, 108)).toEqual([...Array(10).keys()].map((i) => i + 10));
    expect(roll.data.reduce((s, v) => s + v, 0)).toBe(30);
  });

  it('fills onset and velocity channels; overlapping notes keep the larger value', () => {
    const layout: RollLayout = {
      fps: 10,
      lowPitch: 60,
      highPitch: 71,
      channels: ['frame', 'onset'],
      values: 'velocity',
    };
    const roll = renderRoll(
      [
        note(60, 0, 0.3, 127),
        note(60, 0.3, 0.5, 64),
        note(61, 0.1, 0.4, 100),
        note(61, 0.2, 0.3, 50),
      ],
      layout,
    );
    expect(roll.frames).toBe(5);
    expect(roll.data).toHaveLength(2 * 5 * 12);
    expect([0, 1, 2, 3, 4].map((t) => roll.get(0, t, 60))).toEqual(
      [1, 1, 1, 64 / 127, 64 / 127].map(Math.fround),
    );
    expect([0, 1, 2, 3, 4].map((t) => roll.get(1, t, 60))).toEqual(
      [1, 0, 0, 64 / 127, 0].map(Math.fround),
    );
    expect([0, 1, 2, 3, 4].map((t) => roll.get(0, t, 61))).toEqual(
      [0, 100 / 127, 100 / 127, 100 / 127, 0].map(Math.fround),
    );
    expect([0, 1, 2, 3, 4].map((t) => roll.get(1, t, 61))).toEqual(
      [0, 100 / 127, 50 / 127, 0, 0].map(Math.fround),
    );
    // Memory layout: channel-major, then frame, then pitch from lowPitch.
    expect(roll.data[1 * 5 * 12 + 3 * 12 + 0]).toBe(Math.fround(64 / 127));
  });

  it('rollFrames covers the duration', () => {
    expect(rollFrames(20, 20)).toBe(400);
    expect(rollFrames(20.01, 20)).toBe(401);
    expect(rollFrames(0, 20)).toBe(1);
  });
});
