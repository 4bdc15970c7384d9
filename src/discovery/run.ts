import type { Excerpt } from '../corpus/types.ts';
import type { ConceptLens, LensItem } from '../lens/lens.ts';
import { describeAxes, layerMap } from '../model/axes.ts';
import type { LayerInfo } from '../model/graph.ts';
import type { ComposerImportance } from '../results/results.ts';
import { TcavLayer, type TargetSet } from '../tcav/layer.ts';
import { boundedTargetExcerpts } from '../tcav/memory.ts';
import type { CavMethod } from '../tcav/cav.ts';
import { discoveryNullConcepts, TCAV_DEFAULTS } from '../tcav/run.ts';
import { holm, meanStd } from '../tcav/stats.ts';
import { UserError } from '../util/errors.ts';
import { centreDistances } from '../retrieval/clusters.ts';
import { clusterFeatures, clusterRows } from './kmeans.ts';
import { nmfAsync } from './nmf.ts';
import {
  activeShare,
  maskRoll,
  SEGMENTS,
  segmentBox,
  type SegmentBox,
  type SegmentName,
} from './segments.ts';
import jstatModule from 'jstat';

const { jStat } = jstatModule;

/**
 * Unsupervised concept discovery over the excerpts of the target composers.
 *  - kmeans (ACE, Ghorbani et al. 2019): windows and their parts (halves, bass, treble) are
 *    clustered in activation space; clusters whose members come from few pieces are dropped (a
 *    pattern of one piece is not a concept); each kept cluster is tested with TCAV like a concept.
 *  - nmf (ICE, Zhang et al. 2021): the layer's non-negative feature maps are factorised; each
 *    component is a non-negative CAV with a map of where it is active; its weight for a composer
 *    is the derivative of that composer's logit along it; fidelity says how often the
 *    reconstructed activations still give the model's prediction.
 */
export interface DiscoveryOptions {
  method: 'kmeans' | 'nmf';
  layer: string;
  targets: string[];
  /** Clusters or components (default: 10 components; 3 clusters per target composer + 1). */
  conceptsCount?: number;
  /** Windows sampled per target composer (default 40). */
  excerptsPerTarget?: number;
  seed: number;
  /** Typical excerpts exported per concept (default 5) and least typical (default 2). */
  top?: number;
  least?: number;
  /** ACE's recurrence rule: a cluster must span at least this many pieces (default 4). */
  minPieces?: number;
  alpha?: number;
  /**
   * k-means: rank a cluster's parts by Mutual Proximity to its centre instead of distance, and
   * (scaledAssignment) give each part to the MP-nearest centre (src/retrieval; default none:
   * on the synthetic benchmark it did not raise purity, docs/similar.md).
   */
  scaling?: 'none' | 'mp-empirical' | 'mp-gaussian';
  scaledAssignment?: boolean;
  /** TCAV of clusters: random runs, set size, null concepts, CAV method (defaults of the tcav command). */
  runs?: number;
  setSize?: number;
  targetExcerpts?: number;
  nullConcepts?: number;
  cav?: CavMethod;
}

export const DISCOVERY_DEFAULTS = {
  excerptsPerTarget: 40,
  top: 5,
  least: 2,
  minPieces: 4,
  alpha: 0.05,
};

/** An excerpt (or part of one) standing for a discovered concept. */
export interface FoundExcerpt {
  excerpt: Excerpt;
  segment: SegmentName;
  box: SegmentBox;
  typicality: number;
  /** Where the concept is active: rows (time) x cols (pitch) grid over the window, 0..1. */
  localization?: { rows: number; cols: number; values: number[] };
}

export interface FoundConcept {
  id: string;
  layer: string;
  method: 'kmeans' | 'nmf';
  importance: Record<string, ComposerImportance>;
  pieces: number;
  members: number;
  typical: FoundExcerpt[];
  least: FoundExcerpt[];
}

export interface DiscoveryResult {
  concepts: FoundConcept[];
  info: { method: 'kmeans' | 'nmf'; layer: string; excerpts: number; [key: string]: unknown };
}

interface Part {
  excerpt: Excerpt;
  segment: SegmentName;
  box: SegmentBox;
}

export async function discover(
  lens: ConceptLens,
  options: DiscoveryOptions,
): Promise<DiscoveryResult> {
  const o = {
    ...DISCOVERY_DEFAULTS,
    ...options,
    // k-means clusters parts of windows too, so it needs more clusters than NMF needs components.
    conceptsCount:
      options.conceptsCount ?? (options.method === 'kmeans' ? 3 * options.targets.length + 1 : 10),
  };
  const layer = lens.classifier.layer(o.layer);
  const windows = o.targets.flatMap((t) =>
    lens.index.sample(o.excerptsPerTarget, `${o.seed}/discovery/${t}`, [t]),
  );
  if (windows.length === 0)
    throw new UserError(`discovery: no excerpts of ${o.targets.join(', ')} in the corpus`);
  return o.method === 'kmeans'
    ? discoverKmeans(lens, windows, layer, o)
    : discoverNmf(lens, windows, layer, o);
}

type Resolved = DiscoveryOptions & typeof DISCOVERY_DEFAULTS & { conceptsCount: number };

async function discoverKmeans(
  lens: ConceptLens,
  windows: Excerpt[],
  layer: LayerInfo,
  o: Resolved,
): Promise<DiscoveryResult> {
  const { windowFrames, lowPitch, highPitch } = lens.classifier.input;
  const rolls = await lens.index.rollsAsync(windows);
  const parts: Part[] = [];
  const items: LensItem[] = [];
  windows.forEach((excerpt, w) => {
    for (const segment of SEGMENTS) {
      const box = segmentBox(segment, windowFrames, lowPitch, highPitch);
      // A part with (almost) no notes says nothing about a concept.
      if (segment !== 'whole' && activeShare(rolls[w], box) < 0.002) continue;
      parts.push({ excerpt, segment, box });
      items.push({
        id: `${excerpt.id}@${segment}`,
        roll: segment === 'whole' ? rolls[w] : maskRoll(rolls[w], box),
      });
    }
  });
  const acts = await lens.activations(items, [o.layer], `${o.layer}: excerpts and parts`);
  const size = acts.sizes[o.layer];
  const k = Math.min(o.conceptsCount, parts.length);
  lens.progress.start('k-means', 1);
  const features = clusterFeatures(acts.layers[o.layer], parts.length, layer.shape, layer.axes);
  const clustering = await clusterRows(features, k, o.seed);
  lens.progress.tick();
  lens.progress.stop();
  // With a scaling, parts join the centre nearest by Mutual Proximity (when scaledAssignment) and
  // are ranked by it: typical = near the centre relative to both their neighbourhoods.
  let assignment = clustering.assignment;
  let typicality = clustering.distances.map((d) => 1 / (1 + Math.sqrt(d)));
  if (o.scaling && o.scaling !== 'none') {
    const n = parts.length;
    const D = await centreDistances(features, clustering.centroids, o.scaling);
    if (o.scaledAssignment)
      assignment = parts.map((_, i) => {
        let best = 0;
        for (let c = 1; c < k; c++) if (D[c * n + i] < D[best * n + i]) best = c;
        return best;
      });
    typicality = parts.map((_, i) => 1 - D[assignment[i] * n + i]);
  }

  const clusters = [...Array(k).keys()].map((c) => {
    const members = parts.map((_, i) => i).filter((i) => assignment[i] === c);
    members.sort((a, b) => typicality[b] - typicality[a] || a - b);
    return { members, pieces: new Set(members.map((i) => parts[i].excerpt.piece)).size };
  });
  const kept = clusters.filter((c) => c.pieces >= o.minPieces && c.members.length >= 6);

  // TCAV per kept cluster: its members (closest to the centre first) are the concept's examples.
  // Its counterexamples and the random concepts of its size-matched null are drawn from the same
  // pool of parts (windows, halves, bass and treble bands), so that a cluster is not significant
  // merely for being made of silenced-out parts while random sets are whole windows; counterexample
  // sets never contain the cluster's own members (src/tcav/layer.ts).
  const runs = o.runs ?? TCAV_DEFAULTS.runs;
  const setSize = Math.min(o.setSize ?? TCAV_DEFAULTS.setSize, Math.floor(parts.length / 2));
  const partIds = items.map((x) => x.id);
  const targets: TargetSet[] = [];
  // At a wide layer, as many target excerpts as TCAV keeps there (src/tcav/memory.ts).
  const perTarget = boundedTargetExcerpts(
    o.targetExcerpts ?? TCAV_DEFAULTS.targetExcerpts,
    o.targets.length,
    o.layer,
    lens.classifier.layer(o.layer).shape.reduce((a, b) => a * b, 1),
  );
  if (perTarget.note) lens.note(`targets/${o.layer}`, perTarget.note);
  for (const t of o.targets) {
    const excerpts = lens.index.sample(perTarget.size, `${o.seed}/targets/${t}`, [t]);
    const a = await lens.activations(
      await lens.corpusItemsAsync(excerpts),
      [o.layer],
      `${o.layer}: ${t} excerpts`,
    );
    targets.push({ name: t, classIndex: lens.labels.indexOf(t), acts: a.layers[o.layer], n: a.n });
  }
  const tcav = await TcavLayer.prepare(
    await lens.head(o.layer),
    targets,
    { acts: acts.layers[o.layer], n: parts.length, ids: partIds },
    {
      runs,
      setSize,
      nullConcepts: o.nullConcepts ?? discoveryNullConcepts(o.cav ?? TCAV_DEFAULTS.cav),
      cav: o.cav ?? TCAV_DEFAULTS.cav,
      seed: `${o.seed}/${o.layer}/clusters`,
      progress: lens.progress,
    },
  );
  const tested: {
    cluster: (typeof kept)[number];
    importance: Record<string, ComposerImportance>;
    pValues: number[];
  }[] = [];
  lens.progress.start(`${o.layer}: TCAV of clusters`, kept.length);
  for (const cluster of kept) {
    const chosen = cluster.members.slice(0, 60);
    const conceptActs = new Float32Array(chosen.length * size);
    chosen.forEach((i, r) =>
      conceptActs.set(acts.layers[o.layer].subarray(i * size, (i + 1) * size), r * size),
    );
    const result = await tcav.testConcept({
      acts: conceptActs,
      n: chosen.length,
      ids: chosen.map((i) => partIds[i]),
    });
    const importance: Record<string, ComposerImportance> = {};
    // Importance: the cluster's effect on the composer's logit (mean directional derivative along
    // its CAVs), tested against random parts-concepts of the same size as TCAV does (src/tcav/run.ts).
    result.targets.forEach((t) => {
      const d = meanStd(t.derivatives);
      importance[t.target] = {
        value: d.mean,
        std: d.std,
        pValue: t.effectTest.p,
        score: meanStd(t.scores).mean,
      };
    });
    tested.push({ cluster, importance, pValues: result.targets.map((t) => t.effectTest.p) });
    lens.progress.tick();
  }
  lens.progress.stop();
  const adjusted = holm(tested.flatMap((t) => t.pValues));
  let at = 0;
  for (const t of tested) {
    for (const target of o.targets) t.importance[target].significant = adjusted[at++] < o.alpha;
  }
  // Rank: the strongest significant positive influence on any target first.
  const strength = (imp: Record<string, ComposerImportance>) =>
    Math.max(...Object.values(imp).map((v) => (v.significant ? v.value : v.value - 1e6)));
  tested.sort((a, b) => strength(b.importance) - strength(a.importance));

  const audible = audibleParts(lens, lens.classifier.input.fps);
  const concepts = tested.map((t, rank) => {
    const typical = distinctPieces(t.cluster.members, parts, o.top, audible);
    const least = distinctPieces(t.cluster.members.slice().reverse(), parts, o.least, audible);
    const found = (i: number): FoundExcerpt => ({
      ...parts[i],
      typicality: typicality[i],
      localization: boxGrid(parts[i].box, windowFrames, lowPitch, highPitch),
    });
    return {
      id: `kmeans-${o.layer}-${String(rank + 1).padStart(2, '0')}`,
      layer: o.layer,
      method: 'kmeans' as const,
      importance: t.importance,
      pieces: t.cluster.pieces,
      members: t.cluster.members.length,
      typical: typical.map(found),
      least: least.map(found),
    };
  });
  return {
    concepts,
    info: {
      method: 'kmeans',
      layer: o.layer,
      axes: describeAxes(layer.shape, layer.axes),
      excerpts: windows.length,
      parts: parts.length,
      clusters: k,
      kept: kept.length,
      minPieces: o.minPieces,
      inertia: clustering.inertia,
    },
  };
}

async function discoverNmf(
  lens: ConceptLens,
  windows: Excerpt[],
  layer: LayerInfo,
  o: Resolved,
): Promise<DiscoveryResult> {
  // The layer as a map: rows are time, columns pitch, whatever the order of its axes (NCPT maps,
  // channels-last maps, [time, hidden] sequence layers); the other axes are NMF's columns.
  const map = layerMap(layer.shape, layer.axes);
  const { positions, features: C, index } = map;
  const items = await lens.corpusItemsAsync(windows);
  const acts = await lens.activations(items, [o.layer], `${o.layer}: excerpts`);
  const A = acts.layers[o.layer];
  const D = acts.sizes[o.layer];
  const n = windows.length;
  // V: one row per (excerpt, time, pitch) position, one column per feature (channel, hidden unit).
  const V = new Float32Array(n * positions * C);
  let negative = 0;
  for (let i = 0; i < n; i++) {
    for (let e = 0; e < positions * C; e++) {
      const v = A[i * D + index[e]];
      if (v < 0) negative++;
      V[i * positions * C + e] = Math.max(0, v);
    }
  }
  if (negative > A.length * 0.01) {
    const usable = lens.classifier
      .layers()
      .filter((l) => l.nonNegative)
      .map((l) => l.name);
    throw new UserError(
      `layer ${o.layer}: ${((100 * negative) / A.length).toFixed(0)}% of its activations are negative; NMF needs a layer after a ReLU` +
        (usable.length ? ` (non-negative layers of this model: ${usable.join(', ')})` : ''),
    );
  }
  const K = Math.min(o.conceptsCount, C);
  lens.progress.start(`${o.layer}: NMF`, 1);
  // Coordinate descent (HALS): scikit-learn's default NMF solver; on the default explain run it
  // reaches multiplicative updates' error within 1% in 29 iterations instead of 220 (bench:nmf).
  const f = await nmfAsync(V, n * positions, C, K, {
    seed: o.seed,
    maxIterations: 300,
    solver: 'hals',
  });
  lens.progress.tick();
  lens.progress.stop();

  // Presence of each component in each excerpt: its mean coefficient over positions.
  const presence = new Float64Array(n * K);
  for (let i = 0; i < n; i++) {
    for (let q = 0; q < positions; q++)
      for (let k = 0; k < K; k++)
        presence[i * K + k] += f.W[(i * positions + q) * K + k] / positions;
  }

  // Weights: derivative of each target's logit along each component, broadcast over positions.
  const directions = [...Array(K).keys()].map((k) => {
    const v = new Float32Array(D);
    for (let e = 0; e < positions * C; e++) v[index[e]] = f.H[k * C + (e % C)];
    return v;
  });
  const usable = directions.map((d) => d.some((x) => x > 0));
  const classes = o.targets.map((t) => lens.labels.indexOf(t));
  const head = await lens.head(o.layer);
  let derivs: Float32Array;
  let fidelity: number;
  try {
    lens.progress.start(`${o.layer}: component weights`, 2);
    derivs = await head.directionalDerivatives(
      A,
      n,
      directions.map((d, k) => (usable[k] ? d : Float32Array.from(d, (_, e) => (e === 0 ? 1 : 0)))),
      classes,
    );
    lens.progress.tick();
    // Fidelity: predictions from the reconstructed activations W H against the original ones.
    const recon = new Float32Array(A.length);
    for (let i = 0; i < n; i++) {
      for (let q = 0; q < positions; q++) {
        const w = (i * positions + q) * K;
        for (let c = 0; c < C; c++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += f.W[w + k] * f.H[k * C + c];
          recon[i * D + index[q * C + c]] = s;
        }
      }
    }
    const logits = await head.logits(recon, n);
    const L = lens.labels.length;
    let same = 0;
    for (let i = 0; i < n; i++)
      if (argmax(logits, i * L, L) === argmax(acts.logits, i * L, L)) same++;
    fidelity = same / n;
    lens.progress.tick();
    lens.progress.stop();
  } finally {
    lens.progress.stop();
  }

  const pValues: number[] = [];
  const importances: Record<string, ComposerImportance>[] = [];
  for (let k = 0; k < K; k++) {
    const importance: Record<string, ComposerImportance> = {};
    o.targets.forEach((target, t) => {
      const values: number[] = [];
      windows.forEach((w, i) => {
        if (w.composer === target) values.push(derivs[(i * K + k) * o.targets.length + t]);
      });
      const s = meanStd(values);
      const entry: ComposerImportance = { value: usable[k] ? s.mean : 0, std: s.std };
      // One-sample t-test of the weight against 0, skipped when the head is linear from this layer
      // (pooling then a dense layer, as after layer4): the weight is then the same exact number for
      // every excerpt, up to float rounding, and there is nothing to test.
      if (usable[k] && values.length > 2 && s.std > 1e-3 * Math.abs(s.mean)) {
        const tStat = s.mean / (s.std / Math.sqrt(values.length));
        entry.pValue = Math.min(
          1,
          2 * (1 - jStat.studentt.cdf(Math.abs(tStat), values.length - 1)),
        );
        pValues.push(entry.pValue);
      }
      importance[target] = entry;
    });
    importances.push(importance);
  }
  const adjusted = holm(pValues);
  let at = 0;
  for (const imp of importances) {
    for (const target of o.targets)
      if (imp[target].pValue !== undefined) imp[target].significant = adjusted[at++] < o.alpha;
  }

  const dominant = [...Array(n).keys()].map((i) => argmax(presence, i * K, K));
  const order = [...Array(K).keys()].sort(
    (a, b) =>
      Math.max(...o.targets.map((t) => importances[b][t].value)) -
      Math.max(...o.targets.map((t) => importances[a][t].value)),
  );
  const { windowFrames, lowPitch, highPitch } = lens.classifier.input;
  const whole = segmentBox('whole', windowFrames, lowPitch, highPitch);
  const audible = audibleParts(lens, lens.classifier.input.fps);
  const concepts: FoundConcept[] = order.map((k, rank) => {
    const byPresence = [...Array(n).keys()].sort(
      (a, b) => presence[b * K + k] - presence[a * K + k],
    );
    const parts: Part[] = windows.map((excerpt) => ({ excerpt, segment: 'whole', box: whole }));
    const top = Math.max(...byPresence.map((i) => presence[i * K + k])) || 1;
    const found = (i: number): FoundExcerpt => {
      const values: number[] = [];
      let max = 0;
      for (let q = 0; q < positions; q++) max = Math.max(max, f.W[(i * positions + q) * K + k]);
      for (let q = 0; q < positions; q++)
        values.push(max > 0 ? f.W[(i * positions + q) * K + k] / max : 0);
      return {
        ...parts[i],
        typicality: presence[i * K + k] / top,
        ...(map.localised ? { localization: { rows: map.rows, cols: map.cols, values } } : {}),
      };
    };
    const members = [...Array(n).keys()].filter((i) => dominant[i] === k);
    return {
      id: `nmf-${o.layer}-${String(rank + 1).padStart(2, '0')}`,
      layer: o.layer,
      method: 'nmf' as const,
      importance: importances[k],
      pieces: new Set(members.map((i) => windows[i].piece)).size,
      members: members.length,
      typical: distinctPieces(byPresence, parts, o.top, audible).map(found),
      least: distinctPieces(byPresence.slice().reverse(), parts, o.least, audible).map(found),
    };
  });
  return {
    concepts,
    info: {
      method: 'nmf',
      layer: o.layer,
      axes: describeAxes(layer.shape, layer.axes),
      // Localisation grid: rows are time, columns pitch (1 when the layer has no such axis).
      map: map.localised ? { rows: map.rows, cols: map.cols } : null,
      ...(map.reason ? { unlocalised: `the layer cannot localise concepts: ${map.reason}` } : {}),
      excerpts: n,
      components: K,
      fidelity,
      relativeError: f.relativeError,
      iterations: f.iterations,
    },
  };
}

/**
 * A part offered as an example must sound: at least this many notes start inside it (its time span
 * and, for a bass or treble part, its pitch band). A window of rests or of one held chord is the
 * "least typical" member of almost any concept, and shows a listener nothing.
 */
export const MIN_EXCERPT_NOTES = 6;

/** Whether a part holds at least MIN_EXCERPT_NOTES onsets; files are read once per call site. */
function audibleParts(lens: ConceptLens, fps: number): (part: Part) => boolean {
  const notes = new Map<string, readonly { pitch: number; onset: number }[]>();
  return (part) => {
    const x = part.excerpt;
    let list = notes.get(x.file);
    if (!list) {
      list = lens.index.content(x.file).notes.map((n) => ({ pitch: n.pitch, onset: n.onset }));
      notes.set(x.file, list);
    }
    const from = x.start + part.box.frames[0] / fps;
    const to = x.start + part.box.frames[1] / fps;
    let count = 0;
    for (const n of list) {
      if (
        n.onset >= from &&
        n.onset < to &&
        n.pitch >= part.box.pitches[0] &&
        n.pitch <= part.box.pitches[1]
      )
        if (++count >= MIN_EXCERPT_NOTES) return true;
    }
    return false;
  };
}

/** The first `count` of `order` whose pieces have not been taken yet and that sound. */
function distinctPieces(
  order: number[],
  parts: Part[],
  count: number,
  audible: (part: Part) => boolean,
): number[] {
  const seen = new Set<string>();
  const out: number[] = [];
  for (const i of order) {
    if (out.length >= count) break;
    const piece = parts[i].excerpt.piece;
    if (seen.has(piece) || !audible(parts[i])) continue;
    seen.add(piece);
    out.push(i);
  }
  return out;
}

/** A segment's box as a localisation grid (time rows x pitch columns) over the window. */
function boxGrid(box: SegmentBox, frames: number, low: number, high: number) {
  const rows = 20;
  const cols = 22;
  const values: number[] = [];
  for (let r = 0; r < rows; r++) {
    const t = ((r + 0.5) / rows) * frames;
    for (let c = 0; c < cols; c++) {
      const p = low + ((c + 0.5) / cols) * (high - low + 1);
      values.push(
        t >= box.frames[0] && t < box.frames[1] && p >= box.pitches[0] && p <= box.pitches[1] + 1
          ? 1
          : 0,
      );
    }
  }
  return { rows, cols, values };
}

function argmax(x: ArrayLike<number>, start: number, count: number): number {
  let best = 0;
  for (let j = 1; j < count; j++) if (x[start + j] > x[start + best]) best = j;
  return best;
}
