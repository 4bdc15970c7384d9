/**
 * What "present" means on a page: a calibrated statement, not a rank. A concept's presence in a
 * window used to be the percentile of the window's projection on the concept's direction among
 * corpus windows: it ranks windows, it does not say the concept is there (every piece has a top
 * window). Here a rule over the notes (a detector of src/detect, independent of the model) labels
 * corpus windows, and a one-feature logistic model (Platt scaling) turns the projection into the
 * probability that the detector hears the texture in the window:
 *
 *   P(present | projection x) = 1 / (1 + exp(-(a x + b)))
 *
 * fitted by maximum likelihood (Newton's method, no penalty) on windows of training-split pieces.
 * The threshold at which a page says "present" is chosen on the same training windows (the one
 * that maximises F0.5, which weighs precision twice as much as recall: a page that says "present"
 * should be right). Then, on windows of held-out pieces (validation and test splits, pieces no
 * concept draws its examples from), the direction is checked: ROC AUC of the projection against
 * the detector's label, precision and recall at "present". A concept localises when held-out AUC
 * >= 0.9 and precision at "present" >= 0.8 (LOCALISATION_CUT); otherwise the bank marks it as not
 * localising and pages say so instead of drawing a lane.
 *
 * The rules label and evaluate; they never feed the model's lane: the probability is a function of
 * the activations' projection alone.
 */

export const LOCALISATION_CUT = { auc: 0.9, precision: 0.8 } as const;

export interface Platt {
  /** P = sigmoid(a * projection + b). */
  a: number;
  b: number;
}

export interface SideFigures {
  windows: number;
  pieces: number;
  positives: number;
  /** ROC AUC of the projection against the label (NaN without both classes). */
  auc: number;
  /** Precision and recall of "present" (probability >= threshold); NaN when undefined. */
  precision: number;
  recall: number;
}

export interface Calibration {
  /** The detector (src/detect texture) that labelled the windows. */
  detector: string;
  method: 'platt';
  platt: Platt;
  /** "Present" when the probability is at least this (chosen on training windows). */
  threshold: number;
  training: SideFigures;
  heldOut: SideFigures;
  /** Held-out AUC >= LOCALISATION_CUT.auc and precision >= LOCALISATION_CUT.precision. */
  localises: boolean;
  /** In words, why it does not localise (absent when it does). */
  reason?: string;
}

export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

export function probability(p: Platt, projection: number): number {
  return sigmoid(p.a * projection + p.b);
}

/**
 * Maximum-likelihood logistic regression of labels on one feature (unpenalised), by Newton's
 * method on the standardised feature. Undefined when the labels are all equal or the classes are
 * perfectly separated (the likelihood then has no maximum): in the separated case a large but
 * finite slope is kept (the last Newton step before the log-loss stopped improving by 1e-12).
 */
export function fitPlatt(x: ArrayLike<number>, y: ArrayLike<boolean>): Platt | undefined {
  const n = x.length;
  let pos = 0;
  let mean = 0;
  for (let i = 0; i < n; i++) {
    mean += x[i] / n;
    if (y[i]) pos++;
  }
  if (pos === 0 || pos === n) return undefined;
  let sd = 0;
  for (let i = 0; i < n; i++) sd += (x[i] - mean) ** 2 / n;
  sd = Math.sqrt(sd) || 1;
  // Standardised: z = (x - mean) / sd; P = sigmoid(w z + c).
  let w = 0;
  let c = Math.log(pos / (n - pos));
  const loss = (w: number, c: number) => {
    let l = 0;
    for (let i = 0; i < n; i++) {
      const t = w * ((x[i] - mean) / sd) + c;
      // log(1 + exp(-s t)) with s = +-1, stable.
      const m = y[i] ? -t : t;
      l += m > 0 ? m + Math.log1p(Math.exp(-m)) : Math.log1p(Math.exp(m));
    }
    return l;
  };
  let current = loss(w, c);
  for (let iter = 0; iter < 100; iter++) {
    let gw = 0;
    let gc = 0;
    let hww = 0;
    let hwc = 0;
    let hcc = 0;
    for (let i = 0; i < n; i++) {
      const z = (x[i] - mean) / sd;
      const p = sigmoid(w * z + c);
      const r = p - (y[i] ? 1 : 0);
      gw += r * z;
      gc += r;
      const v = p * (1 - p);
      hww += v * z * z;
      hwc += v * z;
      hcc += v;
    }
    const det = hww * hcc - hwc * hwc;
    if (!(det > 1e-300)) break;
    let dw = (hcc * gw - hwc * gc) / det;
    let dc = (hww * gc - hwc * gw) / det;
    // Damped step: halve until the loss does not rise.
    let step = 1;
    let next = loss(w - dw, c - dc);
    while (next > current && step > 1e-6) {
      step /= 2;
      next = loss(w - step * dw, c - step * dc);
    }
    dw *= step;
    dc *= step;
    w -= dw;
    c -= dc;
    const gain = current - next;
    current = next;
    if (Math.abs(dw) < 1e-10 && Math.abs(dc) < 1e-10) break;
    if (gain >= 0 && gain < 1e-12) break;
  }
  return { a: w / sd, b: c - (w * mean) / sd };
}

/** ROC AUC of scores against labels (Mann-Whitney, ties counted half); NaN without both classes. */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<boolean>): number {
  const idx = [...Array(scores.length).keys()].sort((i, j) => scores[i] - scores[j]);
  let pos = 0;
  let neg = 0;
  let rankSum = 0;
  for (let k = 0; k < idx.length;) {
    let end = k;
    while (end + 1 < idx.length && scores[idx[end + 1]] === scores[idx[k]]) end++;
    const midRank = (k + end) / 2 + 1;
    for (let m = k; m <= end; m++) {
      if (labels[idx[m]]) {
        pos++;
        rankSum += midRank;
      } else neg++;
    }
    k = end + 1;
  }
  if (pos === 0 || neg === 0) return NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** Precision and recall of `predicted` against `labels` (NaN when undefined). */
export function precisionRecall(
  predicted: ArrayLike<boolean>,
  labels: ArrayLike<boolean>,
): { precision: number; recall: number } {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < labels.length; i++) {
    if (predicted[i] && labels[i]) tp++;
    else if (predicted[i]) fp++;
    else if (labels[i]) fn++;
  }
  return {
    precision: tp + fp > 0 ? tp / (tp + fp) : NaN,
    recall: tp + fn > 0 ? tp / (tp + fn) : NaN,
  };
}

/**
 * The probability threshold for "present" that maximises F-beta (beta 0.5: precision counts
 * twice) on the given windows; candidates are the windows' own probabilities. Ties: the higher
 * threshold (fewer claims).
 */
export function chooseThreshold(
  probabilities: ArrayLike<number>,
  labels: ArrayLike<boolean>,
  beta = 0.5,
): number {
  const idx = [...Array(probabilities.length).keys()].sort(
    (i, j) => probabilities[j] - probabilities[i],
  );
  const positives = idx.filter((i) => labels[i]).length;
  let tp = 0;
  let fp = 0;
  let best = -1;
  let threshold = 1;
  const b2 = beta * beta;
  for (let k = 0; k < idx.length; k++) {
    if (labels[idx[k]]) tp++;
    else fp++;
    // Only between distinct values: everything at or above probabilities[idx[k]] is "present".
    if (k + 1 < idx.length && probabilities[idx[k + 1]] === probabilities[idx[k]]) continue;
    const precision = tp / (tp + fp);
    const recall = positives > 0 ? tp / positives : 0;
    const f =
      precision + recall > 0 ? ((1 + b2) * precision * recall) / (b2 * precision + recall) : 0;
    if (f > best) {
      best = f;
      threshold = probabilities[idx[k]];
    }
  }
  return threshold;
}

export interface LabelledWindows {
  projections: ArrayLike<number>;
  labels: ArrayLike<boolean>;
  /** Piece of each window (counted, not used otherwise). */
  pieces: readonly string[];
}

/**
 * Fit the calibration on training windows and check it on held-out windows; undefined when the
 * training windows do not hold both labels (nothing to fit: the detector never, or always, fires).
 */
export function calibrate(
  detector: string,
  training: LabelledWindows,
  heldOut: LabelledWindows,
): Calibration | undefined {
  const platt = fitPlatt(training.projections, training.labels);
  if (!platt) return undefined;
  const probs = (w: LabelledWindows) => Array.from(w.projections, (x) => probability(platt, x));
  const threshold = chooseThreshold(probs(training), training.labels);
  const figures = (w: LabelledWindows): SideFigures => {
    const p = probs(w);
    const pr = precisionRecall(
      p.map((v) => v >= threshold),
      w.labels,
    );
    let positives = 0;
    for (let i = 0; i < w.labels.length; i++) if (w.labels[i]) positives++;
    return {
      windows: w.labels.length,
      pieces: new Set(w.pieces).size,
      positives,
      auc: rocAuc(w.projections, w.labels),
      ...pr,
    };
  };
  const train = figures(training);
  const held = figures(heldOut);
  const reasons: string[] = [];
  // A falling curve would call "present" the windows least along the concept's direction: the
  // direction itself then points away from the texture.
  if (!(platt.a > 0))
    reasons.push('the probability falls along the direction (the texture lies the other way)');
  if (!(held.auc >= LOCALISATION_CUT.auc))
    reasons.push(
      Number.isNaN(held.auc)
        ? 'the held-out windows do not hold both labels'
        : `held-out AUC ${held.auc.toFixed(2)} < ${LOCALISATION_CUT.auc}`,
    );
  if (!(held.precision >= LOCALISATION_CUT.precision))
    reasons.push(
      Number.isNaN(held.precision)
        ? 'it is never "present" on held-out windows'
        : `held-out precision at "present" ${held.precision.toFixed(2)} < ${LOCALISATION_CUT.precision}`,
    );
  return {
    detector,
    method: 'platt',
    platt,
    threshold,
    training: train,
    heldOut: held,
    localises: reasons.length === 0,
    ...(reasons.length ? { reason: reasons.join('; ') } : {}),
  };
}

/** A share as a page says it: "ranks above 87% of corpus windows". */
export function rankInWords(percentile: number): string {
  return `ranks above ${Math.round(percentile * 100)}% of corpus windows`;
}
