import type { Excerpt } from '../corpus/types.ts';
import type { ConceptLens } from '../lens/lens.ts';
import { renderRoll } from '../midi/render.ts';
import type { Note } from '../midi/types.ts';
import { activations } from '../model/activations.ts';
import { applyEdits, editGrid, type EditGrid, type NoteEdit } from '../edits/index.ts';
import { Rng } from '../util/random.ts';
import type { RetrievalIndex } from './index.ts';
import { forEachDistanceBlock } from './distance.ts';
import { empiricalMp, gaussianMp, type Owner } from './mp.ts';
import { poolActivations } from './pool.ts';
import { Profiles } from './profiles.ts';
import { scaledNeighbours } from './scaled.ts';
import type { Scaling } from './types.ts';

/**
 * A hub attack (after Hoedt, Flexer, Widmer, "Defending a music recommender against hubness-based
 * adversarial attacks", SMC 2022): change a corpus window a little, so that it enters the k
 * nearest lists of as many queries as possible, and measure how far Mutual Proximity stops it.
 *
 * - The changes are musical: deleting notes of the window or adding notes on its grid (at the
 *   onset and with the length and loudness of a note already there; half of them at a pitch of
 *   the window or an octave from one, half at any pitch but the extreme octaves), at most
 *   `budget` x (the window's notes) of them.
 * - The search is greedy and guided by the distances in use (an adaptive attacker knows the
 *   defence): each step tries `candidates` random edits (half deletions, half additions), renders
 *   each through the normal path and the model, and keeps the one that puts the window in the
 *   most queries' k-nearest lists, ties broken by how close it comes to the queries it has nearly
 *   won (see Score); it stops when no edit helps or the budget is spent.
 * - Success rate: the share of queries whose top k holds the attacked window, every window of the
 *   corpus being a query except those of the window's own file (which cannot have it as a hit,
 *   see evaluate.ts); a sample of `queries` of them guides the search. The window replaces the
 *   original in the corpus; the other windows' distance profiles are kept (one window of
 *   thousands changes them little).
 * The edits are the `delete` and `add` edits of src/edits, applied with its `applyEdits`.
 */
export interface HubAttackOptions {
  /** Windows attacked. */
  excerpts: number;
  /** Query windows that guide the search (the success rate counts every window as a query). */
  queries: number;
  k: number;
  /** Edits allowed, as a share of the window's notes (at least one). */
  budget: number;
  /** Edits tried per step. */
  candidates: number;
  /** The attack runs once per scaling, guided by it (an attacker who knows the defence). */
  scalings: readonly Scaling[];
  seed: number | string;
  /** Windows with fewer notes are not attacked (a budget of 5% of them would be under one note). */
  minNotes?: number;
}

export const HUB_ATTACK_DEFAULTS = {
  excerpts: 50,
  queries: 500,
  k: 10,
  budget: 0.05,
  candidates: 64,
  minNotes: 20,
};

export interface AttackRun {
  /** The scaling that guided the search. */
  scaling: Scaling;
  edits: NoteEdit[];
  notes: Note[];
  /** Queries whose top k holds the attacked window, under each scaling (its own, and the others: transfer). */
  hits: Record<Scaling, number>;
  /** Mean log(distance / the query's k-th distance) over the queries it misses, before and after. */
  gapBefore: number;
  gapAfter: number;
}

export interface AttackedWindow {
  index: number;
  excerpt: Excerpt;
  original: Note[];
  budget: number;
  /** Queries that count for this window (not from its file). */
  queries: number;
  /** Hits of the unchanged window, under each scaling. */
  before: Record<Scaling, number>;
  runs: AttackRun[];
}

export interface HubAttackResult {
  options: Required<HubAttackOptions>;
  windows: AttackedWindow[];
  /** Mean success rate over the attacked windows, before and after, per scaling. */
  summary: {
    scaling: Scaling;
    before: number;
    after: number;
    /** The windows attacked with no scaling in view, measured under this scaling. */
    transferred: number;
    /** Share of the windows that were hubs (N_k > 2k over all queries) before, and after. */
    hubsBefore: number;
    hubs: number;
    editsUsed: number;
    gapBefore: number;
    gapAfter: number;
  }[];
}

/** Every window's k+1 nearest under each scaling, as a query sees them (its own file left out). */
interface Thresholds {
  width: number;
  ids: Int32Array;
  scores: Float64Array;
  seconds: Float64Array;
}

interface Score {
  hits: number;
  /** Mean over the queries it misses of log(its distance / the query's k-th distance). */
  gap: number;
  /**
   * What guides the search between hits: sum over missed queries of exp(-gap / PULL_SCALE), which
   * weighs the queries the window has nearly won (a gap of 0.1 counts e^-1, a gap of 1 nothing):
   * winning those is how the window gains hits fastest.
   */
  pull: number;
}

const PULL_SCALE = 0.1;

export async function hubAttack(
  lens: ConceptLens,
  index: RetrievalIndex,
  notesOf: (x: Excerpt) => Note[],
  options: HubAttackOptions,
): Promise<HubAttackResult> {
  const o: Required<HubAttackOptions> = { minNotes: HUB_ATTACK_DEFAULTS.minNotes, ...options };
  const xs = index.excerpts;
  const n = index.n;
  const scalings = [...new Set<Scaling>(['none', ...o.scalings])];
  const thresholds = await queryThresholds(lens, index, scalings, o.k);

  // The search is guided by a sample of queries; the success rate counts every window as a query.
  const rng = new Rng(`${o.seed}/hub-attack`);
  const order = rng.shuffle([...Array(n).keys()]);
  const guide = order.slice(0, Math.min(o.queries, n - 1));
  const targets: { index: number; notes: Note[] }[] = [];
  for (const i of order.slice(guide.length)) {
    if (targets.length >= o.excerpts) break;
    const notes = notesOf(xs[i]);
    if (notes.length >= o.minNotes) targets.push({ index: i, notes });
  }

  const layer = lens.classifier.layer(index.meta.layer);
  const { windowFrames } = lens.classifier.input;
  const grid = editGrid(lens.layout, windowFrames);
  /** Distance rows [m x n] of note lists (windows), through the model but not the cache. */
  const rowsOf = async (lists: readonly Note[][]): Promise<Float32Array[]> => {
    const rolls = lists.map((notes) => renderRoll(notes, lens.layout).slice(0, windowFrames));
    const dims = index.meta.dims;
    const raw = new Float32Array(lists.length * dims);
    const layers = [layer.name];
    for await (const b of activations(lens.classifier, lists.length, (i) => rolls[i], layers)) {
      const out = raw.subarray(b.start * dims, (b.start + b.n) * dims);
      poolActivations(
        b.activations[layer.name],
        b.n,
        layer.shape,
        layer.axes,
        index.meta.pooling,
        out,
      );
    }
    const rows = await index.queryRows(raw, lists.length);
    return lists.map((_, r) => rows.subarray(r * n, (r + 1) * n));
  };

  const progress = lens.progress;
  const windows: AttackedWindow[] = [];
  progress.start('hub attack: windows', targets.length * o.scalings.length);
  for (const target of targets) {
    const x = xs[target.index];
    const all = [...Array(n).keys()].filter((q) => xs[q].file !== x.file);
    const guided = guide.filter((q) => xs[q].file !== x.file);
    const score = (row: Float32Array, scaling: Scaling, queries: number[]) =>
      scoreStandIn(index, thresholds, target.index, row, scaling, queries);
    const budget = Math.max(1, Math.round(o.budget * target.notes.length));
    const [originalRow] = await rowsOf([target.notes]);
    const before = Object.fromEntries(
      scalings.map((s) => [s, score(originalRow, s, all).hits]),
    ) as Record<Scaling, number>;
    const runs: AttackRun[] = [];
    for (const scaling of o.scalings) {
      const edits: NoteEdit[] = [];
      let notes = target.notes;
      let current = score(originalRow, scaling, guided);
      const gapBefore = score(originalRow, scaling, all).gap;
      const search = new Rng(`${o.seed}/hub-attack/${x.id}/${scaling}`);
      for (let step = 0; step < budget; step++) {
        const proposals = propose(target.notes, edits, o.candidates, search, grid);
        if (proposals.length === 0) break;
        const lists = proposals.map((e) => applyEdits(target.notes, [...edits, e], grid));
        const rows = await rowsOf(lists);
        let best = -1;
        let bestScore = current;
        rows.forEach((row, c) => {
          const s = score(row, scaling, guided);
          if (better(s, bestScore)) {
            best = c;
            bestScore = s;
          }
        });
        if (best < 0) break;
        edits.push(proposals[best]);
        notes = lists[best];
        current = bestScore;
      }
      const [finalRow] = edits.length ? await rowsOf([notes]) : [originalRow];
      const final = scalings.map((s) => [s, score(finalRow, s, all)] as const);
      runs.push({
        scaling,
        edits,
        notes,
        hits: Object.fromEntries(final.map(([s, v]) => [s, v.hits])) as Record<Scaling, number>,
        gapBefore,
        gapAfter: final.find(([s]) => s === scaling)![1].gap,
      });
      progress.tick();
    }
    windows.push({
      index: target.index,
      excerpt: x,
      original: target.notes,
      budget,
      queries: all.length,
      before,
      runs,
    });
  }
  progress.stop();

  const rate = (hits: number, w: AttackedWindow) => hits / Math.max(1, w.queries);
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  const run = (w: AttackedWindow, s: Scaling) => w.runs.find((r) => r.scaling === s)!;
  const summary = o.scalings.map((scaling) => ({
    scaling,
    before: mean(windows.map((w) => rate(w.before[scaling], w))),
    after: mean(windows.map((w) => rate(run(w, scaling).hits[scaling], w))),
    transferred: o.scalings.includes('none')
      ? mean(windows.map((w) => rate(run(w, 'none').hits[scaling], w)))
      : NaN,
    hubsBefore: mean(windows.map((w) => (w.before[scaling] > 2 * o.k ? 1 : 0))),
    hubs: mean(windows.map((w) => (run(w, scaling).hits[scaling] > 2 * o.k ? 1 : 0))),
    editsUsed: mean(windows.map((w) => run(w, scaling).edits.length)),
    gapBefore: mean(windows.map((w) => run(w, scaling).gapBefore)),
    gapAfter: mean(windows.map((w) => run(w, scaling).gapAfter)),
  }));
  return { options: o, windows, summary };
}

/** Each window's k+1 nearest other windows (own file left out) under each scaling: one pass. */
async function queryThresholds(
  lens: ConceptLens,
  index: RetrievalIndex,
  scalings: readonly Scaling[],
  k: number,
): Promise<Record<string, Thresholds>> {
  const n = index.n;
  const width = k + 1;
  const xs = index.excerpts;
  const out: Record<string, Thresholds> = {};
  for (const s of scalings)
    out[s] = {
      width,
      ids: new Int32Array(n * width).fill(-1),
      scores: new Float64Array(n * width).fill(Infinity),
      seconds: new Float64Array(n * width).fill(Infinity),
    };
  const progress = lens.progress;
  progress.start('hub attack: queries', n);
  try {
    await forEachDistanceBlock(index.vectors, index.vectors, (start, count, block) => {
      for (let r = 0; r < count; r++) {
        const q = start + r;
        const owner: Owner = {
          row: block.subarray(r * n, (r + 1) * n),
          profiles: index.profiles,
          at: q,
          self: q,
        };
        for (const s of scalings) {
          const top = scaledNeighbours(
            owner,
            index.profiles,
            s,
            width,
            (i) => xs[i].file === xs[q].file,
          );
          out[s].ids.set(top.ids, q * width);
          out[s].scores.set(top.scores, q * width);
          out[s].seconds.set(top.seconds, q * width);
        }
      }
      progress.tick(count);
    });
  } finally {
    progress.stop();
  }
  return out;
}

function better(a: Score, b: Score): boolean {
  return a.hits > b.hits || (a.hits === b.hits && a.pull > b.pull * (1 + 1e-9) + 1e-12);
}

/**
 * How a stand-in for window `target` (its distance row to the corpus) fares as a hit: in how many
 * of the queries' k nearest it is (the query's k-th neighbour taken with the target left out, ties
 * broken by distance), and how far it is from the rest. MP is computed from the stand-in's side
 * (its full row and fresh profile against each query's stored profile), which is the same MP
 * wherever it is exact.
 */
function scoreStandIn(
  index: RetrievalIndex,
  thresholds: Record<string, Thresholds>,
  target: number,
  row: Float32Array,
  scaling: Scaling,
  queries: readonly number[],
): Score {
  let owner: Owner | undefined;
  if (scaling !== 'none') {
    const profile = new Profiles(1, index.profiles.shape);
    profile.setFromRow(0, row, target, index.reference);
    owner = { row, profiles: profile, at: 0, self: target };
  }
  const t = thresholds[scaling];
  const k = t.width - 1;
  let hits = 0;
  let gap = 0;
  let missed = 0;
  let pull = 0;
  for (const q of queries) {
    const d = row[q];
    let s: number;
    if (scaling === 'none') s = d;
    else if (scaling === 'mp-gaussian')
      s = 1 - gaussianMp(d, index.profiles, q, owner!.profiles, 0);
    else s = 1 - empiricalMp(owner!, q, index.profiles);
    // The query's k-th neighbour once the target is out of its list.
    let r = k - 1;
    for (let j = 0; j < k; j++) if (t.ids[q * t.width + j] === target) r = k;
    const kth = t.scores[q * t.width + r];
    const kthPrimary = t.seconds[q * t.width + r];
    if (s < kth || (s === kth && d < kthPrimary)) hits++;
    else {
      const g = Math.log((s + 1e-9) / (kth + 1e-9));
      gap += g;
      pull += Math.exp(-g / PULL_SCALE);
      missed++;
    }
  }
  return { hits, gap: missed ? gap / missed : 0, pull };
}

/** Random edits that are not yet made: deletions of original notes and additions on the grid. */
function propose(
  original: readonly Note[],
  edits: readonly NoteEdit[],
  count: number,
  rng: Rng,
  grid: EditGrid,
): NoteEdit[] {
  const { lowPitch, highPitch } = grid;
  const end = grid.frames / grid.fps;
  const deleted = new Set(edits.flatMap((e) => (e.kind === 'delete' ? [e.note] : [])));
  const remaining = original.map((_, i) => i).filter((i) => !deleted.has(i));
  const out: NoteEdit[] = rng
    .sample(remaining, Math.floor(count / 2))
    .map((note) => ({ kind: 'delete', note }));
  const current = applyEdits(original, edits, grid);
  const pitches = [...new Set(original.map((n) => n.pitch))];
  const seen = new Set<string>();
  for (let tries = 0; out.length < count && tries < 4 * count; tries++) {
    const timing = rng.pick(original);
    // Added notes stay inside the window (a clipped note may end past it in a shorter file).
    if (timing.offset > end + 1e-9) continue;
    // Half near what the window plays, half anywhere but the extreme octaves.
    const pitch = rng.chance(0.5)
      ? rng.pick(pitches) + rng.pick([-12, 0, 0, 12])
      : rng.int(lowPitch + 12, highPitch - 12);
    if (pitch < lowPitch || pitch > highPitch) continue;
    const key = `${pitch}@${timing.onset}`;
    if (seen.has(key)) continue;
    // Not on top of a note of that pitch already sounding.
    if (
      current.some((n) => n.pitch === pitch && n.onset < timing.offset && n.offset > timing.onset)
    )
      continue;
    seen.add(key);
    out.push({
      kind: 'add',
      pitch,
      onset: timing.onset,
      offset: timing.offset,
      velocity: timing.velocity,
    });
  }
  return out;
}
