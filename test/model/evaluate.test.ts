import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src/model/evaluate.ts';

describe('evaluate', () => {
  it('computes accuracy, balanced accuracy and the confusion matrix (worked by hand)', () => {
    // truth:       A A A A B B C C C C   (A: 4, B: 2, C: 4)
    // predictions: A A B C B A C C C A
    // correct: A 2/4, B 1/2, C 3/4 -> accuracy 6/10, balanced (0.5 + 0.5 + 0.75) / 3 = 0.58333...
    const r = evaluate(
      [0, 0, 1, 2, 1, 0, 2, 2, 2, 0],
      [0, 0, 0, 0, 1, 1, 2, 2, 2, 2],
      ['A', 'B', 'C'],
    );
    expect(r.accuracy).toBeCloseTo(0.6, 12);
    expect(r.balancedAccuracy).toBeCloseTo(1.75 / 3, 12);
    expect(r.confusion).toEqual([
      [2, 1, 1],
      [1, 1, 0],
      [1, 0, 3],
    ]);
    expect(r.labels).toEqual(['A', 'B', 'C']);
  });

  it('leaves classes absent from the truth out of the balanced accuracy', () => {
    const r = evaluate([0, 1, 1], [0, 0, 1], ['A', 'B', 'C']);
    expect(r.balancedAccuracy).toBeCloseTo((0.5 + 1) / 2, 12);
    expect(() => evaluate([0], [0, 1], ['A', 'B'])).toThrow(/1 predictions for 2/);
  });
});
