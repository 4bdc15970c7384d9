import type { ConceptFile } from '../concepts/load.ts';
import type { Excerpt } from '../corpus/types.ts';
import { resolveExamples } from '../concepts/examples.ts';
import type { ConceptLens, LensItem } from '../lens/lens.ts';
import type { TcavEntry } from '../results/results.ts';
import { UserError } from '../util/errors.ts';
import { yieldToSignals } from '../util/interrupt.ts';
import type { CavMethod } from './cav.ts';
import { meanGradients, type MeanGradients } from './effects.ts';
import { classify, pInterval, schedule, type Outcome, type PInterval } from './decide.ts';
import {
  digest,
  TcavLayer,
  type KeyedSet,
  type NullSummary,
  type TargetGradients,
  type TargetSet,
} from './layer.ts';
import { boundedPoolSize, boundedTargetExcerpts } from './memory.ts';
import { nullStore } from './null-cache.ts';
import { holm, meanStd } from './stats.ts';

/**
 * A TCAV run over concepts x layers x target composers: activations through the lens (cached),
 * one TcavLayer per layer, a test per cell against a null of size-matched random concepts, and
 * Holm's correction over every cell of the run.
 *
 * Which statistic. The classic TCAV test (Welch's t-test of the concept's per-run sign-count
 * scores against random CAVs' scores) is reported as `pValueScores`, but it does not decide: near
 * the top of a CNN the sign of a logit's derivative along a direction is almost the same for every
 * excerpt of a composer, so sign-count scores are nearly 0 or 1 for any fixed direction, random
 * ones included. A concept's 20 runs then give 20 copies of one number and the Welch test calls
 * every stable direction significant (pseudo-replication: the runs re-estimate one concept, they
 * are not 20 concepts). Measured on the synthetic model, this flagged textures no composer uses for
 * most composers. The deciding statistic is the concept's effect: its mean directional derivative,
 * over the composer's excerpts and over the R runs. The sign-count score stays the readable summary
 * of direction ("share of the composer's excerpts the concept pushes up").
 *
 * Which null. The effect is compared with the same statistic computed for M random concepts of the
 * same size as the concept, each run exactly like the concept (R runs against fresh random
 * counterexample sets) and so also averaged over R runs: like is compared with like (layer.ts). The
 * earlier null, random set 0 playing the concept against R other sets, compared the concept's mean
 * over R runs with single runs of ONE random concept: its centre was that one set's quirks (it moved
 * between seeds while the concept's effect did not) and its spread lacked the variance that comes
 * from which random set plays the concept, the larger part for small concepts (docs/method.md, "What the
 * numbers mean", has the measurements). The test is Student's t prediction test of the concept's
 * effect against the M random effects (df = M - 1), two-sided. A permutation p-value (the rank of
 * the concept among the random concepts) would need no normality, but it cannot go below 1/(M+1):
 * with Holm over the 64 cells of a run the smallest cell needs p < 0.05/64, i.e. M > 1280 random
 * concepts. The t form reaches it with M = 50 when the random effects are close to normal, which
 * the calibration benchmark checks (bench/calibration.ts: the rate of p < 0.05 on random concepts).
 */
export interface TcavOptions {
  layers: string[];
  targets: string[];
  /** Runs (CAVs) per concept and per random concept: each against a fresh counterexample set (default 50). */
  runs?: number;
  /** Excerpts per random counterexample set (default 30). */
  setSize?: number;
  /** Excerpts of each target composer where scores (per-excerpt signs) are read (default 100). */
  targetExcerpts?: number;
  /**
   * Windows of each target composer whose mean gradient gives the effects (default 10,000: every
   * window of most corpora; 0 reads effects on the target excerpts). Needs exact gradients.
   */
  effectWindows?: number;
  /**
   * Budget of random concepts per size-matched null (default: defaultNullConcepts(cav)): a null
   * starts at `nullStart` and is doubled, up to this, only while a cell that uses it is undecided.
   */
  nullConcepts?: number;
  /** Random concepts in a null's first batch (default: defaultNullStart(cav)). */
  nullStart?: number;
  /** Bound on the probability that more random concepts would reverse a decided cell (default 0.001; decide.ts). */
  resamplingRisk?: number;
  /** Random corpus windows that counterexample sets and random concepts are drawn from (default 5000). */
  poolSize?: number;
  /** How CAVs are learnt: FastCAV (default) or logistic regression. */
  cav?: CavMethod;
  seed: number;
  alpha?: number;
  /** Below this mean balanced held-out accuracy a CAV is flagged as unreliable (default 0.7). */
  minCavAccuracy?: number;
  /** Called with each concept's CAVs at each layer (concept banks keep them). */
  onCavs?: (cavs: ConceptCavs) => void;
  /** Called when a layer is done, with its TcavLayer (benchmarks read its `cost`). */
  onLayer?: (layer: string, tcav: TcavLayer) => void;
}

/** The CAVs TCAV trained for one concept at one layer. */
export interface ConceptCavs {
  concept: string;
  layer: string;
  /** Layer shape of one item (the CAVs' shape). */
  shape: number[];
  /** One unit CAV per run. */
  directions: Float32Array[];
  /** Balanced held-out accuracy per run. */
  accuracies: number[];
}

export const TCAV_DEFAULTS = {
  runs: 50,
  setSize: 30,
  targetExcerpts: 100,
  effectWindows: 10_000,
  poolSize: 5000,
  cav: 'fast' as CavMethod,
  alpha: 0.05,
  minCavAccuracy: 0.7,
  resamplingRisk: 0.001,
};

/**
 * Random concepts per null when not given: a FastCAV random concept costs tens of microseconds per
 * run, so 3000 keep the null's own estimation noise at about 1.3% of its spread (with 1000, the
 * null's draw alone moved a borderline cell's z by about 0.07 between seeds on ASAP; docs/method.md, "What
 * the numbers mean"); a logistic one costs a fit per run (about 1 ms), so 200.
 */
export function defaultNullConcepts(cav: CavMethod): number {
  return cav === 'fast' ? 32_000 : 200;
}

/**
 * First batch of a null: enough for the large-sample intervals of decide.ts (FastCAV random
 * concepts cost microseconds over the bank of counterexample sets, layer.ts), or the logistic
 * budget's quarter.
 */
export function defaultNullStart(cav: CavMethod): number {
  return cav === 'fast' ? 1000 : 50;
}

/** k-means discovery's clusters are tested against nulls of random parts; 1000 FastCAV concepts (200 logistic) each. */
export function discoveryNullConcepts(cav: CavMethod): number {
  return cav === 'fast' ? 1000 : 200;
}

/** A concept ready for TCAV: its examples (and counterexamples, when explicit) as model inputs. */
export interface PreparedConcept {
  name: string;
  description?: string;
  examples: LensItem[];
  counterexamples?: LensItem[];
  /** The concept whose examples are the counterexamples, for relative concepts. */
  relativeTo?: string;
}

/** Resolve concept files into model-sized examples; relativeTo concepts use the other's examples as counterexamples. */
export async function prepareConcepts(
  lens: ConceptLens,
  files: ConceptFile[],
  options: { corpusRoot?: string; sustain?: boolean } = {},
): Promise<PreparedConcept[]> {
  const ctx = {
    windowSeconds: lens.classifier.input.windowFrames / lens.classifier.input.fps,
    corpusRoot: options.corpusRoot ?? lens.index.corpus.root,
    sustain: options.sustain,
  };
  const items = async (file: ConceptFile, which: 'examples' | 'counterexamples') => {
    const out: LensItem[] = [];
    for (const x of await resolveExamples(file, which, ctx)) {
      out.push(lens.notesItem(`concept:${x.id}`, x.notes));
      await yieldToSignals();
    }
    return out;
  };
  const byName = new Map(files.map((f) => [f.spec.name, f]));
  for (const file of files) {
    if (byName.get(file.spec.name) !== file)
      throw new UserError(
        `${file.path}: another concept of this run is also named ${file.spec.name}`,
      );
    if (file.spec.relativeTo === file.spec.name)
      throw new UserError(`${file.path}: concept ${file.spec.name} is relativeTo itself`);
  }
  const out: PreparedConcept[] = [];
  for (const file of files) {
    const examples = await items(file, 'examples');
    if (examples.length < 3)
      throw new UserError(
        `${file.path}: concept ${file.spec.name} yields ${examples.length} examples; TCAV needs at least 3`,
      );
    let counterexamples: LensItem[] | undefined;
    if (file.spec.counterexamples) counterexamples = await items(file, 'counterexamples');
    if (file.spec.relativeTo) {
      const other = byName.get(file.spec.relativeTo);
      if (!other)
        throw new UserError(
          `${file.path}: relativeTo names ${file.spec.relativeTo}, which is not among the concepts of this run`,
        );
      counterexamples = await items(other, 'examples');
    }
    out.push({
      name: file.spec.name,
      description: file.spec.description,
      examples,
      counterexamples,
      ...(file.spec.relativeTo ? { relativeTo: file.spec.relativeTo } : {}),
    });
  }
  return out;
}

/** The content id of a lens item: the hash of its roll (ids are `<source>#<hash>`). */
export function contentId(item: LensItem): string {
  const at = item.id.lastIndexOf('#');
  return at >= 0 ? item.id.slice(at + 1) : item.id;
}

export async function runTcav(
  lens: ConceptLens,
  concepts: PreparedConcept[],
  options: TcavOptions,
): Promise<TcavEntry[]> {
  const o = resolveOptions(options);
  if (concepts.length === 0) return [];
  if (o.runs < 2)
    throw new UserError(`--random-runs: at least 2 are needed for a test, got ${o.runs}`);
  if (o.nullConcepts < 3)
    throw new UserError(`--null-concepts: at least 3 are needed for a test, got ${o.nullConcepts}`);
  for (const l of o.layers) lens.classifier.layer(l); // fails early, listing the valid layers

  const cells: TcavEntry[] = [];
  /** Per cell: what sequential decisions need to ask its null for more random concepts. */
  const pending: { tcav: TcavLayer; key: NullSummary['key']; target: number }[] = [];
  const steps = schedule(o.nullStart, o.nullConcepts);
  for (const layer of o.layers) {
    const { tcav, acts, effects } = await prepareTcavLayer(lens, layer, o);
    lens.progress.start(`${layer}: CAVs, nulls and tests`, concepts.length);
    for (const concept of concepts) {
      const examples = await acts(concept.examples, `${layer}: ${concept.name} examples`);
      const counter = concept.counterexamples
        ? await acts(concept.counterexamples, `${layer}: ${concept.name} counterexamples`)
        : undefined;
      const result = await tcav.testConcept(examples, counter, steps[0]);
      o.onCavs?.({
        concept: concept.name,
        layer,
        shape: lens.classifier.layer(layer).shape,
        directions: result.directions,
        accuracies: result.accuracies,
      });
      const accuracy = meanStd(result.accuracies.filter(Number.isFinite)).mean;
      const nullAccuracy = meanStd(result.null.accuracies.filter(Number.isFinite)).mean;
      result.targets.forEach((t, ti) => {
        pending.push({ tcav, key: result.null.key, target: ti });
        const s = meanStd(t.scores);
        const m = meanStd(t.magnitudes);
        const r = meanStd(t.nullScores);
        const d = meanStd(t.derivatives);
        const rd = meanStd(t.nullEffects);
        cells.push({
          concept: concept.name,
          ...(concept.description ? { description: concept.description } : {}),
          layer,
          target: t.target,
          score: s.mean,
          std: s.std,
          magnitude: m.mean,
          magnitudeStd: m.std,
          effect: d.mean,
          effectStd: d.std,
          ...(effects ? { effectWindows: effects.windows[o.targets.indexOf(t.target)] } : {}),
          randomEffect: rd.mean,
          randomEffectStd: rd.std,
          pValue: t.effectTest.p,
          pValueScores: t.test.p,
          pValueCorrected: NaN,
          significant: false,
          cavAccuracy: accuracy,
          cavReliable: accuracy >= o.minCavAccuracy,
          cavAccuracyRandom: nullAccuracy,
          cav: o.cav,
          runs: o.runs,
          examples: concept.examples.length,
          counterexamples: concept.relativeTo
            ? 'relative'
            : concept.counterexamples
              ? 'explicit'
              : 'random',
          ...(concept.relativeTo ? { relativeTo: concept.relativeTo } : {}),
          nullConcepts: result.null.concepts,
          nullSizes: result.null.sizes,
          randomScore: r.mean,
          randomStd: r.std,
          scores: t.scores,
        });
      });
      lens.progress.tick();
    }
    lens.progress.stop();
    o.onLayer?.(layer, tcav);
  }
  return decideFamily(cells, pending, steps, o, lens);
}

/**
 * Sequential decisions over the run's family of cells (decide.ts): intervals for each cell's p*
 * from its null, Holm on their ends, and more random concepts (the null doubled) only for the
 * nulls of cells still open, until every cell is decided or the budget is spent.
 */
async function decideFamily(
  cells: TcavEntry[],
  pending: { tcav: TcavLayer; key: NullSummary['key']; target: number }[],
  steps: number[],
  o: { alpha: number; resamplingRisk: number },
  lens: ConceptLens,
): Promise<TcavEntry[]> {
  if (cells.length === 0) return cells;
  const delta = o.resamplingRisk / (cells.length * steps.length);
  const intervals: PInterval[] = new Array(cells.length);
  const outcomes: Outcome[] = cells.map(() => 'undecided');
  const used = cells.map(() => steps[0]);
  const draws: Float64Array[] = new Array(cells.length);
  for (const [k, M] of steps.entries()) {
    const open = cells.map((_, i) => i).filter((i) => outcomes[i] === 'undecided');
    if (open.length === 0) break;
    if (k > 0)
      lens.progress.start(
        `sequential decisions: ${open.length} open cells, nulls of ${M}`,
        open.length,
      );
    for (const i of open) {
      const c = pending[i];
      draws[i] = await c.tcav.nullEffects(c.key, c.target, M);
      intervals[i] = pInterval(cells[i].effect, draws[i], delta);
      used[i] = M;
      if (k > 0) lens.progress.tick();
      await yieldToSignals();
    }
    if (k > 0) lens.progress.stop();
    const now = classify(intervals, o.alpha);
    for (const i of open) if (now[i] !== 'undecided') outcomes[i] = now[i];
  }
  const adjusted = holm(intervals.map((iv) => iv.p));
  return cells.map((c, i) => {
    const null_ = meanStd(Array.from(draws[i]));
    return {
      ...c,
      randomEffect: null_.mean,
      randomEffectStd: null_.std,
      pValue: intervals[i].p,
      pValueInterval: [intervals[i].low, intervals[i].high] as [number, number],
      pValueCorrected: adjusted[i],
      outcome: outcomes[i],
      significant: outcomes[i] === 'significant',
      resamplingRisk: o.resamplingRisk,
      nullConcepts: used[i],
    };
  });
}

/**
 * Everything TCAV needs at one layer except the concepts: target excerpts and the random pool
 * sampled (seeded) from the corpus, their activations, the head, and the derivative tables.
 */
export async function prepareTcavLayer(
  lens: ConceptLens,
  layer: string,
  options: Pick<TcavOptions, 'targets' | 'seed'> & Partial<TcavOptions>,
): Promise<{
  tcav: TcavLayer;
  acts: (items: LensItem[], stage: string) => Promise<KeyedSet>;
  effects?: MeanGradients;
}> {
  const o = resolveOptions(options);
  // The layer's size (an unknown layer fails here, listing the valid ones). At a wide layer the
  // target excerpts and the pool hold what fits in memory (memory.ts); the pool spreads over as
  // many pieces as the corpus has (CorpusIndex.sample), all composers.
  const dim = lens.classifier.layer(layer).shape.reduce((a, b) => a * b, 1);
  const perTarget = boundedTargetExcerpts(o.targetExcerpts, o.targets.length, layer, dim);
  if (perTarget.note) lens.note(`targets/${layer}`, perTarget.note);
  const targetExcerpts = o.targets.map((t) =>
    lens.index.sample(perTarget.size, `${o.seed}/targets/${t}`, [t]),
  );
  const reserved = 4 * dim * targetExcerpts.reduce((a, x) => a + x.length, 0);
  const bound = boundedPoolSize(o.poolSize, layer, dim, reserved);
  if (bound.note) lens.note(`pool/${layer}`, bound.note);
  const poolExcerpts = lens.index.sample(bound.size, `${o.seed}/pool`, lens.targets());
  const acts = async (items: LensItem[], stage: string): Promise<KeyedSet> => {
    const a = await lens.activations(items, [layer], stage);
    return { acts: a.layers[layer], n: a.n, ids: items.map(contentId) };
  };
  // Corpus windows in chunks: a roll is 400 x 88 floats, so 5000 of them at once would hold
  // 0.7 GB of rolls for activations a fifth of that size.
  const corpusActs = async (excerpts: Excerpt[], stage: string): Promise<KeyedSet> => {
    const out = new Float32Array(excerpts.length * dim);
    const ids: string[] = [];
    // At a wide layer a chunk's activations are held twice (the chunk's, then `out`): a chunk
    // holds at most 2^24 values (64 MB).
    const chunk = Math.max(1, Math.min(256, Math.floor(2 ** 24 / dim)));
    for (let first = 0; first < excerpts.length; first += chunk) {
      const part = await lens.corpusItemsAsync(excerpts.slice(first, first + chunk));
      const a = await acts(part, `${stage} (${first + part.length} of ${excerpts.length})`);
      out.set(a.acts.subarray(0, a.n * dim), first * dim);
      ids.push(...a.ids);
    }
    return { acts: out, n: excerpts.length, ids };
  };
  // The head belongs to the classifier (built once per layer, released with it).
  const head = await lens.head(layer);
  // With exact derivatives each composer's excerpts give their gradients as soon as their
  // activations are read, and the activations go: at a wide layer they are hundreds of megabytes.
  const targets: TargetSet[] | TargetGradients[] = [];
  for (const [i, t] of o.targets.entries()) {
    const classIndex = lens.labels.indexOf(t);
    const set = await corpusActs(targetExcerpts[i], `${layer}: ${t} excerpts`);
    if (head.derivatives === 'exact') {
      const gradients = await head.logitGradients(
        set.acts,
        set.n,
        Array<number>(set.n).fill(classIndex),
      );
      (targets as TargetGradients[]).push({
        name: t,
        classIndex,
        n: set.n,
        gradients,
        digest: digest(set.acts),
      });
    } else (targets as TargetSet[]).push({ name: t, classIndex, ...set });
  }
  const pool = {
    ...(await corpusActs(poolExcerpts, `${layer}: pool of random sets`)),
    // Random concepts and counterexample sets are drawn spread over pieces (layer.ts, PoolSet).
    pieces: poolExcerpts.map((x) => x.piece),
  };
  if (pool.n < o.setSize + 3) {
    throw new UserError(
      `the corpus has ${pool.n} windows; random concepts and counterexample sets of ${o.setSize} need more (lower --set-size)`,
    );
  }
  // Effects over (up to) every window of each composer, when gradients are exact (effects.ts).
  // Sorted by id: with every window taken, the set and so its pass are the same in every seed.
  const effects =
    o.effectWindows > 0 && head.derivatives === 'exact'
      ? await meanGradients(
          lens,
          head,
          layer,
          o.targets.map((t) => ({
            classIndex: lens.labels.indexOf(t),
            windows: lens.index
              .sample(o.effectWindows, `${o.seed}/effects/${t}`, [t])
              .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
          })),
        )
      : undefined;
  const tcav = await TcavLayer.prepare(head, targets, pool, {
    meanGradients: effects,
    runs: o.runs,
    setSize: o.setSize,
    nullConcepts: o.nullConcepts,
    cav: o.cav,
    seed: `${o.seed}/${layer}`,
    progress: lens.progress,
    nullStore: nullStore(lens),
    scope: `${lens.classifier.sha256}/${JSON.stringify(lens.classifier.input)}${lens.classifier.outputKey}/${layer}`,
  });
  return { tcav, acts, effects };
}

/** Options with their defaults (undefined values take the default too). */
function resolveOptions<T extends Partial<TcavOptions>>(options: T) {
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const merged = { ...TCAV_DEFAULTS, ...given } as typeof TCAV_DEFAULTS & T;
  const nullConcepts = merged.nullConcepts ?? defaultNullConcepts(merged.cav);
  return {
    ...merged,
    nullConcepts,
    nullStart: Math.min(nullConcepts, merged.nullStart ?? defaultNullStart(merged.cav)),
  };
}

/** Holm's correction over all cells; a cell is significant when its corrected p-value is below alpha. */
export function correct(cells: TcavEntry[], alpha: number): TcavEntry[] {
  const adjusted = holm(cells.map((c) => c.pValue));
  return cells.map((c, i) => ({
    ...c,
    pValueCorrected: adjusted[i],
    significant: adjusted[i] < alpha,
  }));
}
