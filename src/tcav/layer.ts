import type { HeadModel } from '../model/head.ts';
import { yieldToSignals } from '../util/interrupt.ts';
import { Rng } from '../util/random.ts';
import { decision, fitLogistic } from './cav.ts';
import { gram } from './linalg.ts';
import { meanStd, predictionTest, welchTTest, type TTest } from './stats.ts';

/**
 * TCAV at one layer (Kim et al. 2018), given activations already computed:
 *  - `targets`: excerpts of each target composer, where directional derivatives are taken;
 *  - `random`: runs + 1 random counterexample sets of the corpus, each `setSize` excerpts.
 * Run j (1..runs) trains a concept's CAV against random set j; the null distribution is the
 * random-vs-random CAVs (set 0 against set j), so concept and null differ only in the concept.
 * Each CAV is trained on 2/3 of its examples and its accuracy measured on the other third.
 */
export interface ActivationSet {
  acts: Float32Array;
  n: number;
}

export interface TargetSet extends ActivationSet {
  name: string;
  /** Logit index of the composer in the model's output. */
  classIndex: number;
}

export interface TcavLayerOptions {
  runs: number;
  setSize: number;
  seed: number | string;
  /** Inverse L2 strength of the CAV classifier (scikit-learn's C). */
  C?: number;
  /** Share of examples held out to measure CAV accuracy. */
  holdout?: number;
}

/** Scores of one concept (or the random baseline) for one target over the runs. */
export interface TargetScores {
  target: string;
  /** Sign-count TCAV score per run: share of the target's excerpts with a positive derivative. */
  scores: number[];
  /** Magnitude TCAV score per run: positive derivative mass over total absolute mass. */
  magnitudes: number[];
  /** Mean directional derivative of the target's logit along the unit CAV, per run. */
  derivatives: number[];
}

export interface ConceptTest {
  /** Held-out accuracy of each run's CAV. */
  accuracies: number[];
  /** Each run's CAV as a unit vector (a zero vector where the fit was degenerate). */
  directions: Float32Array[];
  /**
   * Per target: `effectTest` compares the concept's effect (its mean directional derivative over
   * the runs) with the distribution of random CAVs' effects; `test` is the classic comparison of
   * per-run sign-count scores (Welch), kept for reference (see run.ts for why it does not decide).
   */
  targets: (TargetScores & { test: TTest; effectTest: TTest })[];
}

export class TcavLayer {
  /** Random-vs-random baseline per target. */
  baseline: TargetScores[] = [];
  private randomGram!: Float64Array;
  private readonly allTargets: ActivationSet;

  private constructor(
    readonly head: HeadModel,
    readonly dim: number,
    readonly targets: TargetSet[],
    readonly random: ActivationSet,
    readonly options: Required<TcavLayerOptions>,
  ) {
    const total = targets.reduce((a, t) => a + t.n, 0);
    const acts = new Float32Array(total * dim);
    let at = 0;
    for (const t of targets) {
      acts.set(t.acts, at * dim);
      at += t.n;
    }
    this.allTargets = { acts, n: total };
  }

  static async prepare(
    head: HeadModel,
    targets: TargetSet[],
    random: ActivationSet,
    options: TcavLayerOptions,
  ): Promise<TcavLayer> {
    const dim = head.size;
    const o = { C: 1, holdout: 1 / 3, ...options };
    if (random.n < (o.runs + 1) * o.setSize) {
      throw new Error(
        `TcavLayer: ${random.n} random excerpts, need ${(o.runs + 1) * o.setSize} (${o.runs + 1} sets of ${o.setSize})`,
      );
    }
    const layer = new TcavLayer(head, dim, targets, random, o);
    layer.randomGram = await gram(random.acts, random.n, random.acts, random.n, dim);
    // The null: random set 0 plays the concept.
    const set0 = [...Array(o.setSize).keys()];
    const runs = await layer.runs(`random`, { acts: new Float32Array(0), n: 0 }, undefined, set0);
    layer.baseline = await layer.score(runs.directions);
    return layer;
  }

  /** Test a concept: CAVs against each random set (or against explicit counterexamples), scores, and t-tests. */
  async testConcept(
    name: string,
    concept: ActivationSet,
    counter?: ActivationSet,
  ): Promise<ConceptTest> {
    if (concept.n < 2)
      throw new Error(`concept ${name}: needs at least 2 examples, has ${concept.n}`);
    const local = counter ? concatSets(concept, counter, this.dim) : concept;
    const kLocal = await gram(local.acts, local.n, local.acts, local.n, this.dim);
    const kCross = await gram(local.acts, local.n, this.random.acts, this.random.n, this.dim);
    const runs = await this.runs(name, local, {
      kLocal,
      kCross,
      concept: concept.n,
      counter: counter?.n ?? 0,
    });
    const scores = await this.score(runs.directions);
    return {
      accuracies: runs.accuracies,
      directions: runs.directions.map(unit),
      targets: scores.map((s, i) => ({
        ...s,
        test: welchTTest(s.scores, this.baseline[i].scores),
        effectTest: predictionTest(meanStd(s.derivatives).mean, this.baseline[i].derivatives),
      })),
    };
  }

  /**
   * Train `runs` CAVs. Rows are indexed in one space: local rows (concept, then counterexamples)
   * first, then the random pool. With counterexamples, each run draws 4/5 of each side (a
   * different subsample per run) instead of a random set.
   */
  private async runs(
    name: string,
    local: ActivationSet,
    blocks:
      { kLocal: Float64Array; kCross: Float64Array; concept: number; counter: number } | undefined,
    randomPositives?: number[],
  ): Promise<{ directions: Float32Array[]; accuracies: number[] }> {
    const { runs, setSize } = this.options;
    const L = local.n;
    const N = this.random.n;
    const k = (i: number, j: number): number => {
      if (i < L && j < L) return blocks!.kLocal[i * L + j];
      if (i < L) return blocks!.kCross[i * N + (j - L)];
      if (j < L) return blocks!.kCross[j * N + (i - L)];
      return this.randomGram[(i - L) * N + (j - L)];
    };
    const row = (i: number) =>
      i < L
        ? local.acts.subarray(i * this.dim, (i + 1) * this.dim)
        : this.random.acts.subarray((i - L) * this.dim, (i - L + 1) * this.dim);
    const rng = new Rng(`${this.options.seed}/cav/${name}`);
    const directions: Float32Array[] = [];
    const accuracies: number[] = [];
    for (let run = 1; run <= runs; run++) {
      let pos: number[];
      let neg: number[];
      if (randomPositives) {
        pos = randomPositives.map((i) => L + i);
        neg = [...Array(setSize).keys()].map((i) => L + run * setSize + i);
      } else if (blocks!.counter > 0) {
        pos = rng.sample(
          [...Array(blocks!.concept).keys()],
          Math.max(2, Math.round(0.8 * blocks!.concept)),
        );
        neg = rng.sample(
          [...Array(blocks!.counter).keys()].map((i) => blocks!.concept + i),
          Math.max(2, Math.round(0.8 * blocks!.counter)),
        );
      } else {
        pos = [...Array(blocks!.concept).keys()];
        neg = [...Array(setSize).keys()].map((i) => L + run * setSize + i);
      }
      const { train, test } = stratifiedSplit(rng, pos, neg, this.options.holdout);
      const n = train.length;
      const kTrain = new Float64Array(n * n);
      for (let a = 0; a < n; a++)
        for (let b = 0; b < n; b++) kTrain[a * n + b] = k(train[a].row, train[b].row);
      const fit = fitLogistic(
        kTrain,
        n,
        train.map((e) => e.label),
        this.options.C,
      );
      const cross = new Float64Array(test.length * n);
      test.forEach((e, a) => train.forEach((f, b) => (cross[a * n + b] = k(e.row, f.row))));
      const values = decision(fit, cross, test.length);
      accuracies.push(
        test.filter((e, a) => (values[a] > 0 ? 1 : 0) === e.label).length /
          Math.max(1, test.length),
      );
      const w = new Float64Array(this.dim);
      train.forEach((e, a) => {
        const r = row(e.row);
        const alpha = fit.alpha[a];
        if (alpha !== 0) for (let d = 0; d < this.dim; d++) w[d] += alpha * r[d];
      });
      directions.push(Float32Array.from(w));
      await yieldToSignals(); // a pending Ctrl-C acts between CAV fits
    }
    return { directions, accuracies };
  }

  /** Sign-count and magnitude scores of each direction for each target. */
  private async score(directions: Float32Array[]): Promise<TargetScores[]> {
    const usable = directions.map((d) => d.some((v) => v !== 0));
    const dirs = directions.map((d, i) => (usable[i] ? d : unitVector(this.dim)));
    const R = dirs.length;
    // Each excerpt's derivative of its own composer's logit: [excerpt x direction].
    const derivs = await this.head.rowDerivatives(
      this.allTargets.acts,
      this.allTargets.n,
      dirs,
      this.targets.flatMap((t) => Array<number>(t.n).fill(t.classIndex)),
    );
    const out: TargetScores[] = [];
    let first = 0;
    this.targets.forEach((target) => {
      const scores: number[] = [];
      const magnitudes: number[] = [];
      const derivatives: number[] = [];
      for (let r = 0; r < R; r++) {
        let positive = 0;
        let posMass = 0;
        let mass = 0;
        let sum = 0;
        for (let i = first; i < first + target.n; i++) {
          const s = derivs[i * R + r];
          if (s > 0) {
            positive++;
            posMass += s;
          }
          mass += Math.abs(s);
          sum += s;
        }
        // A zero CAV (degenerate fit) carries no concept: score it as chance.
        scores.push(usable[r] ? positive / target.n : 0.5);
        magnitudes.push(usable[r] && mass > 0 ? posMass / mass : 0.5);
        derivatives.push(usable[r] ? sum / target.n : 0);
      }
      first += target.n;
      out.push({ target: target.name, scores, magnitudes, derivatives });
    });
    return out;
  }
}

function concatSets(a: ActivationSet, b: ActivationSet, dim: number): ActivationSet {
  const acts = new Float32Array((a.n + b.n) * dim);
  acts.set(a.acts.subarray(0, a.n * dim));
  acts.set(b.acts.subarray(0, b.n * dim), a.n * dim);
  return { acts, n: a.n + b.n };
}

function stratifiedSplit(rng: Rng, pos: number[], neg: number[], holdout: number) {
  const train: { row: number; label: number }[] = [];
  const test: { row: number; label: number }[] = [];
  for (const [rows, label] of [
    [pos, 1],
    [neg, 0],
  ] as const) {
    const shuffled = rng.shuffle(rows.slice());
    const nTest = rows.length >= 3 ? Math.max(1, Math.round(holdout * rows.length)) : 0;
    shuffled.forEach((row, i) => (i < nTest ? test : train).push({ row, label }));
  }
  return { train, test };
}

function unit(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const norm = Math.sqrt(s);
  return norm > 0 ? v.map((x) => x / norm) : v.slice();
}

function unitVector(dim: number): Float32Array {
  const v = new Float32Array(dim);
  v[0] = 1;
  return v;
}
