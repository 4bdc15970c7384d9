import { splitPieces } from '../corpus/split.ts';
import type { Excerpt } from '../corpus/types.ts';
import type { TextureName } from '../detect/index.ts';
import { detectPiece, windowTextures } from '../detect/index.ts';
import type { ConceptLens } from '../lens/lens.ts';
import type { Note } from '../midi/types.ts';
import { excerptNotes } from '../midi/write.ts';
import { Rng } from '../util/random.ts';
import type { BankConcept, BankLayer, ConceptBank } from './build.ts';
import { precisionRecall, probability, rocAuc } from './calibration.ts';
import { detectorFor } from './labels.ts';
import { presence, project } from './presence.ts';

/**
 * Whether a bank's "where" answers are true of the notes (bench:where and the shared fugue test).
 * For every concept a detector covers, on windows of held-out pieces (validation and test split,
 * no piece a concept draws from): AUC of the window's presence against the detector's label,
 * precision and recall at "present", the pointing game (is a piece's top window a labelled one),
 * and a splice test (a labelled window of one held-out piece pasted into another at a known place:
 * the rank of that place among the host's windows). Beside the concept's direction: a seeded
 * random direction of the same layer (the floor) and the detector's own window share (the
 * ceiling). Rules over the notes label and score; the concept's figures come from activations.
 */

export interface ScoreFigures {
  auc: number;
  precision: number;
  recall: number;
  /** Pieces with a labelled and an unlabelled window whose top window is labelled / such pieces. */
  pointing: number;
  pointingPieces: number;
  /** Splice test: median rank (1 = top) of the spliced window among the host's windows, and hosts. */
  spliceMedianRank: number;
  spliceTop1: number;
  spliceWindows: number;
  splices: number;
}

export interface WhereRow {
  concept: string;
  layer: string;
  detector: TextureName;
  windows: number;
  positives: number;
  pieces: number;
  /** What the bank says (its own held-out check), or undefined when not calibrated. */
  bankLocalises?: boolean;
  bankReason?: string;
  concept_: ScoreFigures;
  random: ScoreFigures;
  ceiling: ScoreFigures;
  /** AUC >= 0.9 and precision >= 0.8 here. */
  localises: boolean;
}

/** Pieces named by the concepts' `corpus:` examples (file paths relative to the corpus root). */
export function piecesOfFiles(lens: ConceptLens, files: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const f of files) {
    const e = lens.index.entries.get(f);
    if (e) out.add(e.piece);
  }
  return out;
}

/** Windows of held-out pieces (validation and test), pieces in `excluded` left out. */
export function heldOutWindows(
  lens: ConceptLens,
  splitSeed: number,
  excluded: ReadonlySet<string>,
): Excerpt[] {
  const sides = splitPieces([...lens.index.entries.values()], { seed: splitSeed });
  return lens.index
    .excerpts(lens.targets())
    .filter((x) => sides.get(x.piece) !== 'train' && !excluded.has(x.piece));
}

function unitRandom(size: number, seed: string): Float32Array {
  const rng = new Rng(seed);
  const v = new Float32Array(size);
  let norm = 0;
  for (let i = 0; i < size; i++) {
    // Box-Muller.
    const u = Math.max(1e-12, rng.next());
    const g = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
    v[i] = g;
    norm += g * g;
  }
  for (let i = 0; i < size; i++) v[i] /= Math.sqrt(norm);
  return v;
}

/** The presence a page shows for a projection: calibrated probability, else the rank. */
export function lanePresence(layer: BankLayer, projection: number): number {
  return layer.calibration
    ? probability(layer.calibration.platt, projection)
    : presence(layer.reference, projection);
}

function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export async function evaluateWhere(
  lens: ConceptLens,
  bank: ConceptBank,
  options: { windows: Excerpt[]; seed: number; splices: number; log?: (l: string) => void },
): Promise<WhereRow[]> {
  const lanes: { concept: BankConcept; layer: BankLayer; detector: TextureName }[] = [];
  for (const concept of bank.concepts) {
    const detector = detectorFor(concept.name);
    if (detector) for (const layer of concept.layers) lanes.push({ concept, layer, detector });
  }
  if (lanes.length === 0) return [];
  const textures = [...new Set(lanes.map((l) => l.detector))];
  const layers = [...new Set(lanes.map((l) => l.layer.layer))];
  const windows = options.windows;
  // Detector labels and shares per window (each file detected once).
  const share = new Map<TextureName, Float64Array>(
    textures.map((t) => [t, new Float64Array(windows.length)]),
  );
  const byFile = new Map<string, number[]>();
  windows.forEach((w, i) => {
    if (!byFile.has(w.file)) byFile.set(w.file, []);
    byFile.get(w.file)!.push(i);
  });
  const notesOf = new Map<string, Note[]>();
  for (const [file, idx] of byFile) {
    const content = lens.index.content(file);
    notesOf.set(file, content.notes);
    const piece = detectPiece(content.notes, content.timeMap, textures);
    for (const i of idx) {
      const w = windowTextures(piece, windows[i].start, windows[i].end);
      for (const t of textures) share.get(t)![i] = w.share[t];
    }
  }
  const labels = new Map(textures.map((t) => [t, Array.from(share.get(t)!, (s) => s >= 0.5)]));
  // Scorers per lane: the concept's presence, a random direction's projection.
  const random = new Map(
    lanes.map((l) => [
      l,
      unitRandom(l.layer.size, `${options.seed}/where/random/${l.layer.layer}/${l.concept.name}`),
    ]),
  );
  const conceptScore = new Map(lanes.map((l) => [l, new Float64Array(windows.length)]));
  const randomScore = new Map(lanes.map((l) => [l, new Float64Array(windows.length)]));
  const chunk = 256;
  for (let start = 0; start < windows.length; start += chunk) {
    const part = windows.slice(start, start + chunk);
    const a = await lens.activations(
      await lens.corpusItemsAsync(part),
      layers,
      'where: held-out windows',
    );
    for (const l of lanes) {
      const acts = a.layers[l.layer.layer];
      const p = project(acts, a.n, l.layer.direction);
      conceptScore.get(l)!.set(
        p.map((x) => lanePresence(l.layer, x)),
        start,
      );
      randomScore.get(l)!.set(project(acts, a.n, random.get(l)!), start);
    }
  }
  // Splices: per texture, donors are labelled windows, hosts are pieces with no labelled window;
  // the donor's notes replace the host's in one window-aligned place.
  const pieceOf = windows.map((w) => w.piece);
  const rows: WhereRow[] = [];
  const W = lens.classifier.input.windowFrames / lens.classifier.input.fps;
  for (const l of lanes) {
    const y = labels.get(l.detector)!;
    const c = conceptScore.get(l)!;
    const r = randomScore.get(l)!;
    const d = share.get(l.detector)!;
    const figures = (score: ArrayLike<number>, present: (i: number) => boolean) => {
      const pr = precisionRecall(
        Array.from({ length: y.length }, (_, i) => present(i)),
        y,
      );
      const byPiece = new Map<string, number[]>();
      pieceOf.forEach((p, i) => {
        if (!byPiece.has(p)) byPiece.set(p, []);
        byPiece.get(p)!.push(i);
      });
      let hits = 0;
      let counted = 0;
      for (const idx of byPiece.values()) {
        const pos = idx.filter((i) => y[i]).length;
        if (pos === 0 || pos === idx.length) continue;
        counted++;
        let best = idx[0];
        for (const i of idx) if (score[i] > score[best]) best = i;
        if (y[best]) hits++;
      }
      return {
        auc: rocAuc(score, y),
        ...pr,
        pointing: counted ? hits / counted : NaN,
        pointingPieces: counted,
      };
    };
    const cal = l.layer.calibration;
    const conceptFigures = figures(c, (i) => (cal ? c[i] >= cal.threshold : false));
    // The random direction's "present": the same share of windows as the concept's calibration
    // calls present (or the labelled share), its top windows.
    const claimed = Math.max(
      1,
      cal ? Array.from(c).filter((v) => v >= cal.threshold).length : y.filter(Boolean).length,
    );
    const cut = [...r].sort((a, b) => b - a)[Math.min(r.length - 1, claimed - 1)];
    const randomFigures = figures(r, (i) => r[i] >= cut);
    const ceilingFigures = figures(d, (i) => y[i]);
    const splice = await spliceTest(lens, l, {
      windows,
      labels: y,
      notesOf,
      count: options.splices,
      seed: `${options.seed}/where/splice/${l.concept.name}/${l.layer.layer}`,
      random: random.get(l)!,
      windowSeconds: W,
    });
    const positives = y.filter(Boolean).length;
    rows.push({
      concept: l.concept.name,
      layer: l.layer.layer,
      detector: l.detector,
      windows: windows.length,
      positives,
      pieces: new Set(pieceOf).size,
      ...(cal
        ? { bankLocalises: cal.localises, ...(cal.reason ? { bankReason: cal.reason } : {}) }
        : {}),
      concept_: { ...conceptFigures, ...splice.concept },
      random: { ...randomFigures, ...splice.random },
      ceiling: { ...ceilingFigures, ...splice.ceiling },
      localises: conceptFigures.auc >= 0.9 && conceptFigures.precision >= 0.8,
    });
    options.log?.(`where: ${l.concept.name} at ${l.layer.layer} done`);
  }
  return rows;
}

type SpliceFigures = Pick<
  ScoreFigures,
  'spliceMedianRank' | 'spliceTop1' | 'spliceWindows' | 'splices'
>;

async function spliceTest(
  lens: ConceptLens,
  l: { layer: BankLayer; detector: TextureName },
  o: {
    windows: Excerpt[];
    labels: boolean[];
    notesOf: Map<string, Note[]>;
    count: number;
    seed: string;
    random: Float32Array;
    windowSeconds: number;
  },
): Promise<{ concept: SpliceFigures; random: SpliceFigures; ceiling: SpliceFigures }> {
  const none: SpliceFigures = {
    spliceMedianRank: NaN,
    spliceTop1: NaN,
    spliceWindows: NaN,
    splices: 0,
  };
  const donors = o.windows.map((_, i) => i).filter((i) => o.labels[i]);
  const labelledPieces = new Set(donors.map((i) => o.windows[i].piece));
  const hostFiles = [
    ...new Set(o.windows.filter((w) => !labelledPieces.has(w.piece)).map((w) => w.file)),
  ].sort();
  if (donors.length === 0 || hostFiles.length === 0)
    return { concept: none, random: none, ceiling: none };
  const rng = new Rng(o.seed);
  const W = o.windowSeconds;
  const ranks = { concept: [] as number[], random: [] as number[], ceiling: [] as number[] };
  let windowsCount = 0;
  for (let k = 0; k < o.count; k++) {
    const donor = o.windows[donors[rng.int(0, donors.length - 1)]];
    const hostFile = hostFiles[rng.int(0, hostFiles.length - 1)];
    const host = lens.index.content(hostFile);
    const slots = Math.floor(host.durationSeconds / W);
    if (slots < 2) continue;
    const slot = rng.int(0, slots - 1);
    const at = slot * W;
    const pasted = excerptNotes(o.notesOf.get(donor.file)!, donor.start, donor.end).map((n) => ({
      ...n,
      onset: n.onset + at,
      offset: n.offset + at,
    }));
    const notes = [
      ...host.notes.filter((n) => n.offset <= at || n.onset >= at + W),
      ...pasted,
    ].sort((a, b) => a.onset - b.onset || a.pitch - b.pitch);
    const items = [...Array(slots).keys()].map((s) =>
      lens.notesItem(`where-splice:${o.seed}:${k}:${s}`, excerptNotes(notes, s * W, (s + 1) * W)),
    );
    const a = await lens.activations(items, [l.layer.layer], 'where: splices');
    const acts = a.layers[l.layer.layer];
    const c = [...project(acts, a.n, l.layer.direction)].map((x) => lanePresence(l.layer, x));
    const r = [...project(acts, a.n, o.random)];
    const piece = detectPiece(notes, host.timeMap, [l.detector]);
    const d = [...Array(slots).keys()].map(
      (s) => windowTextures(piece, s * W, (s + 1) * W).share[l.detector],
    );
    const rank = (score: number[]) =>
      1 + score.filter((v, s) => s !== slot && v > score[slot]).length;
    ranks.concept.push(rank(c));
    ranks.random.push(rank(r));
    ranks.ceiling.push(rank(d));
    windowsCount += slots;
  }
  const fig = (xs: number[]): SpliceFigures => ({
    spliceMedianRank: median(xs),
    spliceTop1: xs.length ? xs.filter((x) => x === 1).length / xs.length : NaN,
    spliceWindows: xs.length ? windowsCount / xs.length : NaN,
    splices: xs.length,
  });
  return { concept: fig(ranks.concept), random: fig(ranks.random), ceiling: fig(ranks.ceiling) };
}

/** Mean presence (as pages show it) of each concept over every window of the given files. */
export async function meanPresence(
  lens: ConceptLens,
  bank: ConceptBank,
  files: readonly string[],
): Promise<{ concept: string; layer: string; mean: number; windows: number; status: string }[]> {
  const windows = files.flatMap((f) => lens.index.windows.get(f) ?? []);
  const out: { concept: string; layer: string; mean: number; windows: number; status: string }[] =
    [];
  const layers = [...new Set(bank.concepts.flatMap((c) => c.layers.map((l) => l.layer)))];
  const a = await lens.activations(await lens.corpusItemsAsync(windows), layers, 'where: pieces');
  for (const c of bank.concepts)
    for (const l of c.layers) {
      const p = project(a.layers[l.layer], a.n, l.direction);
      const values = [...p].map((x) => lanePresence(l, x));
      out.push({
        concept: c.name,
        layer: l.layer,
        mean: values.reduce((s, v) => s + v, 0) / Math.max(1, values.length),
        windows: values.length,
        status: l.calibration
          ? l.calibration.localises
            ? 'localises'
            : 'does not localise'
          : 'not calibrated (rank)',
      });
    }
  return out;
}

/**
 * The TCAV flags of a bank saved for the "where" checks (bench:where, the shared fugue test): the
 * CAVs are what a bank keeps, so TCAV's effect statistics are kept small.
 */
export const WHERE_BANK_FLAGS: readonly string[] = [
  '--random-runs',
  '20',
  '--target-excerpts',
  '20',
  '--effect-windows',
  '0',
  '--pool-size',
  '1000',
  '--null-concepts',
  '200',
];
