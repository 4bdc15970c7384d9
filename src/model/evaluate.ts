/** Accuracy figures of a classifier's predictions (class indices) against the truth. */
export interface Evaluation {
  accuracy: number;
  /** Mean per-class recall over the classes present in the truth (robust to class imbalance). */
  balancedAccuracy: number;
  labels: string[];
  /** confusion[truth][predicted] = count. */
  confusion: number[][];
}

export function evaluate(predictions: number[], truth: number[], labels: string[]): Evaluation {
  if (predictions.length !== truth.length) {
    throw new Error(`evaluate: ${predictions.length} predictions for ${truth.length} true labels`);
  }
  const K = labels.length;
  const confusion = labels.map(() => new Array<number>(K).fill(0));
  let correct = 0;
  predictions.forEach((p, i) => {
    const t = truth[i];
    if (!(t >= 0 && t < K && p >= 0 && p < K))
      throw new Error(`evaluate: class index out of range at ${i}`);
    confusion[t][p]++;
    if (p === t) correct++;
  });
  const recalls = confusion
    .map((row, k) => ({ total: row.reduce((a, b) => a + b, 0), hit: row[k] }))
    .filter((r) => r.total > 0)
    .map((r) => r.hit / r.total);
  return {
    accuracy: truth.length > 0 ? correct / truth.length : NaN,
    balancedAccuracy:
      recalls.length > 0 ? recalls.reduce((a, b) => a + b, 0) / recalls.length : NaN,
    labels,
    confusion,
  };
}

/** One piece's vote: its true class, the class its windows vote for, and how many windows voted. */
export interface PieceVote {
  piece: string;
  truth: number;
  predicted: number;
  windows: number;
  /** Mean log-probability of each class over the piece's windows (the vote's scores). */
  meanLogProbability: number[];
}

/**
 * The piece-level decision a musicologist cares about: each piece's windows vote by their mean
 * log-probability per class (the mean of log-softmax of the logits; equivalently the class that
 * makes the windows jointly most likely if they were independent), and the piece goes to the
 * argmax (the first class on a tie). Log-softmax only subtracts a per-window constant, so the argmax
 * is that of the mean logits; the scores are kept as log-probabilities because they read as such.
 * One confident window can outvote several lukewarm ones: this is not a majority vote. `logits` is row-major [windows, classes]; `pieces[i]` and
 * `truth[i]` belong to window i. Pieces come out in the order of their first window; a piece whose
 * windows disagree about its true class is an error in the caller.
 */
export function voteByPiece(
  logits: ArrayLike<number>,
  classes: number,
  pieces: string[],
  truth: number[],
): PieceVote[] {
  if (logits.length !== pieces.length * classes || truth.length !== pieces.length) {
    throw new Error(
      `voteByPiece: ${logits.length} logits for ${pieces.length} windows of ${classes} classes and ${truth.length} true labels`,
    );
  }
  const votes = new Map<string, PieceVote>();
  for (let i = 0; i < pieces.length; i++) {
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, logits[i * classes + c]);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(logits[i * classes + c] - max);
    const logZ = max + Math.log(sum);
    let v = votes.get(pieces[i]);
    if (!v) {
      v = {
        piece: pieces[i],
        truth: truth[i],
        predicted: -1,
        windows: 0,
        meanLogProbability: new Array<number>(classes).fill(0),
      };
      votes.set(pieces[i], v);
    } else if (v.truth !== truth[i]) {
      throw new Error(`voteByPiece: piece ${pieces[i]} has windows of two true classes`);
    }
    v.windows++;
    for (let c = 0; c < classes; c++) v.meanLogProbability[c] += logits[i * classes + c] - logZ;
  }
  for (const v of votes.values()) {
    let best = 0;
    for (let c = 0; c < classes; c++) {
      v.meanLogProbability[c] /= v.windows;
      if (v.meanLogProbability[c] > v.meanLogProbability[best]) best = c;
    }
    v.predicted = best;
  }
  return [...votes.values()];
}
