import { describe, expect, it } from 'vitest';
import {
  boundedPoolSize,
  boundedTargetExcerpts,
  LAYER_MEMORY_BYTES,
  MIN_POOL,
  MIN_TARGET_EXCERPTS,
  POOL_MEMORY_BYTES,
  TARGET_MEMORY_BYTES,
} from '../../src/tcav/memory.ts';

/**
 * The memory bounds of TCAV at one layer (src/tcav/memory.ts), worked by hand: what a layer of the
 * shipped ResNets keeps (everything), and what the 281,600-value VGG layer of docs/your-model.md
 * keeps. The peak these give is measured by the CLI under /usr/bin/time (docs), not here.
 */
describe('TCAV memory bounds at a layer', () => {
  it('keeps the defaults whole at the widths of the shipped models', () => {
    // 9,600 values (layer3 of the ASAP ResNet): 100 excerpts x 5 composers, a pool of 5000.
    expect(boundedTargetExcerpts(100, 5, 'layer3', 9600)).toEqual({ size: 100 });
    const reserved = 4 * 9600 * 500;
    expect(boundedPoolSize(5000, 'layer3', 9600, reserved)).toEqual({ size: 5000 });
    // The widest layer the pool keeps whole: 768 MiB / (5000 x 4 bytes) = 40,265 values.
    expect(boundedPoolSize(5000, 'l', 40265, 4 * 40265 * 500).size).toBe(5000);
    expect(boundedPoolSize(5000, 'l', 40266, 4 * 40266 * 500).size).toBe(4999);
  });

  it('bounds both at a 281,600-value layer, saying so in one line each', () => {
    const dim = 281_600;
    const targets = boundedTargetExcerpts(100, 5, 'features.2', dim);
    // 384 MiB / (4 bytes x 281,600 x 5) = 71.5
    expect(targets.size).toBe(71);
    expect(targets.note).toMatch(/^features\.2: 71 target excerpts per composer instead of 100: /);
    const reserved = 4 * dim * 71 * 5;
    expect(reserved).toBeLessThanOrEqual(TARGET_MEMORY_BYTES);
    const pool = boundedPoolSize(5000, 'features.2', dim, reserved);
    // (896 MiB - 71 x 5 x 281,600 x 4 bytes) / (281,600 x 4 bytes) = 479.1
    expect(pool.size).toBe(479);
    expect(pool.note).toMatch(/^features\.2: a random pool of 479 windows instead of 5000: /);
    expect(4 * dim * pool.size + reserved).toBeLessThanOrEqual(LAYER_MEMORY_BYTES);
    expect(4 * dim * pool.size).toBeLessThanOrEqual(POOL_MEMORY_BYTES);
  });

  it('never goes below the floors, and leaves smaller requests alone', () => {
    expect(boundedTargetExcerpts(100, 5, 'huge', 50_000_000).size).toBe(MIN_TARGET_EXCERPTS);
    expect(boundedTargetExcerpts(10, 5, 'huge', 50_000_000)).toEqual({ size: 10 });
    expect(boundedPoolSize(5000, 'huge', 50_000_000, LAYER_MEMORY_BYTES).size).toBe(MIN_POOL);
    expect(boundedPoolSize(200, 'huge', 50_000_000)).toEqual({ size: 200 });
  });
});
