import type { ConceptFile } from '../concepts/load.ts';
import { resolveExamples } from '../concepts/examples.ts';
import type { ConceptLens, LensItem } from '../lens/lens.ts';
import type { TcavEntry } from '../results/results.ts';
import { UserError } from '../util/errors.ts';
import { yieldToSignals } from '../util/interrupt.ts';
import { TcavLayer, type ActivationSet, type TargetSet } from './layer.ts';
import { holm, meanStd } from './stats.ts';

/**
 * A TCAV run over concepts x layers x target composers: activations through the lens (cached),
 * one TcavLayer per layer, a test per cell against the random baseline, and Holm's correction over
 * every cell of the run.
 *
 * Which test decides significance. The classic TCAV test (Welch's t-test of the concept's per-run
 * sign-count scores against random-vs-random scores) is reported as `pValueScores`, but it does
 * not decide: near the top of a CNN the sign of a logit's derivative along a direction is almost
 * the same for every excerpt of a composer, so sign-count scores are nearly 0 or 1 for any fixed
 * direction, random ones included. A concept's 20 runs then give 20 copies of one number and the
 * Welch test calls every stable direction significant (pseudo-replication: the runs re-estimate one
 * concept, they are not 20 concepts). Measured on the synthetic model, this flagged textures no
 * composer uses for most composers. The deciding test asks instead whether the concept's effect,
 * its mean directional derivative, lies outside the distribution of the random CAVs' effects (a
 * prediction test with the runs as the null sample), two-sided; the sign-count score stays the
 * readable summary of direction ("share of the composer's excerpts the concept pushes up").
 */
export interface TcavOptions {
  layers: string[];
  targets: string[];
  /** Random counterexample sets, i.e. CAVs per concept (default 20). */
  runs?: number;
  /** Excerpts per random set (default 30). */
  setSize?: number;
  /** Excerpts of each target composer where derivatives are taken (default 40). */
  targetExcerpts?: number;
  seed: number;
  alpha?: number;
  /** Below this mean held-out accuracy a CAV is flagged as unreliable (default 0.7). */
  minCavAccuracy?: number;
  /** Called with each concept's CAVs at each layer (concept banks keep them). */
  onCavs?: (cavs: ConceptCavs) => void;
}

/** The CAVs TCAV trained for one concept at one layer. */
export interface ConceptCavs {
  concept: string;
  layer: string;
  /** Layer shape of one item (the CAVs' shape). */
  shape: number[];
  /** One unit CAV per run. */
  directions: Float32Array[];
  /** Held-out accuracy per run. */
  accuracies: number[];
}

export const TCAV_DEFAULTS = {
  runs: 20,
  setSize: 30,
  targetExcerpts: 40,
  alpha: 0.05,
  minCavAccuracy: 0.7,
};

/** A concept ready for TCAV: its examples (and counterexamples, when explicit) as model inputs. */
export interface PreparedConcept {
  name: string;
  description?: string;
  examples: LensItem[];
  counterexamples?: LensItem[];
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
    });
  }
  return out;
}

export async function runTcav(
  lens: ConceptLens,
  concepts: PreparedConcept[],
  options: TcavOptions,
): Promise<TcavEntry[]> {
  const o = { ...TCAV_DEFAULTS, ...options };
  if (concepts.length === 0) return [];
  if (o.runs < 2)
    throw new UserError(`--random-runs: at least 2 are needed for a test, got ${o.runs}`);
  for (const l of o.layers) lens.classifier.layer(l); // fails early, listing the valid layers

  const cells: TcavEntry[] = [];
  for (const layer of o.layers) {
    const { tcav, acts } = await prepareTcavLayer(lens, layer, o);
    lens.progress.start(`${layer}: CAVs and derivatives`, concepts.length);
    for (const concept of concepts) {
      const examples = await acts(concept.examples, `${layer}: ${concept.name} examples`);
      const counter = concept.counterexamples
        ? await acts(concept.counterexamples, `${layer}: ${concept.name} counterexamples`)
        : undefined;
      const result = await tcav.testConcept(concept.name, examples, counter);
      o.onCavs?.({
        concept: concept.name,
        layer,
        shape: lens.classifier.layer(layer).shape,
        directions: result.directions,
        accuracies: result.accuracies,
      });
      const accuracy = meanStd(result.accuracies).mean;
      result.targets.forEach((t, i) => {
        const s = meanStd(t.scores);
        const m = meanStd(t.magnitudes);
        const r = meanStd(tcav.baseline[i].scores);
        const d = meanStd(t.derivatives);
        const rd = meanStd(tcav.baseline[i].derivatives);
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
          randomEffect: rd.mean,
          randomEffectStd: rd.std,
          pValue: t.effectTest.p,
          pValueScores: t.test.p,
          pValueCorrected: NaN,
          significant: false,
          cavAccuracy: accuracy,
          cavReliable: accuracy >= o.minCavAccuracy,
          runs: o.runs,
          randomScore: r.mean,
          randomStd: r.std,
          scores: t.scores,
        });
      });
      lens.progress.tick();
    }
    lens.progress.stop();
  }
  return correct(cells, o.alpha);
}

/**
 * Everything TCAV needs at one layer except the concepts: target excerpts and random sets sampled
 * (seeded) from the corpus, their activations, the head, and the random-vs-random baseline.
 * Discovery reuses it to test its clusters like any concept.
 */
export async function prepareTcavLayer(
  lens: ConceptLens,
  layer: string,
  options: Pick<TcavOptions, 'targets' | 'seed'> & Partial<TcavOptions>,
): Promise<{
  tcav: TcavLayer;
  acts: (items: LensItem[], stage: string) => Promise<ActivationSet>;
}> {
  const o = { ...TCAV_DEFAULTS, ...options };
  lens.classifier.layer(layer); // fails early, listing the valid layers
  const targetExcerpts = o.targets.map((t) =>
    lens.index.sample(o.targetExcerpts, `${o.seed}/targets/${t}`, [t]),
  );
  // Each random set is drawn independently from the whole corpus (sets may share excerpts, as in TCAV).
  const randomExcerpts = [...Array(o.runs + 1).keys()].flatMap((j) => {
    const set = lens.index.sample(o.setSize, `${o.seed}/random/${j}`, lens.targets());
    if (set.length < o.setSize) {
      throw new UserError(
        `the corpus has ${set.length} windows; a random set needs ${o.setSize} (lower --set-size)`,
      );
    }
    return set;
  });
  const acts = async (items: LensItem[], stage: string): Promise<ActivationSet> => {
    const a = await lens.activations(items, [layer], stage);
    return { acts: a.layers[layer], n: a.n };
  };
  const targets: TargetSet[] = [];
  for (const [i, t] of o.targets.entries()) {
    targets.push({
      name: t,
      classIndex: lens.labels.indexOf(t),
      ...(await acts(await lens.corpusItemsAsync(targetExcerpts[i]), `${layer}: ${t} excerpts`)),
    });
  }
  const random = await acts(await lens.corpusItemsAsync(randomExcerpts), `${layer}: random sets`);
  // The head belongs to the classifier (built once per layer, released with it).
  const head = await lens.head(layer);
  const tcav = await TcavLayer.prepare(head, targets, random, {
    runs: o.runs,
    setSize: o.setSize,
    seed: `${o.seed}/${layer}`,
  });
  return { tcav, acts };
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
