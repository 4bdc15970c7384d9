import { applyEdits, renderEdited } from '../edits/apply.ts';
import { EditCandidates, SMALL_EDIT_COST, type EditFlag } from '../edits/candidates.ts';
import type { EditGrid, NoteEdit } from '../edits/types.ts';
import { parseMidi } from '../midi/read.ts';
import { renderRoll } from '../midi/render.ts';
import type { PianoRoll, RollLayout } from '../midi/roll.ts';
import type { Note } from '../midi/types.ts';
import { notesToMidiBytes } from '../midi/write.ts';
import { silentProgress, type Progress } from '../util/progress.ts';
import { Rng } from '../util/random.ts';
import type { AttackExcerpt } from './excerpts.ts';
import type { AttackModel } from './model.ts';
import { firstOrderEffects, smallestK } from './rank.ts';

/**
 * Two searches for a small set of note edits that changes the model's composer for an excerpt it
 * classifies correctly. Both add one edit at a time (each note edited at most once) and stop at the
 * first set that changes the prediction, or at the budget:
 *
 * - greedy: rank every candidate edit (src/edits/candidates.ts) by its first-order effect on the
 *   margin (true composer's logit minus the strongest other's), from the input gradient of that
 *   margin; the model then checks the `candidates` best and the search keeps the one that lowers
 *   the margin most. Without input gradients (a model layer that cannot differentiate), the model
 *   checks `fallbackCandidates` random candidates instead (model-scored greedy).
 * - random: one random valid edit per step (a kind at random, then one of its candidates), seeded
 *   by the excerpt's content: the baseline.
 *
 * Edits are musical (src/edits/candidates.ts): added notes stay in the excerpt's local key, no
 * edit makes two notes of one pitch overlap, and each edit has a musical cost. The searches run in
 * two tiers: first with the musically small edits only (cost <= SMALL_EDIT_COST: deleting a note,
 * adding a consonant note of the key, nudging a note by a frame or two, changing a length within
 * the local note values); only an excerpt that no small-edit search flips within the budget is
 * searched again from scratch with every edit (octave displacements, new dissonances, long notes).
 * Within a greedy step, when several checked candidates change the prediction, the cheapest wins;
 * otherwise the one that lowers the margin most. The random baseline draws small edits only.
 *
 * A change of prediction counts only if it survives writing the edited excerpt as MIDI and reading
 * it back (it does by construction, see src/edits; checked anyway, the search goes on if not).
 * Excerpts are processed in chunks, all of a chunk's candidates in one batch of model runs.
 */
export interface SearchOptions {
  budget: number;
  /** Greedy: candidates the model checks per step, the best by the gradient's ranking. */
  candidates: number;
  /** Greedy without gradients: random candidates the model checks per step. */
  fallbackCandidates: number;
  seed: number | string;
  /** Excerpts searched together (bounds memory: chunk x candidates rolls at once). */
  chunk?: number;
  progress?: Progress;
}

/** The musical cost of an edit as the search judged it when it made it. */
export interface EditJudgement {
  cost: number;
  flags: EditFlag[];
}

export interface SearchResult {
  success: boolean;
  /** Edits made, in order (the budget's worth when unsuccessful). */
  edits: NoteEdit[];
  /** Cost and flags of each edit, in the same order. */
  judged: EditJudgement[];
  /** 'small': found (or tried) with the small edits only; 'any': the small tier failed, every edit allowed. */
  tier: 'small' | 'any';
  logitsBefore: Float32Array;
  logitsAfter: Float32Array;
  predicted: number;
}

interface State {
  x: AttackExcerpt;
  label: number;
  edits: NoteEdit[];
  judged: EditJudgement[];
  edited: Set<number>;
  roll: PianoRoll;
  logits: Float32Array;
  before: Float32Array;
  rng: Rng;
  done: boolean;
  success: boolean;
  maxCost: number;
}

export type SearchKind = 'greedy' | 'random';

export async function searchEdits(
  kind: SearchKind,
  model: AttackModel,
  excerpts: readonly AttackExcerpt[],
  labels: readonly number[],
  logits: Float32Array,
  layout: RollLayout,
  grid: EditGrid,
  options: SearchOptions,
): Promise<SearchResult[]> {
  const C = model.labels.length;
  const fresh = (i: number, maxCost: number): State => ({
    x: excerpts[i],
    label: labels[i],
    edits: [],
    judged: [],
    edited: new Set(),
    roll: excerpts[i].roll,
    logits: logits.slice(i * C, (i + 1) * C),
    before: logits.slice(i * C, (i + 1) * C),
    rng: new Rng(
      `${options.seed}/${kind}/${excerpts[i].contentKey}${maxCost === Infinity ? '/any' : ''}`,
    ),
    done: argmax(logits.subarray(i * C, (i + 1) * C)) !== labels[i],
    success: false,
    maxCost,
  });
  const states: State[] = excerpts.map((_, i) => fresh(i, SMALL_EDIT_COST));
  const progress = options.progress ?? silentProgress;
  const run = async (list: State[], label: string) => {
    progress.start(label, list.length);
    const chunk = options.chunk ?? (kind === 'greedy' ? 8 : 64);
    for (let s = 0; s < list.length; s += chunk) {
      const part = list.slice(s, s + chunk);
      while (part.some((st) => !st.done)) {
        const active = part.filter((st) => !st.done);
        if (kind === 'greedy') await greedyStep(model, active, layout, grid, options);
        else await randomStep(model, active, layout, grid);
        await verifyFlips(model, active, layout, grid);
        for (const st of active) if (!st.done && st.edits.length >= options.budget) st.done = true;
      }
      progress.tick(part.length);
    }
    progress.stop();
  };
  await run(states, `${kind} attack, small edits`);
  // The greedy search's second tier: every edit, for the excerpts small edits did not flip.
  const tiers = states.map(() => 'small' as 'small' | 'any');
  if (kind === 'greedy') {
    const again = states.map((st, i) => ({ st, i })).filter(({ st }) => !st.success);
    const retry = again.map(({ i }) => fresh(i, Infinity));
    if (retry.length > 0) await run(retry, `${kind} attack, every edit`);
    again.forEach(({ i }, k) => {
      states[i] = retry[k];
      tiers[i] = 'any';
    });
  }
  return states.map((st, i) => ({
    success: st.success,
    edits: st.edits,
    judged: st.judged,
    tier: tiers[i],
    logitsBefore: st.before,
    logitsAfter: st.logits,
    predicted: argmax(st.logits),
  }));
}

/** The candidates of a state: musical edits of its excerpt as edited so far, within its tier. */
function candidatesOf(st: State, grid: EditGrid): EditCandidates {
  return EditCandidates.enumerate(st.x.notes, grid, {
    exclude: st.edited,
    roll: st.roll,
    current: st.edits.length ? applyEdits(st.x.notes, st.edits, grid) : st.x.notes,
    ...(st.x.keyAt ? { keyAt: st.x.keyAt } : {}),
    maxCost: st.maxCost,
  });
}

async function greedyStep(
  model: AttackModel,
  states: State[],
  layout: RollLayout,
  grid: EditGrid,
  options: SearchOptions,
): Promise<void> {
  const C = model.labels.length;
  let grads: Float32Array | undefined;
  if (model.gradients) {
    const weights = new Float32Array(states.length * C);
    states.forEach((st, i) => {
      weights[i * C + st.label] = 1;
      weights[i * C + runnerUp(st.logits, st.label)] = -1;
    });
    grads = await model.gradients(
      states.map((st) => st.roll),
      weights,
    );
  }
  const size = states[0].roll.data.length;
  const tried: { state: State; edit: NoteEdit; judged: EditJudgement; roll: PianoRoll }[] = [];
  states.forEach((st, i) => {
    const cands = candidatesOf(st, grid);
    let picks: number[];
    if (grads) {
      const effects = firstOrderEffects(cands, st.roll, grads.subarray(i * size, (i + 1) * size));
      picks = smallestK(effects, options.candidates);
    } else {
      const seen = new Set<number>();
      for (
        let k = 0;
        k < 4 * options.fallbackCandidates && seen.size < options.fallbackCandidates;
        k++
      ) {
        const j = cands.random(st.rng);
        if (j !== undefined) seen.add(j);
      }
      picks = [...seen];
    }
    for (const j of picks) {
      const edit = cands.edit(j);
      tried.push({
        state: st,
        edit,
        judged: { cost: cands.cost[j], flags: cands.flagNames(j) },
        roll: renderEdited(st.x.notes, [...st.edits, edit], layout, grid),
      });
    }
    if (picks.length === 0) st.done = true; // nothing left to edit
  });
  if (tried.length === 0) return;
  const out = await model.logits(tried.map((t) => t.roll));
  // Per excerpt: the cheapest candidate that changes the prediction, else the lowest margin.
  const best = new Map<State, { k: number; margin: number; flips: boolean; cost: number }>();
  tried.forEach((t, k) => {
    const m = margin(out.subarray(k * C, (k + 1) * C), t.state.label);
    const flips = m < 0;
    const cost = t.judged.cost;
    const b = best.get(t.state);
    const better =
      !b ||
      (flips && !b.flips) ||
      (flips && b.flips && (cost < b.cost || (cost === b.cost && m < b.margin))) ||
      (!flips && !b.flips && m < b.margin);
    if (better) best.set(t.state, { k, margin: m, flips, cost });
  });
  for (const [st, { k }] of best) {
    st.edits.push(tried[k].edit);
    st.judged.push(tried[k].judged);
    const e = tried[k].edit;
    if (e.kind !== 'add') st.edited.add(e.note);
    st.roll = tried[k].roll;
    st.logits = out.slice(k * C, (k + 1) * C);
  }
}

async function randomStep(
  model: AttackModel,
  states: State[],
  layout: RollLayout,
  grid: EditGrid,
): Promise<void> {
  const C = model.labels.length;
  const moved: State[] = [];
  for (const st of states) {
    const cands = candidatesOf(st, grid);
    const j = cands.random(st.rng);
    if (j === undefined) {
      st.done = true;
      continue;
    }
    const edit = cands.edit(j);
    st.edits.push(edit);
    st.judged.push({ cost: cands.cost[j], flags: cands.flagNames(j) });
    if (edit.kind !== 'add') st.edited.add(edit.note);
    st.roll = renderEdited(st.x.notes, st.edits, layout, grid);
    moved.push(st);
  }
  if (moved.length === 0) return;
  const out = await model.logits(moved.map((st) => st.roll));
  moved.forEach((st, k) => (st.logits = out.slice(k * C, (k + 1) * C)));
}

/** States whose prediction changed: confirm it through a MIDI write and read, then stop them. */
async function verifyFlips(
  model: AttackModel,
  states: State[],
  layout: RollLayout,
  grid: EditGrid,
): Promise<void> {
  const flipped = states.filter((st) => !st.done && argmax(st.logits) !== st.label);
  if (flipped.length === 0) return;
  const rolls = flipped.map((st) =>
    renderRoll(roundTrip(applyEdits(st.x.notes, st.edits, grid)), layout, grid.frames / grid.fps),
  );
  const C = model.labels.length;
  const out = await model.logits(rolls);
  flipped.forEach((st, k) => {
    const logits = out.subarray(k * C, (k + 1) * C);
    if (argmax(logits) === st.label) return; // did not survive the round trip: keep searching
    st.logits = logits.slice();
    st.done = true;
    st.success = true;
  });
}

/** Notes as a MIDI file written and read back holds them. */
export function roundTrip(notes: readonly Note[]): Note[] {
  return notes.length === 0 ? [] : parseMidi(notesToMidiBytes(notes)).notes;
}

export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

function runnerUp(logits: ArrayLike<number>, label: number): number {
  let best = -1;
  for (let i = 0; i < logits.length; i++)
    if (i !== label && (best < 0 || logits[i] > logits[best])) best = i;
  return best;
}

/** Logit of the true class minus the highest other logit: negative once the prediction changed. */
export function margin(logits: ArrayLike<number>, label: number): number {
  return logits[label] - logits[runnerUp(logits, label)];
}
