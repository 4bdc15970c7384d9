import { describe, expect, it } from 'vitest';
import { drawSpread } from '../../src/tcav/layer.ts';
import { Rng } from '../../src/util/random.ts';

// Random concepts and counterexample sets are drawn spread over pieces: distinct pieces, each
// equally likely however many windows it has in the pool. Checked by counting over many draws.
describe('drawSpread', () => {
  // One long piece (100 rows), nine short ones (2 rows each).
  const groups = [
    Array.from({ length: 100 }, (_, i) => i),
    ...Array.from({ length: 9 }, (_, g) => [100 + 2 * g, 101 + 2 * g]),
  ];
  const groupOf = (row: number) => (row < 100 ? 0 : 1 + Math.floor((row - 100) / 2));

  it('takes distinct pieces, each about equally often, whatever their size', () => {
    const rng = new Rng('draw-spread');
    const counts = new Array<number>(groups.length).fill(0);
    const draws = 4000;
    for (let d = 0; d < draws; d++) {
      const rows = drawSpread(rng, groups, 3);
      expect(new Set(rows.map(groupOf)).size).toBe(3);
      for (const r of rows) counts[groupOf(r)]++;
    }
    // Each of 10 pieces is in a draw of 3 with probability 0.3 (a uniform draw of rows would put
    // the long piece in 3 draws of 3 out of 4 or more: about 0.9).
    for (const c of counts) expect(c / draws).toBeGreaterThan(0.26);
    for (const c of counts) expect(c / draws).toBeLessThan(0.34);
  });

  it('goes round again when more rows than pieces are asked, never repeating or taking excluded rows', () => {
    const rng = new Rng('draw-spread-2');
    const excluded = new Set([100, 101, 5]);
    for (let d = 0; d < 200; d++) {
      const rows = drawSpread(rng, groups, 15, excluded);
      expect(rows).toHaveLength(15);
      expect(new Set(rows).size).toBe(15);
      expect(rows.some((r) => excluded.has(r))).toBe(false);
      // Piece 1 is wholly excluded; the 9 others give one row each in round 1, then round 2.
      expect(new Set(rows.map(groupOf)).size).toBe(9);
    }
  });

  it('stops at what is left', () => {
    const rng = new Rng('draw-spread-3');
    expect(drawSpread(rng, [[0, 1], [2]], 5, new Set([1]))).toHaveLength(2);
  });
});
