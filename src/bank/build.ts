import { relative } from 'node:path';
import type { Excerpt } from '../corpus/types.ts';
import type { TextureName } from '../detect/index.ts';
import { readModelCard } from '../lens/evaluate.ts';
import type { ConceptLens } from '../lens/lens.ts';
import { calibrate, type Calibration } from './calibration.ts';
import { calibrationWindows, detectorFor, labelWindows } from './labels.ts';
import { VERSION, corpusIdentity } from '../results/identity.ts';
import { BANK_FORMAT, type BankManifest } from '../results/bank.ts';
import type { ConceptCavs, PreparedConcept } from '../tcav/run.ts';
import { publicPath } from '../results/public-path.ts';
import { UserError } from '../util/errors.ts';
import { meanDirection, median, presence, project, sortedCopy } from './presence.ts';

/**
 * A concept bank in memory: the CAVs a TCAV run trained, their mean directions, and what is needed
 * to judge a new excerpt without the corpus (the reference projections), tied to one model.
 * `tcav --save-bank` writes it (store.ts); `timeline` reads it.
 */
export interface BankLayer {
  layer: string;
  shape: number[];
  size: number;
  /** Every run's unit CAV. */
  cavs: Float32Array[];
  accuracies: number[];
  meanAccuracy: number;
  reliable: boolean;
  /** Unit mean direction of the CAVs. */
  direction: Float32Array;
  /** Projections of the reference corpus excerpts on `direction`, ascending. */
  reference: Float64Array;
  /** Projections of the concept's own examples on `direction`. */
  examples: Float64Array;
  examplesMedianPresence: number;
  /**
   * What "present" means for this concept at this layer: the probability fitted against a
   * detector's label on training pieces, checked on held-out pieces (calibration.ts). Absent: not
   * calibrated (no detector covers the concept, the corpus has no split to fit on, or the bank
   * predates calibration); `uncalibrated` says which.
   */
  calibration?: Calibration;
  uncalibrated?: string;
}

export interface BankConcept {
  name: string;
  description?: string;
  examples: number;
  layers: BankLayer[];
}

export interface ConceptBank {
  /** Everything of bank.json but the concepts' arrays. */
  info: Omit<BankManifest, 'concepts'>;
  concepts: BankConcept[];
  /** The folder it was loaded from, when it was. */
  path?: string;
}

/** Collects the CAVs runTcav reports (its `onCavs` callback). */
export class CavCollector {
  readonly cavs: ConceptCavs[] = [];
  readonly add = (c: ConceptCavs): void => {
    this.cavs.push(c);
  };
}

export interface BuildBankOptions {
  modelPath: string;
  seed: number;
  runs: number;
  setSize: number;
  minCavAccuracy: number;
  /** Corpus excerpts whose projections are the presence reference (default 500). */
  referenceExcerpts?: number;
  /**
   * Corpus windows per side (training, held-out) the presence is calibrated and checked on
   * (default 1000; 0: no calibration).
   */
  calibrationExcerpts?: number;
  /** Seed of the corpus's piece-level split (default: the model card's, else 1). */
  splitSeed?: number;
  /** Told about concepts left out (every CAV degenerate). */
  warn?: (message: string) => void;
}

export const DEFAULT_REFERENCE_EXCERPTS = 500;
export const DEFAULT_CALIBRATION_EXCERPTS = 1000;

/**
 * Turn a TCAV run's CAVs into a bank: per concept and layer the mean direction, and the
 * projections on it of a seeded sample of corpus excerpts (the presence reference, drawn like
 * TCAV's random sets: from all composers of the model present in the corpus, spread over pieces)
 * and of the concept's examples. Activations come through the lens, so they are usually cached.
 */
export async function buildBank(
  lens: ConceptLens,
  collected: readonly ConceptCavs[],
  prepared: readonly PreparedConcept[],
  options: BuildBankOptions,
): Promise<ConceptBank> {
  const count = options.referenceExcerpts ?? DEFAULT_REFERENCE_EXCERPTS;
  if (!(Number.isInteger(count) && count >= 10))
    throw new UserError(`--bank-excerpts: at least 10 reference excerpts, got ${count}`);
  const seed = `${options.seed}/bank-reference`;
  const sample = lens.index.sample(count, seed, lens.targets());
  if (sample.length < 10)
    throw new UserError(`the corpus has ${sample.length} windows; a bank needs at least 10`);
  const layers = [...new Set(collected.map((c) => c.layer))];
  const concepts: BankConcept[] = [];
  const byName = new Map(prepared.map((p) => [p.name, p]));
  // Reference activations, per layer, in chunks (rolls of one chunk at a time).
  const referenceActs = new Map<string, { acts: Float32Array[]; n: number[] }>();
  for (const layer of layers) referenceActs.set(layer, { acts: [], n: [] });
  const chunk = 256;
  for (let start = 0; start < sample.length; start += chunk) {
    const part = sample.slice(start, start + chunk);
    const a = await lens.activations(
      await lens.corpusItemsAsync(part),
      layers,
      'bank: reference excerpts',
    );
    for (const layer of layers) {
      referenceActs.get(layer)!.acts.push(a.layers[layer]);
      referenceActs.get(layer)!.n.push(a.n);
    }
  }
  for (const c of collected) {
    const concept = byName.get(c.concept);
    if (!concept) throw new Error(`buildBank: no prepared concept ${c.concept}`);
    const direction = meanDirection(c.directions);
    if (!direction) {
      options.warn?.(`bank: ${c.concept} at ${c.layer}: every CAV is degenerate; left out`);
      continue;
    }
    const ref = referenceActs.get(c.layer)!;
    const projections = new Float64Array(sample.length);
    let at = 0;
    ref.acts.forEach((acts, i) => {
      projections.set(project(acts, ref.n[i], direction), at);
      at += ref.n[i];
    });
    const reference = sortedCopy(projections);
    const ex = await lens.activations(concept.examples, [c.layer], `bank: ${c.concept} examples`);
    const examples = project(ex.layers[c.layer], ex.n, direction);
    const meanAccuracy = c.accuracies.reduce((a, b) => a + b, 0) / Math.max(1, c.accuracies.length);
    const layer: BankLayer = {
      layer: c.layer,
      shape: [...c.shape],
      size: direction.length,
      cavs: c.directions,
      accuracies: c.accuracies,
      meanAccuracy,
      reliable: meanAccuracy >= options.minCavAccuracy,
      direction,
      reference,
      examples,
      examplesMedianPresence: median([...examples].map((x) => presence(reference, x))),
    };
    let entry = concepts.find((k) => k.name === c.concept);
    if (!entry) {
      entry = {
        name: c.concept,
        ...(concept.description ? { description: concept.description } : {}),
        examples: concept.examples.length,
        layers: [],
      };
      concepts.push(entry);
    }
    entry.layers.push(layer);
  }
  if (concepts.length === 0) throw new UserError('no concept has a usable CAV; no bank to write');
  await calibrateBank(lens, concepts, prepared, options);
  const c = lens.classifier;
  return {
    info: {
      format: BANK_FORMAT,
      tool: { name: 'concept-lens', version: VERSION },
      createdAt: new Date().toISOString(),
      model: {
        path: publicPath(options.modelPath),
        sha256: c.sha256,
        labels: c.labels,
        input: { ...c.input },
      },
      corpus: corpusIdentity(lens),
      tcav: {
        seed: options.seed,
        runs: options.runs,
        setSize: options.setSize,
        minCavAccuracy: options.minCavAccuracy,
      },
      reference: { seed, count: sample.length, excerpts: sample.map((x) => x.id) },
    },
    concepts,
  };
}

/** Every (concept, layer) of a bank, in bank order. */
export function bankLanes(bank: ConceptBank): { concept: BankConcept; layer: BankLayer }[] {
  return bank.concepts.flatMap((concept) => concept.layers.map((layer) => ({ concept, layer })));
}

/**
 * Calibrate every concept a detector covers (calibration.ts): label training and held-out corpus
 * windows with the detectors, project them on each concept's direction, fit and check. The
 * activations come through the lens (cached); the labels never reach the model.
 */
async function calibrateBank(
  lens: ConceptLens,
  concepts: BankConcept[],
  prepared: readonly PreparedConcept[],
  options: BuildBankOptions,
): Promise<void> {
  const count = options.calibrationExcerpts ?? DEFAULT_CALIBRATION_EXCERPTS;
  const detectors = new Map<string, TextureName>();
  for (const c of concepts) {
    const d = detectorFor(c.name);
    if (d) detectors.set(c.name, d);
    else for (const l of c.layers) l.uncalibrated = 'no detector covers this concept';
  }
  if (detectors.size === 0) return;
  const none = (why: string) => {
    for (const c of concepts)
      if (detectors.has(c.name)) for (const l of c.layers) l.uncalibrated = why;
  };
  if (count === 0) return none('calibration was turned off');
  // Pieces the concepts draw their examples from: never part of the held-out check.
  const ids = prepared.flatMap((p) =>
    [...p.examples, ...(p.counterexamples ?? [])].map((x) => x.id),
  );
  const excluded = new Set<string>();
  for (const e of lens.index.entries.values()) {
    const rel = relative(process.cwd(), e.path);
    if (ids.some((id) => id.includes(`:${rel}:`))) excluded.add(e.piece);
  }
  const cardSeed = (readModelCard(options.modelPath)?.split as { seed?: unknown } | undefined)
    ?.seed;
  const splitSeed = options.splitSeed ?? (typeof cardSeed === 'number' ? cardSeed : 1);
  const { training, heldOut } = calibrationWindows(lens, {
    splitSeed,
    count,
    seed: `${options.seed}/bank-calibration`,
    excluded,
  });
  if (training.length < 20 || heldOut.length < 20)
    return none(
      `the corpus's split leaves ${training.length} training and ${heldOut.length} held-out windows (at least 20 each are needed)`,
    );
  const textures = [...new Set(detectors.values())];
  const labels = {
    training: labelWindows(lens, training, textures),
    heldOut: labelWindows(lens, heldOut, textures),
  };
  const layers = [...new Set(concepts.flatMap((c) => c.layers.map((l) => l.layer)))];
  const projections = async (windows: Excerpt[], tag: string) => {
    const out = new Map<BankLayer, Float64Array>();
    for (const c of concepts)
      if (detectors.has(c.name))
        for (const l of c.layers) out.set(l, new Float64Array(windows.length));
    const chunk = 256;
    for (let start = 0; start < windows.length; start += chunk) {
      const part = windows.slice(start, start + chunk);
      const a = await lens.activations(await lens.corpusItemsAsync(part), layers, tag);
      for (const [l, values] of out)
        values.set(project(a.layers[l.layer], a.n, l.direction), start);
    }
    return out;
  };
  const train = await projections(training, 'bank: calibration, training pieces');
  const held = await projections(heldOut, 'bank: calibration, held-out pieces');
  for (const c of concepts) {
    const d = detectors.get(c.name);
    if (!d) continue;
    for (const l of c.layers) {
      const calibration = calibrate(
        d,
        {
          projections: train.get(l)!,
          labels: labels.training.get(d)!,
          pieces: training.map((x) => x.piece),
        },
        {
          projections: held.get(l)!,
          labels: labels.heldOut.get(d)!,
          pieces: heldOut.map((x) => x.piece),
        },
      );
      if (calibration) l.calibration = calibration;
      else
        l.uncalibrated = `the ${d} detector labels ${labels.training.get(d)!.some(Boolean) ? 'every' : 'no'} training window; nothing to fit`;
    }
  }
}
