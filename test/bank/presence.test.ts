import { describe, expect, it } from 'vitest';
import { meanDirection, median, presence, project } from '../../src/bank/presence.ts';
import { argmax, logSoftmax, softmax, topWindows } from '../../src/timeline/analyse.ts';

// Hand-worked examples of the bank's arithmetic.
describe('bank arithmetic', () => {
  it('the mean direction is the unit mean of the unit CAVs, degenerate (zero) runs left out', () => {
    const d = meanDirection([
      Float32Array.from([1, 0]),
      Float32Array.from([0, 2]), // normalised to (0, 1) first
      Float32Array.from([0, 0]),
    ])!;
    expect(d[0]).toBeCloseTo(Math.SQRT1_2, 7);
    expect(d[1]).toBeCloseTo(Math.SQRT1_2, 7);
    expect(meanDirection([Float32Array.from([0, 0])])).toBeUndefined();
    expect(meanDirection([Float32Array.from([1, 0]), Float32Array.from([-1, 0])])).toBeUndefined();
  });

  it('projects rows of activations on a direction', () => {
    const acts = Float32Array.from([1, 2, 3, 4, 5, 6]);
    expect([...project(acts, 2, Float32Array.from([1, 0, -1]))]).toEqual([-2, -2]);
    expect([...project(acts, 3, Float32Array.from([0.5, 0.5]))]).toEqual([1.5, 3.5, 5.5]);
  });

  it('presence is the mid-rank percentile among the references', () => {
    const ref = Float64Array.from([1, 2, 2, 3, 10]);
    expect(presence(ref, 0)).toBe(0);
    expect(presence(ref, 1)).toBe(0.5 / 5); // ties count half
    expect(presence(ref, 2)).toBe((1 + 1) / 5);
    expect(presence(ref, 2.5)).toBe(3 / 5);
    expect(presence(ref, 11)).toBe(1);
    expect(presence(ref, NaN)).toBeNaN();
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
  });

  it('softmax and log-softmax are stable for large logits', () => {
    const p = softmax([1000, 1000 + Math.log(3)]);
    expect(p[0]).toBeCloseTo(0.25, 12);
    expect(p[1]).toBeCloseTo(0.75, 12);
    expect(logSoftmax([0, 0])[0]).toBeCloseTo(-Math.LN2, 12);
    expect(argmax([0.1, 0.7, 0.7, 0.2])).toBe(1);
  });

  it('top windows: highest presence first, never two overlapping windows', () => {
    // Windows of 4 frames every 2 frames: starts 0, 2, 4, 6, 8.
    const starts = [0, 2, 4, 6, 8];
    const pres = [0.5, 0.9, 0.95, 0.2, 0.9];
    const proj = [0, 1, 2, 0, 3];
    // 2 (0.95) first; 1 and 4 tie at 0.9 and 4 has the larger projection; 1 (frames 2..6)
    // overlaps 2 (frames 4..8) and is skipped; 0 (frames 0..4) only touches 2.
    expect(topWindows(pres, proj, starts, 4, 3)).toEqual([2, 4, 0]);
    expect(topWindows(pres, proj, [0, 10, 20, 30, 40], 4, 3)).toEqual([2, 4, 1]);
    expect(topWindows(pres, proj, starts, 4, 0)).toEqual([]);
  });
});
