import type { HeadModel } from '../model/head.ts';
import { UserError } from '../util/errors.ts';
import { yieldToSignals } from '../util/interrupt.ts';
import { sha256 } from '../util/files.ts';
import type { Progress } from '../util/progress.ts';
import { Rng } from '../util/random.ts';
import { decision, fitCav, type CavMethod } from './cav.ts';
import { DerivativeTable } from './derivatives.ts';
import type { MeanGradients } from './effects.ts';
import { gram, takeRows } from './linalg.ts';
import { predictionTest, welchTTest, type TTest } from './stats.ts';

/**
 * TCAV at one layer (Kim et al. 2018), given activations already computed, with a null made of
 * many random concepts.
 *
 *  - `targets`: excerpts of each target composer, where directional derivatives are taken;
 *  - `pool`: random windows of the corpus. Counterexample sets and random concepts are drawn from it.
 *
 * A concept is tested in R runs. Without explicit counterexamples, run r trains a CAV of all the
 * concept's examples against a random counterexample set (`setSize` pool windows, drawn afresh per
 * run, none sharing content with the concept); with counterexamples (relativeTo, or explicit
 * ones), each run trains on 4/5 of each side. Each run's CAV is trained on 2/3 of its rows and its
 * balanced accuracy measured on the rest (see run.ts for the whole argument).
 *
 * The null is M random concepts of the SAME SIZE as the concept (size-matched), each tested
 * exactly like the concept: a random "concept" set drawn from the pool, then R runs against random
 * counterexample sets drawn afresh from the rest of the pool (for a relative concept: two disjoint
 * random sets of the two sides' sizes, subsampled per run the same way). The statistic is the same
 * on both sides: the effect, i.e. the mean directional derivative of the composer's logit along the
 * unit CAV, averaged over the composer's excerpts and over the R runs. The concept's effect is
 * tested against the M random concepts' effects (a prediction test, Student's t with M - 1 degrees
 * of freedom). Because the null varies which random set plays the concept, its spread includes the
 * variance of a concept of that size, which one random set could not supply; small concepts get a
 * wider null. Nulls depend only on the sizes, so they are computed once per size and layer.
 *
 * Randomness is keyed by content: the random stream of a concept is derived from the content ids of
 * its examples (sorted), never from its name, and the rows are ordered by content id, so an
 * identical copy under another name, or with its examples listed in another order, gives
 * identical numbers. A relative concept's stream is keyed by the unordered pair of its sides and its
 * CAVs are fitted in one canonical orientation, so A relativeTo B and B relativeTo A are one
 * experiment read in two directions: mirrored effects and the same p-value.
 *
 * Cost: every CAV is a combination of its training rows, so all derivatives come from one table of
 * derivatives along the pool's rows (and the concept's own rows), see derivatives.ts.
 */
export interface ActivationSet {
  acts: Float32Array;
  n: number;
}

/** Activations with one content id per row (a hash of the roll the model saw). */
export interface KeyedSet extends ActivationSet {
  ids: string[];
}

/**
 * The random pool: corpus windows, each with the piece it comes from when known. Random concepts
 * and counterexample sets are then drawn spread over pieces (distinct pieces, each equally likely,
 * then a random window of each), as the pool itself and the target excerpts are: how many windows
 * a piece has in the pool, which grows with the pool for long pieces, does not weigh it.
 */
export interface PoolSet extends KeyedSet {
  pieces?: string[];
}

/** A target composer: its name, logit and how many excerpts it has. */
export interface TargetInfo {
  name: string;
  /** Logit index of the composer in the model's output. */
  classIndex: number;
  n: number;
}

/** A target with its excerpts' activations (derivatives are taken from them in `prepare`). */
export interface TargetSet extends ActivationSet, TargetInfo {}

/**
 * A target whose excerpts' gradients were taken as their activations were read (exact heads:
 * src/tcav/run.ts), so that the activations are not kept: `digest` is their sha256 (the layer's
 * content key), `gradients` [n x size] the gradient of the composer's logit at each.
 */
export interface TargetGradients extends TargetInfo {
  gradients: Float32Array;
  digest: string;
}

export interface TcavLayerOptions {
  /** Runs (CAVs) per concept, and per random concept of the null. */
  runs: number;
  /** Windows per random counterexample set. */
  setSize: number;
  /** Random concepts in each size-matched null. */
  nullConcepts: number;
  seed: number | string;
  /** How CAVs are learnt (default logistic). */
  cav?: CavMethod;
  /** Inverse L2 strength of the logistic CAV (scikit-learn's C). */
  C?: number;
  /** Share of each side held out to measure CAV accuracy. */
  holdout?: number;
  /**
   * Mean gradient of each target's logit over many of its windows (effects.ts): effects are then
   * read from it (gbar . w), scores still from the target excerpts. Without it, effects are means
   * over the target excerpts.
   */
  meanGradients?: MeanGradients;
  /** Counterexample sets in the bank that every single concept's runs draw from (default 1024). */
  bankSize?: number;
  /** Random concepts whose first run also gives scores and a held-out accuracy (reference figures; default 200). */
  referenceConcepts?: number;
  /** Where nulls are kept between runs (content-keyed; null-cache.ts); absent: memory only. */
  nullStore?: NullStore;
  /** What else the null depends on that this layer cannot see (the model and the layer's name). */
  scope?: string;
  progress?: Progress;
}

/** A null's stored form: per target, the effects of its first `count` random concepts. */
export interface StoredNull {
  count: number;
  /** [target][concept]. */
  effects: Float64Array[];
  /** Reference figures of the first random concepts (first run): scores and accuracy. */
  positive: number[][];
  negative: number[][];
  accuracies: number[];
}

export interface NullStore {
  get(key: string): StoredNull | undefined;
  put(key: string, value: StoredNull): void;
}

/** Scores of one concept for one target over the runs. */
export interface TargetScores {
  target: string;
  /** Sign-count TCAV score per run: share of the target's excerpts with a positive derivative. */
  scores: number[];
  /** Magnitude TCAV score per run: positive derivative mass over total absolute mass. */
  magnitudes: number[];
  /** Mean directional derivative of the target's logit along the unit CAV, per run. */
  derivatives: number[];
}

/** The size-matched null of one concept, read in the concept's orientation. */
export interface NullSummary {
  /** Sizes the random concepts were drawn at: [examples] or [examples, counterexamples]. */
  sizes: number[];
  /** Number of random concepts. */
  concepts: number;
  /** Mean balanced CAV accuracy of the first (reference) random concepts' first runs. */
  accuracies: number[];
  /** How to ask for more of this null (TcavLayer.nullEffects), for sequential decisions. */
  key: { sizes: number[]; orientation: 1 | -1 };
}

export interface ConceptTest {
  /** Balanced held-out accuracy of each run's CAV (mean of the two sides' recalls). */
  accuracies: number[];
  /** Each run's CAV as a unit vector (a zero vector where the fit was degenerate). */
  directions: Float32Array[];
  /**
   * Per target: `effectTest` compares the concept's effect (mean derivative over the runs) with
   * the random concepts' effects; `test` is the classic Welch test of per-run sign-count scores
   * against random CAVs' scores (one per random concept), kept for reference only.
   */
  targets: (TargetScores & {
    test: TTest;
    effectTest: TTest;
    /** Each random concept's effect (its mean derivative over its runs). */
    nullEffects: number[];
    /** Sign-count score of the first CAV of each reference random concept. */
    nullScores: number[];
  })[];
  null: NullSummary;
}

interface Labeled {
  row: number;
  label: number;
}
interface RunPlan {
  train: Labeled[];
  test: Labeled[];
}

/** Rows of a test: local rows (the concept's own) first, then the pool. */
interface Bank {
  L: number;
  acts?: Float32Array;
  gram?: Float64Array;
  /** Inner products local x pool [L x N], when a plan mixes them. */
  cross?: Float64Array;
  /** Inner products of pool rows within each counterexample set used, when the pool Gram matrix is not computed. */
  poolPairs?: Map<number, number>;
  derivs?: Float64Array;
  /** Per local row and target: the sum of the target's excerpts' derivatives along the row [L x T]. */
  sums?: Float64Array;
}

interface RunResult {
  accuracy: number;
  usable: boolean;
  /** Per target: sign-count share of positive and of negative derivatives, positive mass share, mean. */
  positive: number[];
  negative: number[];
  magnitude: number[];
  mean: number[];
  direction?: Float32Array;
}

interface NullDistribution {
  sizes: number[];
  /** Random concepts computed so far (effects[t] holds at least this many values). */
  count: number;
  /** [target][concept]: effect; first-run share of positive and of negative derivatives (reference concepts). */
  effects: Float64Array[];
  positive: number[][];
  negative: number[][];
  accuracies: number[];
}

type Resolved = Required<
  Omit<TcavLayerOptions, 'progress' | 'meanGradients' | 'nullStore' | 'scope'>
> &
  Pick<TcavLayerOptions, 'progress' | 'meanGradients' | 'nullStore' | 'scope'>;

/**
 * The bank of counterexample sets: `bankSize` sets of `setSize` pool rows (spread over pieces),
 * drawn once per layer and seed. Every single concept, the user's and the null's random ones, draws
 * its runs' counterexample sets from it (distinct sets, none sharing a window with the concept),
 * so concept and null are still run alike; and a random concept's FastCAV run costs a handful of
 * lookups: with S the sum of a set's rows, |w|^2 needs S_P . S_N = sum over P of
 * dots[b][i] = x_i . S_N (precomputed), and S_N . S_N and the per-target sums of S_N are per set.
 */
interface CounterBank {
  sets: Int32Array[];
  /** [set x pool row]: x_i . S_set. */
  dots: Float64Array;
  /** S_set . S_set. */
  squared: Float64Array;
  /** [set x target]: sum of the set's rows' per-target effect terms (poolSums). */
  sums: Float64Array;
}

export class TcavLayer {
  private readonly nulls = new Map<string, { dist: NullDistribution; work: Promise<void> }>();
  private counterBank?: CounterBank;
  /** Content fingerprint of everything a null depends on besides its sizes (set by prepare). */
  private fingerprint = '';
  /** Work done so far, for benchmarks: CAV fits, random concepts, and where the time went (ms). */
  readonly cost = {
    cavFits: 0,
    randomConcepts: 0,
    nullMs: 0,
    conceptMs: 0,
    derivativeRows: 0,
    derivativeMs: 0,
  };
  /** Start of each target's excerpts in the stacked excerpt list. */
  private readonly offsets: number[];
  private readonly excerpts: number;

  private constructor(
    readonly head: HeadModel,
    readonly dim: number,
    readonly targets: TargetInfo[],
    readonly pool: KeyedSet,
    /** Pool rows by piece (absent: rows are drawn uniformly). */
    private readonly groups: number[][] | undefined,
    private readonly table: DerivativeTable,
    /** The pool's Gram matrix, computed only when a null must be (ensurePoolGram). */
    private poolGramValue: Float64Array | undefined,
    /** [pool row x excerpt]: derivative of each excerpt's own logit along each pool row. */
    private readonly poolDerivs: Float64Array,
    readonly options: Resolved,
  ) {
    this.offsets = [];
    let at = 0;
    for (const t of targets) {
      this.offsets.push(at);
      at += t.n;
    }
    this.excerpts = at;
  }

  /**
   * [pool row x target]: what a target's mean effect needs of each pool row: the sum of poolDerivs
   * over the target's excerpts, or with mean gradients gbar_t . row (then `divisor` is 1). Set by
   * `prepare`, the only way to build a TcavLayer.
   */
  private poolSums: Float64Array = new Float64Array(0);

  /** What a target's summed row derivatives are divided by to give a mean. */
  private divisor(ti: number): number {
    return this.options.meanGradients ? 1 : this.targets[ti].n;
  }

  /** Per-target effect terms of rows: see poolSums. */
  private async rowSums(rows: ActivationSet, derivs: Float64Array): Promise<Float64Array> {
    const g = this.options.meanGradients;
    if (!g) return this.targetSums(derivs, rows.n);
    return gram(rows.acts, rows.n, g.grads, this.targets.length, this.dim);
  }

  /** Sum a derivative table [rows x excerpts] over each target's excerpts: [rows x targets]. */
  private targetSums(derivs: Float64Array, rows: number): Float64Array {
    const T = this.targets.length;
    const E = this.excerpts;
    const out = new Float64Array(rows * T);
    for (let r = 0; r < rows; r++) {
      this.targets.forEach((t, ti) => {
        let sum = 0;
        const start = r * E + this.offsets[ti];
        for (let i = start; i < start + t.n; i++) sum += derivs[i];
        out[r * T + ti] = sum;
      });
    }
    return out;
  }

  static async prepare(
    head: HeadModel,
    targets: TargetSet[] | TargetGradients[],
    pool: PoolSet,
    options: TcavLayerOptions,
  ): Promise<TcavLayer> {
    const o: Resolved = {
      cav: 'logistic',
      C: 1,
      holdout: 1 / 3,
      bankSize: 1024,
      referenceConcepts: 200,
      ...options,
    };
    if (o.runs < 2) throw new UserError(`random runs: at least 2 are needed, got ${o.runs}`);
    if (o.nullConcepts < 3)
      throw new UserError(`null concepts: at least 3 are needed for a test, got ${o.nullConcepts}`);
    const dim = head.size;
    const unique = dedupe(pool, dim);
    o.progress?.start('pool: derivatives', 1);
    const started = performance.now();
    const table = await targetTable(head, targets, dim);
    const poolDerivs = await table.along(unique);
    o.progress?.tick();
    o.progress?.stop();
    const layer = new TcavLayer(
      head,
      dim,
      targets.map(({ name, classIndex, n }) => ({ name, classIndex, n })),
      unique,
      unique.pieces ? groupRows(unique.pieces) : undefined,
      table,
      undefined,
      poolDerivs,
      o,
    );
    if (o.meanGradients && o.meanGradients.grads.length !== targets.length * dim)
      throw new Error(
        `mean gradients: ${o.meanGradients.grads.length} values for ${targets.length} x ${dim}`,
      );
    layer.poolSums = await layer.rowSums(unique, poolDerivs);
    layer.fingerprint = sha256(
      JSON.stringify({
        scope: o.scope ?? '',
        seed: o.seed,
        runs: o.runs,
        setSize: o.setSize,
        holdout: o.holdout,
        cav: o.cav,
        C: o.C,
        bankSize: o.bankSize,
        referenceConcepts: o.referenceConcepts,
        dim,
        exact: table.exact,
        targets: targets.map((t) => [
          t.name,
          t.classIndex,
          t.n,
          'digest' in t ? t.digest : digest(t.acts, t.n * dim),
        ]),
        meanGradients: o.meanGradients ? digest(o.meanGradients.grads) : null,
        pool: unique.ids,
        pieces: unique.pieces ?? null,
      }),
    );
    layer.cost.derivativeRows += unique.n;
    layer.cost.derivativeMs += performance.now() - started;
    return layer;
  }

  /**
   * k distinct pool rows, none in `excluded`: spread over pieces when the pool knows its pieces
   * (drawSpread), else uniformly from `allowed` (which must already leave out `excluded`).
   */
  private drawRows(
    rng: Rng,
    k: number,
    allowed: readonly number[],
    excluded?: ReadonlySet<number>,
  ): number[] {
    return this.groups ? drawSpread(rng, this.groups, k, excluded) : draw(rng, allowed, k);
  }

  /**
   * The pool's Gram matrix (N x N inner products: most of a cold run's Gemm work), computed on the
   * first null that must be computed, not when every null a run needs is in the null store.
   */
  private async ensurePoolGram(): Promise<void> {
    if (this.poolGramValue) return;
    this.options.progress?.start('pool: inner products', 1);
    this.poolGramValue = await gram(
      this.pool.acts,
      this.pool.n,
      this.pool.acts,
      this.pool.n,
      this.dim,
    );
    this.options.progress?.tick();
    this.options.progress?.stop();
  }

  private get poolGram(): Float64Array {
    if (!this.poolGramValue) throw new Error('the pool Gram matrix is used before it is computed');
    return this.poolGramValue;
  }

  /** Whether derivatives are exact (gradients) or finite differences. */
  get exactDerivatives(): boolean {
    return this.table.exact;
  }

  /**
   * Test a concept: R CAVs (against random counterexample sets, or against `counter`), scores and
   * derivatives per target, and the test against the size-matched null.
   */
  async testConcept(
    conceptSet: KeyedSet,
    counterSet?: KeyedSet,
    nullConcepts: number = this.options.nullConcepts,
  ): Promise<ConceptTest> {
    const started = performance.now();
    const { runs, setSize, holdout } = this.options;
    const concept = sortById(conceptSet, this.dim);
    if (concept.n < 2) throw new Error(`a concept needs at least 2 examples, has ${concept.n}`);
    const key = contentKey(concept.ids);
    let bank: Bank;
    let plans: RunPlan[];
    let orientation: 1 | -1 = 1;
    let nullSizes: number[];
    if (!counterSet) {
      const exclude = new Set(concept.ids);
      const allowed = [...Array(this.pool.n).keys()].filter((i) => !exclude.has(this.pool.ids[i]));
      if (allowed.length < setSize)
        throw new UserError(
          `the random pool has ${allowed.length} windows besides the concept's; a counterexample set needs ${setSize} (lower --set-size)`,
        );
      const excluded = new Set(
        [...Array(this.pool.n).keys()].filter((i) => exclude.has(this.pool.ids[i])),
      );
      const rng = new Rng(`${this.options.seed}/concept/${key}`);
      const pick = this.bankPicker(excluded);
      plans = singlePlans(
        rng,
        range(concept.n),
        (r) => pick(r).rows.map((i) => concept.n + i),
        runs,
        holdout,
      );
      bank = await this.bank(concept, true);
      // Always from the sets' own Gram matrices, so that a concept's numbers do not depend on
      // whether its null came from the store (float32 Gemms blocked differently differ in the last bits).
      bank.poolPairs = await this.pairsWithin(plans, concept.n);
      nullSizes = [concept.n];
    } else {
      const counter = sortById(counterSet, this.dim);
      if (counter.n < 2)
        throw new Error(`counterexamples: at least 2 are needed, got ${counter.n}`);
      const counterKey = contentKey(counter.ids);
      if (counterKey === key)
        throw new UserError('a concept cannot be tested against identical counterexamples');
      // Canonical orientation: the side with the smaller content key is fitted as label 1.
      const conceptFirst = key < counterKey;
      const [first, second] = conceptFirst ? [concept, counter] : [counter, concept];
      orientation = conceptFirst ? 1 : -1;
      const local = concat(first, second, this.dim);
      const rng = new Rng(
        `${this.options.seed}/pair/${contentKey(first.ids)}/${contentKey(second.ids)}`,
      );
      plans = pairedPlans(
        rng,
        range(first.n),
        range(second.n).map((i) => first.n + i),
        runs,
        holdout,
      );
      bank = await this.bank(local, false);
      nullSizes = [first.n, second.n];
    }
    const results: RunResult[] = [];
    for (const p of plans) {
      results.push(this.run(bank, p, orientation, true));
      await yieldToSignals(); // a pending Ctrl-C acts between CAV fits
    }
    this.cost.conceptMs += performance.now() - started;
    const nul = await this.nullOf(nullSizes, nullConcepts);
    const M = nullConcepts;
    return {
      accuracies: results.map((r) => r.accuracy),
      directions: results.map((r) => r.direction!),
      targets: this.targets.map((t, ti) => {
        const derivatives = results.map((r) => r.mean[ti]);
        const scores = results.map((r) => (r.usable ? r.positive[ti] : 0.5));
        const nullEffects = Array.from(nul.effects[ti].subarray(0, M), (v) => orientation * v);
        const nullScores = (orientation === 1 ? nul.positive : nul.negative)[ti];
        const effect = derivatives.reduce((a, b) => a + b, 0) / derivatives.length;
        return {
          target: t.name,
          scores,
          magnitudes: results.map((r) => (r.usable ? r.magnitude[ti] : 0.5)),
          derivatives,
          test: welchTTest(scores, nullScores),
          effectTest: predictionTest(effect, nullEffects),
          nullEffects,
          nullScores,
        };
      }),
      null: {
        sizes: orientation === 1 ? nul.sizes : nul.sizes.slice().reverse(),
        concepts: M,
        accuracies: nul.accuracies,
        key: { sizes: nullSizes, orientation },
      },
    };
  }

  /**
   * Inner products among the pool rows of each plan (its counterexample set): a set's own small
   * Gram matrix, so that a concept whose null is already stored needs no pool Gram matrix.
   */
  private async pairsWithin(plans: RunPlan[], L: number): Promise<Map<number, number>> {
    const N = this.pool.n;
    const out = new Map<number, number>();
    for (const p of plans) {
      const rows = [...p.train, ...p.test].filter((e) => e.row >= L).map((e) => e.row - L);
      const g = await gram(
        takeRows(this.pool.acts, this.dim, rows),
        rows.length,
        takeRows(this.pool.acts, this.dim, rows),
        rows.length,
        this.dim,
      );
      rows.forEach((a, x) => rows.forEach((b, y) => out.set(a * N + b, g[x * rows.length + y])));
    }
    return out;
  }

  /** Inner products and derivative columns of a test's own rows. */
  private async bank(local: ActivationSet, withPool: boolean): Promise<Bank> {
    const L = local.n;
    const kLocal = await gram(local.acts, L, local.acts, L, this.dim);
    const cross = withPool
      ? await gram(local.acts, L, this.pool.acts, this.pool.n, this.dim)
      : undefined;
    const started = performance.now();
    const derivs = await this.table.along(local);
    this.cost.derivativeRows += L;
    this.cost.derivativeMs += performance.now() - started;
    return {
      L,
      acts: local.acts,
      gram: kLocal,
      cross,
      derivs,
      sums: await this.rowSums(local, derivs),
    };
  }

  /**
   * The null of random concepts of these sizes with at least `concepts` random concepts: computed
   * once per layer and extended on demand (sequential decisions ask for more where a cell is close
   * to its line). Random concept m draws from its own stream (seed, sizes, m), so the first M of a
   * null of 2M are the null of M: an extension only appends, and the null store keeps the longest.
   */
  private async nullOf(sizes: number[], concepts: number): Promise<NullDistribution> {
    const key = sizes.join('/');
    let entry = this.nulls.get(key);
    if (!entry) {
      const stored = this.options.nullStore?.get(this.nullKey(sizes));
      const T = this.targets.length;
      const dist: NullDistribution =
        stored && stored.effects.length === T
          ? { sizes, ...stored }
          : {
              sizes,
              count: 0,
              effects: this.targets.map(() => new Float64Array(0)),
              positive: this.targets.map(() => []),
              negative: this.targets.map(() => []),
              accuracies: [],
            };
      entry = { dist, work: Promise.resolve() };
      this.nulls.set(key, entry);
    }
    const e = entry;
    // Extensions of one null run one after another (several cells may ask at once).
    const next = e.work.then(async () => {
      if (e.dist.count >= concepts) return;
      await this.extendNull(e.dist, concepts);
      this.options.nullStore?.put(this.nullKey(sizes), {
        count: e.dist.count,
        effects: e.dist.effects,
        positive: e.dist.positive,
        negative: e.dist.negative,
        accuracies: e.dist.accuracies,
      });
    });
    e.work = next.catch(() => undefined);
    await next;
    return e.dist;
  }

  /** Key of a null in the null store: everything it depends on (see prepare) and its sizes. */
  private nullKey(sizes: number[]): string {
    return `${this.fingerprint}/${sizes.join('x')}`;
  }

  /**
   * The effects of a null's first `concepts` random concepts in one orientation, for one target:
   * extends the null when it has fewer (sequential decisions, run.ts).
   */
  async nullEffects(
    key: { sizes: number[]; orientation: 1 | -1 },
    target: number,
    concepts: number,
  ): Promise<Float64Array> {
    const dist = await this.nullOf(key.sizes, concepts);
    const out = dist.effects[target].slice(0, concepts);
    if (key.orientation === -1) for (let i = 0; i < out.length; i++) out[i] = -out[i];
    return out;
  }

  /** Append random concepts [dist.count, concepts) to a null. */
  private async extendNull(dist: NullDistribution, concepts: number): Promise<void> {
    const requested = dist.sizes;
    const started = performance.now();
    const { runs, setSize, holdout, referenceConcepts } = this.options;
    const N = this.pool.n;
    const need = requested.length === 1 ? requested[0] + setSize : requested[0] + requested[1];
    if (N < need || requested.some((s) => s < 2))
      throw new UserError(
        `the random pool holds ${N} windows; random concepts of ${requested.join(' + ')} examples${requested.length === 1 ? ` with counterexample sets of ${setSize}` : ''} need ${need} (use a larger corpus, or lower --set-size)`,
      );
    const T = this.targets.length;
    const from = dist.count;
    const effects = this.targets.map((_, t) => {
      const a = new Float64Array(concepts);
      a.set(dist.effects[t].subarray(0, from));
      return a;
    });
    const bank: Bank = { L: 0 };
    const all = range(N);
    const fast = this.options.cav === 'fast';
    await this.ensurePoolGram();
    const counterBank = requested.length === 1 ? this.bankOfSets() : undefined;
    for (let m = from; m < concepts; m++) {
      const rng = new Rng(`${this.options.seed}/null/${requested.join('x')}/${m}`);
      const reference = m < referenceConcepts;
      let plans: RunPlan[];
      if (requested.length === 1) {
        const chosen = this.drawRows(rng, requested[0], all);
        const pick = this.bankPicker(new Set(chosen));
        if (fast) {
          // Closed form over the bank (CounterBank); a reference concept's first run is also
          // fitted in full for its scores and accuracy (the same CAV, so the same effect).
          const picks: { rows: number[]; set: number }[] = [];
          for (let r = 0; r < runs; r++) picks.push(pick(rng));
          const mean = picks.every((p) => p.set >= 0)
            ? this.bankRuns(
                chosen,
                picks.map((p) => p.set),
                counterBank!,
              )
            : this.targets.map((_, t) => {
                const runsOf = picks.map((p) =>
                  this.fastNullRun({ train: labelled(chosen, p.rows), test: [] }),
                );
                return runsOf.reduce((a, r) => a + r.mean[t], 0) / runsOf.length;
              });
          for (let t = 0; t < T; t++) effects[t][m] = mean[t];
          if (reference) {
            const plan = stratifiedSplit(rng, chosen, picks[0].rows, holdout);
            this.recordReference(dist, this.run(bank, plan, 1, false, true, true));
          }
          if ((m & 63) === 63) await yieldToSignals(); // a pending Ctrl-C acts within a second
          continue;
        }
        plans = singlePlans(rng, chosen, (r) => pick(r).rows, runs, holdout);
      } else {
        const first = this.drawRows(rng, requested[0], all);
        const taken = new Set(first);
        const second = this.drawRows(
          rng,
          requested[1],
          this.groups ? all : all.filter((i) => !taken.has(i)),
          taken,
        );
        plans = pairedPlans(rng, first, second, runs, holdout);
      }
      // Only the first run of a reference concept keeps per-excerpt signs and an accuracy; the
      // other runs need just their mean effects.
      const results: RunResult[] = [];
      for (const [r, p] of plans.entries()) {
        const withReference = reference && r === 0;
        results.push(
          !withReference && fast
            ? this.fastNullRun(p)
            : this.run(bank, p, 1, false, withReference, withReference),
        );
        if (this.options.cav === 'logistic') await yieldToSignals();
      }
      for (let t = 0; t < T; t++)
        effects[t][m] = results.reduce((a, r) => a + r.mean[t], 0) / results.length;
      if (reference) this.recordReference(dist, results[0]);
      await yieldToSignals(); // a pending Ctrl-C acts between random concepts
    }
    dist.effects = effects;
    dist.count = concepts;
    this.cost.randomConcepts += concepts - from;
    this.cost.nullMs += performance.now() - started;
  }

  /** A reference random concept's first run: its sign-count shares and its held-out accuracy. */
  private recordReference(dist: NullDistribution, result: RunResult): void {
    this.targets.forEach((_, t) => {
      dist.positive[t].push(result.usable ? result.positive[t] : 0.5);
      dist.negative[t].push(result.usable ? result.negative[t] : 0.5);
    });
    dist.accuracies.push(result.accuracy);
  }

  private bankRows?: Int32Array[];

  /** The bank's sets (rows only: no Gram matrix needed), drawn once per layer and seed. */
  private bankSets(): Int32Array[] {
    if (this.bankRows) return this.bankRows;
    const all = range(this.pool.n);
    this.bankRows = range(this.options.bankSize).map((b) => {
      const rng = new Rng(`${this.options.seed}/bank/${b}`);
      return Int32Array.from(this.drawRows(rng, this.options.setSize, all)).sort();
    });
    return this.bankRows;
  }

  /** The bank of counterexample sets (CounterBank), built on first use from the pool's Gram matrix. */
  private bankOfSets(): CounterBank {
    if (this.counterBank) return this.counterBank;
    const { bankSize } = this.options;
    const N = this.pool.n;
    const T = this.targets.length;
    const K = this.poolGram;
    const sets = this.bankSets();
    const dots = new Float64Array(bankSize * N);
    const squared = new Float64Array(bankSize);
    const sums = new Float64Array(bankSize * T);
    for (let b = 0; b < bankSize; b++) {
      const rows = sets[b];
      const out = dots.subarray(b * N, (b + 1) * N);
      for (const j of rows) {
        const row = K.subarray(j * N, (j + 1) * N);
        for (let i = 0; i < N; i++) out[i] += row[i];
        for (let t = 0; t < T; t++) sums[b * T + t] += this.poolSums[j * T + t];
      }
      let sq = 0;
      for (const j of rows) sq += out[j];
      squared[b] = sq;
    }
    this.counterBank = { sets, dots, squared, sums };
    return this.counterBank;
  }

  /**
   * A picker of counterexample sets for one concept: distinct sets of the bank, none holding a row
   * in `excluded` (the concept's own windows). In a pool so small that the bank has too few such
   * sets (tests, tiny corpora), a set is drawn afresh from the rest of the pool instead (`set` -1);
   * concepts and random concepts pick the same way, so they are still run alike.
   */
  private bankPicker(excluded: ReadonlySet<number>): (rng: Rng) => { rows: number[]; set: number } {
    const sets = this.bankSets();
    const used = new Set<number>();
    let allowed: number[] | undefined;
    return (rng) => {
      const B = sets.length;
      for (let tries = 0; tries < 4 * B; tries++) {
        const b = Math.floor(rng.next() * B);
        if (used.has(b)) continue;
        const rows = sets[b];
        let clash = false;
        for (const r of rows)
          if (excluded.has(r)) {
            clash = true;
            break;
          }
        if (clash) continue;
        used.add(b);
        return { rows: Array.from(rows), set: b };
      }
      allowed ??= range(this.pool.n).filter((i) => !excluded.has(i));
      return { rows: this.drawRows(rng, this.options.setSize, allowed, excluded), set: -1 };
    };
  }

  /**
   * A random concept's FastCAV runs against bank sets, reduced to what the null keeps: its mean
   * effect per target over the runs, in closed form. With P the concept's rows, N a bank set,
   * n = |P| + |N|, w = c_p S_P + c_n S_N (c_p = 1/|P| - 1/n, c_n = -1/n), so
   * |w|^2 = c_p^2 S_P.S_P + 2 c_p c_n S_P.S_N + c_n^2 S_N.S_N and the mean derivative for a target
   * is (c_p sum_P + c_n sum_N) / (|w| n_t) over the rows' per-target sums (poolSums). The same
   * numbers as run() gives for those rows (test/tcav/null.test.ts).
   */
  private bankRuns(
    chosen: readonly number[],
    sets: readonly number[],
    bank: CounterBank,
  ): number[] {
    const N = this.pool.n;
    const K = this.poolGram;
    const T = this.targets.length;
    const rows = chosen.slice().sort((a, b) => a - b);
    let pp = 0;
    for (const i of rows) {
      const row = i * N;
      for (const j of rows) pp += K[row + j];
    }
    const sumsP = new Float64Array(T);
    for (const i of rows) for (let t = 0; t < T; t++) sumsP[t] += this.poolSums[i * T + t];
    const mean = new Array<number>(T).fill(0);
    let usable = 0;
    for (const b of sets) {
      const n = rows.length + bank.sets[b].length;
      const cpb = 1 / rows.length - 1 / n;
      const cn = -1 / n;
      const dots = bank.dots.subarray(b * N, (b + 1) * N);
      let pn = 0;
      for (const i of rows) pn += dots[i];
      const squared = cpb * cpb * pp + 2 * cpb * cn * pn + cn * cn * bank.squared[b];
      const norm = Math.sqrt(Math.max(0, squared));
      this.cost.cavFits++;
      usable++;
      if (!(norm > 0) || !Number.isFinite(norm)) continue; // a degenerate run: no effect
      for (let t = 0; t < T; t++)
        mean[t] += (cpb * sumsP[t] + cn * bank.sums[b * T + t]) / (norm * this.divisor(t));
    }
    return mean.map((v) => v / Math.max(1, usable));
  }

  /**
   * A random concept's FastCAV run reduced to what the null keeps, its mean effect per target,
   * in closed form over pool rows: with P the positive rows, N the negative ones, n = |P| + |N|,
   * w = c_p sum_P x + c_n sum_N x (c_p = 1/|P| - 1/n, c_n = -1/n), so
   * |w|^2 = c_p^2 K_PP + 2 c_p c_n K_PN + c_n^2 K_NN (block sums of the pool's Gram matrix) and
   * the mean derivative for a target is (c_p S_P + c_n S_N) / (|w| n_t), S the rows' per-target
   * derivative sums. The same numbers as run() gives, without allocating a Gram matrix per run.
   */
  private fastNullRun(plan: RunPlan): RunResult {
    const N = this.pool.n;
    const K = this.poolGram;
    const T = this.targets.length;
    const pos: number[] = [];
    const neg: number[] = [];
    for (const e of plan.train) (e.label === 1 ? pos : neg).push(e.row);
    for (const e of plan.test) (e.label === 1 ? pos : neg).push(e.row);
    const n = pos.length + neg.length;
    const result: RunResult = {
      accuracy: NaN,
      usable: false,
      positive: new Array<number>(T).fill(0.5),
      negative: new Array<number>(T).fill(0.5),
      magnitude: new Array<number>(T).fill(0.5),
      mean: new Array<number>(T).fill(0),
    };
    if (pos.length === 0 || neg.length === 0) return result;
    // Ascending indices walk the Gram matrix in memory order (it is large; the lookups dominate).
    pos.sort((a, b) => a - b);
    neg.sort((a, b) => a - b);
    const block = (a: number[], b: number[]) => {
      let sum = 0;
      for (const i of a) {
        const row = i * N;
        for (const j of b) sum += K[row + j];
      }
      return sum;
    };
    const cp = 1 / pos.length - 1 / n;
    const cn = -1 / n;
    const squared =
      cp * cp * block(pos, pos) + 2 * cp * cn * block(pos, neg) + cn * cn * block(neg, neg);
    const norm = Math.sqrt(Math.max(0, squared));
    if (!(norm > 0) || !Number.isFinite(norm)) return result;
    result.usable = true;
    const sums = new Float64Array(T);
    for (const [rows, c] of [
      [pos, cp],
      [neg, cn],
    ] as const) {
      for (const i of rows) for (let t = 0; t < T; t++) sums[t] += c * this.poolSums[i * T + t];
    }
    this.targets.forEach((_, ti) => (result.mean[ti] = sums[ti] / (norm * this.divisor(ti))));
    this.cost.cavFits++;
    return result;
  }

  /** Fit one run's CAV and read its accuracy and its derivatives at every target excerpt. */
  private run(
    bank: Bank,
    plan: RunPlan,
    orientation: 1 | -1,
    keepDirection: boolean,
    withAccuracy = true,
    perExcerpt = true,
  ): RunResult {
    const L = bank.L;
    const N = this.pool.n;
    const k = (i: number, j: number): number => {
      if (i < L && j < L) return bank.gram![i * L + j];
      if (i < L) return bank.cross![i * N + (j - L)];
      if (j < L) return bank.cross![j * N + (i - L)];
      if (bank.poolPairs) {
        const pair = bank.poolPairs.get((i - L) * N + (j - L));
        if (pair === undefined) throw new Error('a pool pair outside the run plans was asked for');
        return pair;
      }
      return this.poolGram[(i - L) * N + (j - L)];
    };
    const E = this.excerpts;
    const derivs = (i: number) =>
      i < L
        ? bank.derivs!.subarray(i * E, (i + 1) * E)
        : this.poolDerivs.subarray((i - L) * E, (i - L + 1) * E);
    const { train, test } = plan;
    const gramOf = (rows: readonly Labeled[]) => {
      const n = rows.length;
      const out = new Float64Array(n * n);
      for (let a = 0; a < n; a++)
        for (let b = a; b < n; b++) out[a * n + b] = out[b * n + a] = k(rows[a].row, rows[b].row);
      return out;
    };
    const fitOn = (rows: readonly Labeled[]) =>
      fitCav(
        this.options.cav,
        gramOf(rows),
        rows.length,
        rows.map((e) => e.label),
        this.options.C,
      );
    // Accuracy: a CAV fitted on the training part, read on the held-out part (random concepts:
    // first run only, their accuracy is a reference figure, not part of the test).
    let accuracy = NaN;
    if (withAccuracy) {
      const held = fitOn(train);
      this.cost.cavFits++;
      const cross = new Float64Array(test.length * train.length);
      test.forEach((e, a) =>
        train.forEach((f, b) => (cross[a * train.length + b] = k(e.row, f.row))),
      );
      accuracy = balancedAccuracy(test, decision(held, cross, test.length));
    }
    // Direction: the CAV fitted on all of the run's rows, so that runs differ only in their
    // counterexamples (or subsamples), not in which examples happened to be held out.
    const rows = [...train, ...test];
    const fit = fitOn(rows);
    this.cost.cavFits++;

    const T = this.targets.length;
    const usable = fit.norm > 0 && Number.isFinite(fit.norm);
    const result: RunResult = {
      accuracy,
      usable,
      positive: new Array<number>(T).fill(0.5),
      negative: new Array<number>(T).fill(0.5),
      magnitude: new Array<number>(T).fill(0.5),
      mean: new Array<number>(T).fill(0),
    };
    if (keepDirection) result.direction = new Float32Array(this.dim);
    if (!usable) return result; // a degenerate fit carries no concept: chance scores, no effect
    const scale = orientation / fit.norm;
    // Mean effects from the rows' per-target sums (the per-excerpt pass below gives the same
    // numbers over the target excerpts; with mean gradients, effects come only from here).
    const meanFromSums = () => {
      const sums = (i: number) =>
        i < L
          ? bank.sums!.subarray(i * T, (i + 1) * T)
          : this.poolSums.subarray((i - L) * T, (i - L + 1) * T);
      const mean = new Array<number>(T).fill(0);
      rows.forEach((e, a) => {
        const w = fit.alpha[a] * scale;
        if (w === 0) return;
        const row = sums(e.row);
        for (let t = 0; t < T; t++) mean[t] += w * row[t];
      });
      return mean.map((v, ti) => v / this.divisor(ti));
    };
    if (!perExcerpt) {
      result.mean = meanFromSums();
      return result;
    }
    const d = new Float64Array(E);
    rows.forEach((e, a) => {
      const w = fit.alpha[a] * scale;
      if (w === 0) return;
      const column = derivs(e.row);
      for (let i = 0; i < E; i++) d[i] += w * column[i];
    });
    this.targets.forEach((t, ti) => {
      const start = this.offsets[ti];
      let positive = 0;
      let negative = 0;
      let posMass = 0;
      let mass = 0;
      let sum = 0;
      for (let i = start; i < start + t.n; i++) {
        const s = d[i];
        if (s > 0) {
          positive++;
          posMass += s;
        } else if (s < 0) negative++;
        mass += Math.abs(s);
        sum += s;
      }
      result.positive[ti] = positive / t.n;
      result.negative[ti] = negative / t.n;
      result.magnitude[ti] = mass > 0 ? posMass / mass : 0.5;
      result.mean[ti] = sum / t.n;
    });
    if (this.options.meanGradients) result.mean = meanFromSums();
    if (keepDirection) {
      const w = new Float64Array(this.dim);
      rows.forEach((e, a) => {
        const alpha = fit.alpha[a] * scale;
        if (alpha === 0) return;
        const row =
          e.row < L
            ? bank.acts!.subarray(e.row * this.dim, (e.row + 1) * this.dim)
            : this.pool.acts.subarray((e.row - L) * this.dim, (e.row - L + 1) * this.dim);
        for (let x = 0; x < this.dim; x++) w[x] += alpha * row[x];
      });
      result.direction = Float32Array.from(w);
    }
    return result;
  }
}

/** A content key of a set of rows: independent of names and of the order of the rows. */
export function contentKey(ids: readonly string[]): string {
  return sha256(ids.slice().sort().join('\n')).slice(0, 16);
}

/**
 * Runs of a concept (or random concept) against random counterexample sets: all `positives` in
 * every run, `setSize` of `allowed` drawn afresh per run, then a stratified holdout.
 */
function singlePlans(
  rng: Rng,
  positives: number[],
  negativesOf: (rng: Rng) => number[],
  runs: number,
  holdout: number,
): RunPlan[] {
  const plans: RunPlan[] = [];
  for (let r = 0; r < runs; r++) {
    const negatives = negativesOf(rng);
    plans.push(stratifiedSplit(rng, positives, negatives, holdout));
  }
  return plans;
}

/** Runs of a concept against explicit counterexamples: 4/5 of each side per run, then a holdout. */
function pairedPlans(
  rng: Rng,
  first: number[],
  second: number[],
  runs: number,
  holdout: number,
): RunPlan[] {
  const plans: RunPlan[] = [];
  const part = (n: number) => Math.max(2, Math.round(0.8 * n));
  for (let r = 0; r < runs; r++) {
    const a = draw(rng, first, part(first.length));
    const b = draw(rng, second, part(second.length));
    plans.push(stratifiedSplit(rng, a, b, holdout));
  }
  return plans;
}

/**
 * k distinct items of `items`, in random order: a partial Fisher-Yates shuffle (k swaps), since
 * a random concept's runs draw small sets from a pool of a thousand windows many times over.
 */
function draw(rng: Rng, items: readonly number[], k: number): number[] {
  const a = items.slice();
  const n = Math.min(k, a.length);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(rng.next() * (a.length - i));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a.slice(0, n);
}

/**
 * k distinct rows spread over groups (pieces), as CorpusIndex.sample spreads windows: groups in
 * random order, one random row of each, round after round, so every group is equally likely
 * whatever its size. Rows in `excluded` are never drawn; a group with none left is passed over.
 */
export function drawSpread(
  rng: Rng,
  groups: readonly (readonly number[])[],
  k: number,
  excluded?: ReadonlySet<number>,
): number[] {
  const out: number[] = [];
  const taken = new Set<number>();
  const order = range(groups.length);
  while (out.length < k) {
    let found = false;
    for (let i = 0; i < order.length && out.length < k; i++) {
      const j = i + Math.floor(rng.next() * (order.length - i));
      [order[i], order[j]] = [order[j], order[i]];
      const row = pickRow(rng, groups[order[i]], excluded, taken);
      if (row !== undefined) {
        out.push(row);
        taken.add(row);
        found = true;
      }
    }
    if (!found) break; // every row of every group is excluded or taken
  }
  return out;
}

/** A random row of a group that is neither excluded nor taken (undefined when none is left). */
function pickRow(
  rng: Rng,
  group: readonly number[],
  excluded: ReadonlySet<number> | undefined,
  taken: ReadonlySet<number>,
): number | undefined {
  const free = (row: number) => !taken.has(row) && !excluded?.has(row);
  for (let tries = 0; tries < 4; tries++) {
    const row = group[Math.floor(rng.next() * group.length)];
    if (free(row)) return row;
  }
  const rest = group.filter(free);
  return rest.length ? rest[Math.floor(rng.next() * rest.length)] : undefined;
}

/** Row indices grouped by label, groups in order of first appearance. */
function groupRows(labels: readonly string[]): number[][] {
  const byLabel = new Map<string, number[]>();
  labels.forEach((l, i) => {
    if (!byLabel.has(l)) byLabel.set(l, []);
    byLabel.get(l)!.push(i);
  });
  return [...byLabel.values()];
}

function stratifiedSplit(rng: Rng, pos: number[], neg: number[], holdout: number): RunPlan {
  const train: Labeled[] = [];
  const test: Labeled[] = [];
  for (const [rows, label] of [
    [pos, 1],
    [neg, 0],
  ] as const) {
    const shuffled = rng.shuffle(rows);
    const nTest = rows.length >= 3 ? Math.max(1, Math.round(holdout * rows.length)) : 0;
    shuffled.forEach((row, i) => (i < nTest ? test : train).push({ row, label }));
  }
  return { train, test };
}

/** Mean of the recalls of the two sides: 0.5 for a classifier that always answers one side. */
export function balancedAccuracy(test: readonly Labeled[], values: ArrayLike<number>): number {
  const hits = [0, 0];
  const counts = [0, 0];
  test.forEach((e, i) => {
    counts[e.label]++;
    if ((values[i] > 0 ? 1 : 0) === e.label) hits[e.label]++;
  });
  const recalls = [0, 1].filter((c) => counts[c] > 0).map((c) => hits[c] / counts[c]);
  return recalls.length ? meanOf(recalls) : NaN;
}

function meanOf(xs: readonly number[]): number {
  const finite = xs.filter((x) => Number.isFinite(x));
  return finite.length ? finite.reduce((a, b) => a + b, 0) / finite.length : NaN;
}

function range(n: number): number[] {
  return [...Array(n).keys()];
}

/** Rows ordered by content id (ties keep their order). */
function sortById(set: KeyedSet, dim: number): KeyedSet {
  if (set.ids.length !== set.n) throw new Error(`${set.ids.length} ids for ${set.n} rows`);
  const order = range(set.n).sort((a, b) =>
    set.ids[a] < set.ids[b] ? -1 : set.ids[a] > set.ids[b] ? 1 : a - b,
  );
  const acts = new Float32Array(set.n * dim);
  order.forEach((r, i) => acts.set(set.acts.subarray(r * dim, (r + 1) * dim), i * dim));
  return { acts, n: set.n, ids: order.map((r) => set.ids[r]) };
}

/** The derivative table of the targets' excerpts: from their gradients, or from stacked activations. */
async function targetTable(
  head: HeadModel,
  targets: TargetSet[] | TargetGradients[],
  dim: number,
): Promise<DerivativeTable> {
  if (targets.length > 0 && targets.every((t) => 'gradients' in t)) {
    if (head.derivatives !== 'exact') throw new Error('target gradients for a head without them');
    return DerivativeTable.fromGradients(
      head,
      (targets as TargetGradients[]).map((t) => ({
        gradients: t.gradients,
        n: t.n,
        classes: Array<number>(t.n).fill(t.classIndex),
      })),
    );
  }
  const sets = targets as TargetSet[];
  const total = sets.reduce((a, t) => a + t.n, 0);
  const acts = new Float32Array(total * dim);
  const classes: number[] = [];
  let at = 0;
  for (const t of sets) {
    acts.set(t.acts.subarray(0, t.n * dim), at * dim);
    for (let i = 0; i < t.n; i++) classes.push(t.classIndex);
    at += t.n;
  }
  return DerivativeTable.create(head, { acts, n: total, classes });
}

/** The pool without repeated content (a window sampled twice would sit on both sides of a CAV). */
function dedupe(pool: PoolSet, dim: number): PoolSet {
  const seen = new Set<string>();
  const keep: number[] = [];
  pool.ids.forEach((id, i) => {
    if (i < pool.n && !seen.has(id)) {
      seen.add(id);
      keep.push(i);
    }
  });
  if (keep.length === pool.n) return pool;
  const acts = new Float32Array(keep.length * dim);
  keep.forEach((r, i) => acts.set(pool.acts.subarray(r * dim, (r + 1) * dim), i * dim));
  return {
    acts,
    n: keep.length,
    ids: keep.map((r) => pool.ids[r]),
    ...(pool.pieces ? { pieces: keep.map((r) => pool.pieces![r]) } : {}),
  };
}

function concat(a: KeyedSet, b: KeyedSet, dim: number): KeyedSet {
  const acts = new Float32Array((a.n + b.n) * dim);
  acts.set(a.acts.subarray(0, a.n * dim));
  acts.set(b.acts.subarray(0, b.n * dim), a.n * dim);
  return { acts, n: a.n + b.n, ids: [...a.ids, ...b.ids] };
}

/** sha256 of a float array's bytes (content keys of nulls). */
export function digest(values: Float32Array, count = values.length): string {
  return sha256(Buffer.from(values.buffer, values.byteOffset, count * 4));
}

/** Positive rows labelled 1, negative rows 0. */
function labelled(pos: readonly number[], neg: readonly number[]): Labeled[] {
  return [...pos.map((row) => ({ row, label: 1 })), ...neg.map((row) => ({ row, label: 0 }))];
}
