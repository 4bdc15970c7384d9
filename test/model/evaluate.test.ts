import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { evaluate, voteByPiece, type PieceVote } from '../../src/model/evaluate.ts';

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

describe('voteByPiece', () => {
  it('gives each piece the class of highest mean log-probability (worked by hand)', () => {
    // Two classes A, B. Piece P has three windows with probabilities (A, B):
    //   w1 (0.001, 0.999), w2 (0.8, 0.2), w3 (0.8, 0.2); logits = ln p + an arbitrary per-window offset.
    // Majority vote: A (2 of 3). Mean probability: A (0.001 + 1.6) / 3 = 0.534 > 0.466: A.
    // Mean log-probability: A (ln 0.001 + 2 ln 0.8) / 3 = (-6.9078 - 0.4463) / 3 = -2.4514,
    //                       B (ln 0.999 + 2 ln 0.2) / 3 = (-0.0010 - 3.2189) / 3 = -1.0733: B.
    // Piece Q (true B) has one window (0.7, 0.3): A.
    const w = (a: number, b: number, offset: number) => [
      Math.log(a) + offset,
      Math.log(b) + offset,
    ];
    const logits = [
      ...w(0.001, 0.999, 3),
      ...w(0.7, 0.3, -5),
      ...w(0.8, 0.2, 10),
      ...w(0.8, 0.2, 0),
    ];
    const votes = voteByPiece(logits, 2, ['P', 'Q', 'P', 'P'], [0, 1, 0, 0]);
    expect(votes.map((v) => [v.piece, v.truth, v.predicted, v.windows])).toEqual([
      ['P', 0, 1, 3],
      ['Q', 1, 0, 1],
    ]);
    expect(votes[0].meanLogProbability[0]).toBeCloseTo(-2.4514, 3);
    expect(votes[0].meanLogProbability[1]).toBeCloseTo(-1.0733, 3);
    expect(votes[1].meanLogProbability[0]).toBeCloseTo(Math.log(0.7), 10);
  });

  it('matches scipy log_softmax and scikit-learn on seeded random logits (vote.json)', () => {
    // Made by training/fixtures/make_vote_fixtures.py.
    const f = JSON.parse(
      readFileSync(new URL('../fixtures/evaluate/vote.json', import.meta.url), 'utf8'),
    ) as {
      classes: number;
      pieces: string[];
      truth: number[];
      logits: number[];
      votes: PieceVote[];
      accuracy: number;
      balancedAccuracy: number;
      confusion: number[][];
    };
    const votes = voteByPiece(f.logits, f.classes, f.pieces, f.truth);
    expect(votes.map((v) => [v.piece, v.truth, v.predicted, v.windows])).toEqual(
      f.votes.map((v) => [v.piece, v.truth, v.predicted, v.windows]),
    );
    votes.forEach((v, i) =>
      v.meanLogProbability.forEach((x, c) =>
        expect(x).toBeCloseTo(f.votes[i].meanLogProbability[c], 9),
      ),
    );
    const labels = ['A', 'B', 'C', 'D'];
    const r = evaluate(
      votes.map((v) => v.predicted),
      votes.map((v) => v.truth),
      labels,
    );
    expect(r.accuracy).toBeCloseTo(f.accuracy, 12);
    expect(r.balancedAccuracy).toBeCloseTo(f.balancedAccuracy, 12);
    expect(r.confusion).toEqual(f.confusion);
    // Not degenerate: some pieces right, some wrong.
    expect(f.accuracy).toBeGreaterThan(0);
    expect(f.accuracy).toBeLessThan(1);
  });

  it('refuses mismatched lengths and a piece with two true classes', () => {
    expect(() => voteByPiece([0, 0, 0], 2, ['P'], [0])).toThrow(/3 logits for 1 windows/);
    expect(() => voteByPiece([0, 0, 0, 0], 2, ['P', 'P'], [0, 1])).toThrow(/two true classes/);
  });
});
