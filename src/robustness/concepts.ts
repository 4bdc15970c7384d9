import { applyEdits } from '../edits/apply.ts';
import type { EditGrid, NoteEdit } from '../edits/types.ts';
import type { ConceptLens } from '../lens/lens.ts';
import { renderRoll } from '../midi/render.ts';
import type { PianoRoll } from '../midi/roll.ts';
import { rollsToBatch } from '../model/input.ts';
import type { AttackedExcerpt, ConceptPush, ConceptRobustness } from '../results/attack.ts';
import { runTcav, type PreparedConcept } from '../tcav/run.ts';
import type { AttackExcerpt } from './excerpts.ts';

/** A successful attack: the excerpt, its edits, true and new composer (label indices). */
export interface SuccessfulAttack {
  x: AttackExcerpt;
  edits: NoteEdit[];
  label: number;
  predicted: number;
  record: AttackedExcerpt;
}

/**
 * How the concept picture moves under the attack's edits, at one layer:
 * - CAVs of each concept are trained in the run (TCAV's runs against random sets, `onCavs`); a
 *   concept's direction is the normalised mean of its runs' unit CAVs;
 * - presence of a concept in an excerpt: projection of its activation on that direction, before and
 *   after the edits;
 * - push towards the new composer: presence shift times the derivative of (new composer's logit -
 *   true composer's logit) along the direction at the edited excerpt, i.e. the first-order share of
 *   the flip carried by the concept's movement (the concepts are not orthogonal, so shares overlap);
 * - TCAV scores recomputed on the attacked excerpts as target sets: for each composer, the share of
 *   its attacked excerpts whose logit rises along each run's CAV, mean over runs, on the originals
 *   and on the adversarial versions.
 */
export async function conceptRobustness(
  lens: ConceptLens,
  attacks: readonly SuccessfulAttack[],
  o: {
    prepared: PreparedConcept[];
    layer: string;
    runs: number;
    setSize: number;
    targetExcerpts: number;
    seed: number;
    targets: string[];
    grid: EditGrid;
  },
): Promise<ConceptRobustness> {
  const runsOf = new Map<string, Float32Array[]>();
  await runTcav(lens, o.prepared, {
    layers: [o.layer],
    targets: o.targets,
    runs: o.runs,
    setSize: o.setSize,
    targetExcerpts: o.targetExcerpts,
    seed: o.seed,
    onCavs: (c) =>
      runsOf.set(
        c.concept,
        c.directions.filter((d) => norm(d) > 0),
      ),
  });
  const names = o.prepared.map((c) => c.name).filter((n) => (runsOf.get(n) ?? []).length > 0);
  const head = await lens.head(o.layer);
  const empty: ConceptRobustness = {
    layer: o.layer,
    attacks: attacks.length,
    shifts: [],
    towards: [],
    tcav: [],
    derivatives: derivativeKind(head),
  };
  if (attacks.length === 0 || names.length === 0) return empty;

  const directions = names.map((n) => unitMean(runsOf.get(n)!));
  const seconds = o.grid.frames / o.grid.fps;
  const before = await layerActivations(
    lens,
    o.layer,
    attacks.map((a) => a.x.roll),
  );
  const after = await layerActivations(
    lens,
    o.layer,
    attacks.map((a) => renderRoll(applyEdits(a.x.notes, a.edits, o.grid), lens.layout, seconds)),
  );
  const D = head.size;
  const n = attacks.length;
  const K = names.length;
  const C = lens.labels.length;
  const presence = (acts: Float32Array, i: number, k: number) =>
    dot(acts.subarray(i * D, (i + 1) * D), directions[k]);

  // Derivatives of every logit along every concept direction at the edited excerpts: [n, K, C].
  const deriv = await head.directionalDerivatives(after, n, directions);
  const shifts = names.map((concept, k) => {
    const b = attacks.map((_, i) => presence(before, i, k));
    const a = attacks.map((_, i) => presence(after, i, k));
    const d = a.map((v, i) => v - b[i]);
    return { concept, before: mean(b), after: mean(a), shift: mean(d), shiftStd: std(d), d };
  });
  attacks.forEach((att, i) => {
    att.record.concepts = Object.fromEntries(
      names.map((c, k) => [
        c,
        { before: r3(presence(before, i, k)), after: r3(presence(after, i, k)) },
      ]),
    );
  });

  const pairs = new Map<string, number[]>();
  attacks.forEach((a, i) => {
    const key = `${a.label}/${a.predicted}`;
    if (!pairs.has(key)) pairs.set(key, []);
    pairs.get(key)!.push(i);
  });
  const towards = [...pairs.values()]
    .map((idx) => {
      const { label, predicted } = attacks[idx[0]];
      const concepts: ConceptPush[] = names
        .map((concept, k) => {
          const push = idx.map(
            (i) =>
              shifts[k].d[i] *
              (deriv[(i * K + k) * C + predicted] - deriv[(i * K + k) * C + label]),
          );
          return { concept, shift: r3(mean(idx.map((i) => shifts[k].d[i]))), push: r3(mean(push)) };
        })
        .sort((x, y) => y.push - x.push);
      return { from: lens.labels[label], to: lens.labels[predicted], count: idx.length, concepts };
    })
    .sort((x, y) => y.count - x.count || x.from.localeCompare(y.from));

  // TCAV on the attacked excerpts, originals vs adversarial versions, per true composer.
  const tcav: ConceptRobustness['tcav'] = [];
  const byComposer = new Map<number, number[]>();
  attacks.forEach((a, i) => {
    if (!byComposer.has(a.label)) byComposer.set(a.label, []);
    byComposer.get(a.label)!.push(i);
  });
  for (const concept of names) {
    const runs = runsOf.get(concept)!;
    const dBefore = await head.directionalDerivatives(before, n, runs);
    const dAfter = await head.directionalDerivatives(after, n, runs);
    for (const [label, idx] of byComposer) {
      const score = (d: Float32Array) =>
        mean(
          runs.map(
            (_, r) =>
              idx.filter((i) => d[(i * runs.length + r) * C + label] > 0).length / idx.length,
          ),
        );
      tcav.push({
        concept,
        composer: lens.labels[label],
        excerpts: idx.length,
        original: r3(score(dBefore)),
        adversarial: r3(score(dAfter)),
      });
    }
  }

  return {
    ...empty,
    shifts: shifts
      .map(({ d: _d, ...s }) => ({
        concept: s.concept,
        before: r3(s.before),
        after: r3(s.after),
        shift: r3(s.shift),
        shiftStd: r3(s.shiftStd),
      }))
      .sort((a, b) => Math.abs(b.shift) - Math.abs(a.shift)),
    towards,
    tcav,
  };
}

/** Activations at a layer of model-window rolls, in chunks, without the cache (edited excerpts). */
async function layerActivations(
  lens: ConceptLens,
  layer: string,
  rolls: readonly PianoRoll[],
): Promise<Float32Array> {
  const size = lens.classifier.layer(layer).shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(rolls.length * size);
  for (let s = 0; s < rolls.length; s += 32) {
    const part = rolls.slice(s, s + 32);
    const r = await lens.classifier.run(
      rollsToBatch([...part], lens.classifier.input),
      part.length,
      [layer],
    );
    out.set(r.activations[layer], s * size);
  }
  return out;
}

function derivativeKind(head: unknown): string {
  const d = (head as { derivatives?: unknown }).derivatives;
  return typeof d === 'string' ? d : 'finite-difference';
}

function unitMean(vs: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(vs[0].length);
  for (const v of vs) for (let i = 0; i < v.length; i++) out[i] += v[i] / norm(v);
  const n = norm(out);
  return n > 0 ? out.map((x) => x / n) : out;
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function norm(v: Float32Array): number {
  return Math.sqrt(dot(v, v));
}

function mean(v: readonly number[]): number {
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : 0;
}

function std(v: readonly number[]): number {
  if (v.length < 2) return 0;
  const m = mean(v);
  return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1));
}

function r3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
