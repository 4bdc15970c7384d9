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
