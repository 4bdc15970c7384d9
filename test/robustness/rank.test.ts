import { describe, expect, it } from 'vitest';
import { EditCandidates, editGrid, renderEdited } from '../../src/edits/index.ts';
import { renderRoll } from '../../src/midi/render.ts';
import { DEFAULT_LAYOUT } from '../../src/midi/roll.ts';
import type { Note } from '../../src/midi/types.ts';
import { firstOrderEffects, smallestK } from '../../src/robustness/rank.ts';
import {
  median,
  pairedComparison,
  pairMedians,
  robustnessCurve,
  signTest,
} from '../../src/robustness/summary.ts';
import type { AttackedExcerpt } from '../../src/results/attack.ts';
import { Rng } from '../../src/util/random.ts';

const layout = DEFAULT_LAYOUT;
const grid = editGrid(layout, 60);

function notes(seed: number, count: number, pitches: [number, number]): Note[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => {
    const onset = rng.int(0, 2600) / 960;
    const offset = Math.min(3, onset + rng.int(30, 600) / 960);
    return { pitch: rng.int(...pitches), onset, offset, velocity: 80, track: 0, channel: 0 };
  });
}

describe('firstOrderEffects', () => {
  it('equals sum(g * (roll after - roll before)) for every candidate whose cells no other note shares', () => {
    // A crowded excerpt; candidates whose cells other notes of the pitch share are left out (there
    // the estimate ignores the other note, by design: the model checks the best candidates anyway).
    const ns = notes(11, 40, [40, 80]);
    const before = renderRoll(ns, layout, 3);
    const g = new Float32Array(before.data.length).map((_, i) => Math.sin(i * 12.9898) * 0.5);
    const cands = EditCandidates.enumerate(ns, grid, { layout });
    const effects = firstOrderEffects(cands, before, g);
    let checked = 0;
    for (let i = 0; i < cands.count; i++) {
      const edit = cands.edit(i);
      const after = renderEdited(ns, [edit], layout, grid);
      // Exact when no other note of the pitch lights a cell the edit touches (the note's own cells
      // before or after, or the cells that change).
      const others = renderRoll(
        ns.filter((_, j) => edit.kind === 'add' || j !== edit.note),
        layout,
        3,
      );
      let overlap = false;
      for (let k = 0; k < g.length && !overlap; k++) {
        const touched =
          after.data[k] !== before.data[k] || (before.data[k] > 0 && after.data[k] > 0);
        overlap =
          touched &&
          others.data[k] > 0 &&
          (edit.kind !== 'add' || after.data[k] !== before.data[k]);
      }
      let exact = 0;
      for (let k = 0; k < g.length; k++) exact += g[k] * (after.data[k] - before.data[k]);
      if (overlap) continue;
      expect(effects[i], JSON.stringify(edit)).toBeCloseTo(exact, 4);
      checked++;
    }
    expect(checked).toBeGreaterThan(cands.count * 0.5);
  });
});

describe('smallestK', () => {
  it('returns the indices of the k smallest values, smallest first', () => {
    const rng = new Rng(3);
    const v = Float32Array.from({ length: 1000 }, () => rng.normal());
    const sorted = [...v.keys()].sort((a, b) => v[a] - v[b]);
    expect(smallestK(v, 7)).toEqual(sorted.slice(0, 7));
    expect(smallestK(v.subarray(0, 3), 7)).toEqual(
      [...v.subarray(0, 3).keys()].sort((a, b) => v[a] - v[b]),
    );
  });
});

describe('robustness summaries', () => {
  const x = (composer: string, notes: number, greedy?: [number, string]): AttackedExcerpt => ({
    id: `${composer}-${notes}`,
    composer,
    piece: 'p',
    file: 'f',
    start: 0,
    end: 20,
    notes,
    outcomes: {
      greedy: greedy
        ? {
            success: true,
            edits: greedy[0],
            predicted: greedy[1],
            marginBefore: 1,
            marginAfter: -1,
          }
        : { success: false, edits: 20, predicted: composer, marginBefore: 1, marginAfter: 0.5 },
    },
  });
  // 5 excerpts drawn, 4 correct: flipped after 1, 3 and 3 edits, one robust.
  const attacked = [x('A', 100, [1, 'B']), x('A', 50, [3, 'B']), x('B', 300, [3, 'A']), x('B', 10)];

  it('robust accuracy counts misclassified excerpts as wrong at every budget', () => {
    const c = robustnessCurve('greedy', attacked, 5, [1, 2, 5, 20], [0.01, 0.06], 1);
    expect(c.byEdits.map((b) => b.robustAccuracy)).toEqual([3 / 5, 3 / 5, 1 / 5, 1 / 5]);
    expect(c.byEdits.map((b) => b.attackSuccess)).toEqual([1 / 4, 1 / 4, 3 / 4, 3 / 4]);
    // 1 % of notes: 1 edit of 100, 0.5 of 50, 3 of 300 -> the first and the third are broken;
    // 6 %: 3 edits of 50 as well.
    expect(c.byShare.map((b) => b.robustAccuracy)).toEqual([2 / 5, 1 / 5]);
    expect(c.medianEdits).toBe(3);
    expect(c.meanEdits).toBeCloseTo(7 / 3, 10);
  });

  it('median edits per composer pair', () => {
    expect(pairMedians('greedy', attacked)).toEqual([
      { search: 'greedy', from: 'A', to: 'B', count: 2, medianEdits: 2 },
      { search: 'greedy', from: 'B', to: 'A', count: 1, medianEdits: 3 },
    ]);
    expect(median([4, 1, 3])).toBe(3);
  });

  it('compares two models on the excerpts both classify correctly, with a sign test', () => {
    const other = [x('A', 100, [2, 'B']), x('A', 50, [3, 'B']), x('B', 300), x('Z', 1, [1, 'A'])];
    other[0].id = attacked[0].id;
    other[1].id = attacked[1].id;
    other[2].id = attacked[2].id;
    // Common: 3 excerpts; needed 1 vs 2, 3 vs 3, 3 vs 21 (robust within 20).
    const c = pairedComparison(attacked, other, 'greedy', 20);
    expect(c).toMatchObject({ excerpts: 3, aFewer: 2, bFewer: 0, ties: 1, medianA: 3, medianB: 3 });
    expect(c.meanB).toBeCloseTo(26 / 3, 10);
    expect(c.pSign).toBeCloseTo(0.5, 12); // 2 wins, 0 losses: 2 * (1/4)
  });
});

describe('signTest', () => {
  it('matches the binomial sums worked by hand', () => {
    // 2 vs 8: 2 * (C(10,0) + C(10,1) + C(10,2)) / 2^10 = 2 * 56 / 1024.
    expect(signTest(2, 8)).toBeCloseTo(112 / 1024, 14);
    expect(signTest(8, 2)).toBeCloseTo(112 / 1024, 14);
    // 5 vs 5: the two tails overlap; capped at 1.
    expect(signTest(5, 5)).toBe(1);
    expect(signTest(0, 0)).toBe(1);
    // 0 vs 30: 2 / 2^30.
    expect(signTest(0, 30)).toBeCloseTo(2 / 2 ** 30, 20);
  });
});
