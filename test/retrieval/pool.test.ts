import { describe, expect, it } from 'vitest';
import { effectivePooling, poolActivations, pooledSize } from '../../src/retrieval/pool.ts';

// Two windows of a [channel 2, time 3, pitch 2] map, values written out by hand.
const CTP = [2, 3, 2];
// window 0: channel 0 rows (t0..t2) [1,2],[3,4],[5,6]; channel 1 rows [0,0],[6,0],[0,3]
// window 1: every value 1
const acts = Float32Array.from([1, 2, 3, 4, 5, 6, 0, 0, 6, 0, 0, 3, ...Array(12).fill(1)]);

describe('pooling a layer into one vector per window', () => {
  it('averages over time, keeping channel x pitch', () => {
    const out = poolActivations(acts, 2, CTP, ['channel', 'time', 'pitch'], 'time');
    expect([...out]).toEqual([3, 4, 2, 1, 1, 1, 1, 1]);
  });

  it('takes the maximum over time', () => {
    const out = poolActivations(acts, 2, CTP, ['channel', 'time', 'pitch'], 'time-max');
    expect([...out]).toEqual([5, 6, 6, 3, 1, 1, 1, 1]);
  });

  it('finds the time axis wherever the layout puts it', () => {
    // The same first window laid out [channel, pitch, time].
    const cpt = Float32Array.from([1, 3, 5, 2, 4, 6, 0, 6, 0, 0, 0, 3]);
    const out = poolActivations(cpt, 1, [2, 2, 3], ['channel', 'pitch', 'time'], 'time');
    expect([...out]).toEqual([3, 4, 2, 1]);
  });

  it('averages everything but the channels with global pooling', () => {
    const out = poolActivations(acts, 2, CTP, ['channel', 'time', 'pitch'], 'global');
    expect([...out].map((v) => Math.round(v * 1e6) / 1e6)).toEqual([3.5, 1.5, 1, 1]);
  });

  it('keeps vectors (no time axis) as they are', () => {
    expect(effectivePooling('time', [8], ['channel'])).toBe('none');
    expect(effectivePooling('time', [4, 2], ['hidden', 'hidden'])).toBe('none');
    expect(pooledSize('time', [8], ['channel'])).toBe(8);
    const v = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    expect([...poolActivations(v, 1, [8], ['channel'], 'time')]).toEqual([...v]);
  });
});
