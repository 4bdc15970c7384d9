/**
 * barBeat and formatBeat: bars and beats under the piece's own meters, beat never beyond its bar
 * (hand-worked positions).
 */
import { describe, expect, it } from 'vitest';
import { barBeat, buildTimeMap, formatBeat, ticksToSeconds } from '../../src/midi/timemap.ts';

describe('barBeat', () => {
  // 480 ticks per quarter at 120 bpm (0.5 s per quarter): bar 1 in 3/4 (1.5 s), then 6/8 from
  // tick 1440 (bar 2; a bar is 1.5 s too, six eighth beats of 0.25 s), then 4/4 from bar 4.
  const map = buildTimeMap(
    480,
    [{ tick: 0, microsecondsPerBeat: 500_000 }],
    [
      { tick: 0, numerator: 3, denominator: 4 },
      { tick: 1440, numerator: 6, denominator: 8 },
      { tick: 1440 + 2 * 1440, numerator: 4, denominator: 4 },
    ],
  );

  it('counts beats in each meter', () => {
    expect(barBeat(map, 0)).toEqual({ bar: 1, beat: 1, numerator: 3, denominator: 4 });
    expect(barBeat(map, 1.25)).toEqual({ bar: 1, beat: 3.5, numerator: 3, denominator: 4 });
    expect(barBeat(map, 1.5)).toEqual({ bar: 2, beat: 1, numerator: 6, denominator: 8 });
    expect(barBeat(map, 1.5 + 1.25)).toEqual({ bar: 2, beat: 6, numerator: 6, denominator: 8 });
    expect(barBeat(map, 4.5 + 1.75)).toEqual({ bar: 4, beat: 4.5, numerator: 4, denominator: 4 });
  });

  it('puts a time a hair before a bar line on the next bar, not on beat numerator + 1', () => {
    for (const tick of [1440, 2880, 4320, 4320 + 1920 * 176]) {
      const s = ticksToSeconds(map, tick);
      for (const t of [s - 1e-9, s, s + 1e-9]) {
        const b = barBeat(map, t);
        expect(b.beat).toBe(1);
      }
    }
  });

  it('keeps every beat within its bar over a fine sweep', () => {
    for (let t = 0; t < 30; t += 0.0137) {
      const b = barBeat(map, t);
      expect(b.beat).toBeGreaterThanOrEqual(1);
      expect(b.beat).toBeLessThan(b.numerator + 1);
      expect(Math.floor(Number(formatBeat(b.beat).replace(/[^0-9.].*$/, '')))).toBeLessThanOrEqual(
        b.numerator,
      );
    }
  });

  it('formats beats without rounding up into the next bar', () => {
    expect(formatBeat(1)).toBe('1');
    expect(formatBeat(2.5)).toBe('2½');
    expect(formatBeat(3 + 1 / 3)).toBe('3⅓');
    expect(formatBeat(1.75)).toBe('1¾');
    expect(formatBeat(4.9971)).toBe('4.99');
  });
});
