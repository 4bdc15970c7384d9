import { estimateKey, keyName, spellPitch } from '../key/index.ts';
import { renderRoll } from '../midi/render.ts';
import { barToSeconds, secondsToBar } from '../midi/timemap.ts';
import type { Note, TimeMap } from '../midi/types.ts';
import type { ComposerClassifier } from '../model/classifier.ts';
import { itemToRollOrder, rollLayoutOf, rollsToBatch } from '../model/input.ts';
import { pitchCount } from '../model/spec.ts';
import type { GradientResult, NoteEffect } from '../results/gradient.ts';
import { UserError } from '../util/errors.ts';

/**
 * The gradient of one composer's logit with respect to the piano roll of one excerpt: for every
 * (channel, frame, pitch) cell, how much the logit would rise per unit of that cell's value, to
 * first order. Red where switching a cell on would raise it, blue where it would lower it. Each
 * note also gets its gradient x input (the sum over the cells it lights of gradient times value):
 * to first order, how much the logit owes to that note (removing it changes the logit by about
 * minus that amount).
 *
 * An excerpt longer than one model window (bars 9-12 of a slow piece) is heard as consecutive
 * windows laid end to end, as the timeline hears a piece: each window's gradient is that of its own
 * logit, and the maps are joined, so the page covers every bar asked for, not only the first
 * window of it.
 */

/** Most model windows one gradient page covers (a longer excerpt is a user error). */
export const MAX_GRADIENT_WINDOWS = 16;

export interface ExcerptPlace {
  /** The piece's time map and where the excerpt starts in it (seconds), for bars and beats. */
  timeMap: TimeMap;
  start: number;
}

export async function gradientOfExcerpt(
  classifier: ComposerClassifier,
  notes: readonly Note[],
  composer: string,
  seconds: number,
  place?: ExcerptPlace,
): Promise<{ result: Omit<GradientResult, 'source' | 'model'>; gradient: Float32Array }> {
  const classIndex = classifier.labels.indexOf(composer);
  if (classIndex < 0)
    throw new UserError(
      `--composer ${composer}: not a label of the model (${classifier.labels.join(', ')})`,
    );
  const spec = classifier.input;
  const layout = rollLayoutOf(spec);
  const T = spec.windowFrames;
  const P = pitchCount(spec);
  const C = spec.channels.length;
  const K = classifier.classes;
  const frames = Math.max(1, Math.ceil(seconds * spec.fps - 1e-9));
  const tiles = Math.ceil(frames / T);
  if (tiles > MAX_GRADIENT_WINDOWS)
    throw new UserError(
      `the excerpt is ${seconds.toFixed(1)} s, ${tiles} model windows; a gradient page covers at most ${MAX_GRADIENT_WINDOWS} (${((MAX_GRADIENT_WINDOWS * T) / spec.fps).toFixed(0)} s)`,
    );
  const F = tiles * T;
  const roll = renderRoll(notes, layout, F / spec.fps).slice(0, F);
  const batch = rollsToBatch(
    [...Array(tiles).keys()].map((k) => roll.slice(k * T, T)),
    spec,
  );
  const { logits } = await classifier.run(batch, tiles);
  const weights = new Float32Array(tiles * K);
  for (let k = 0; k < tiles; k++) weights[k * K + classIndex] = 1;
  const head = await classifier.inputHead();
  const raw = await classifier.inputGradients(batch, tiles, weights);
  // Back to the roll's [channel][frame][pitch] order over all windows, whatever the layout's axis
  // order: each window's gradient reordered, then placed at its frames.
  const gradient = new Float32Array(C * F * P);
  const per = C * T * P;
  for (let k = 0; k < tiles; k++) {
    const item = itemToRollOrder(raw.subarray(k * per, (k + 1) * per), spec);
    for (let c = 0; c < C; c++)
      gradient.set(item.subarray(c * T * P, (c + 1) * T * P), (c * F + k * T) * P);
  }

  // Pitches are named in the excerpt's key (Krumhansl-Schmuckler over its notes: src/key).
  const key = estimateKey(notes)?.key;
  const effects: NoteEffect[] = [];
  for (const n of notes) {
    if (n.pitch < spec.lowPitch || n.pitch > spec.highPitch || n.onset >= F / spec.fps) continue;
    const alone = renderRoll([n], layout, F / spec.fps).slice(0, F).data;
    let effect = 0;
    for (let i = 0; i < alone.length; i++) if (alone[i] !== 0) effect += gradient[i] * alone[i];
    const at = place ? secondsToBar(place.timeMap, place.start + n.onset) : undefined;
    effects.push({
      pitch: n.pitch,
      onset: n.onset,
      offset: Math.min(n.offset, F / spec.fps),
      velocity: n.velocity,
      effect,
      ...(at ? { bar: at.bar, beat: Math.round(at.beat * 1000) / 1000 } : {}),
      ...(key ? { spelled: spellPitch(n.pitch, key) } : {}),
    });
  }
  // The excerpt's verdict: the mean of its windows' logits (one window: its logits).
  const mean = new Float64Array(K);
  for (let k = 0; k < tiles; k++) for (let j = 0; j < K; j++) mean[j] += logits[k * K + j] / tiles;
  const max = Math.max(...mean);
  const exps = Array.from(mean, (l) => Math.exp(l - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return {
    gradient,
    result: {
      composer,
      classIndex,
      labels: classifier.labels,
      logits: Array.from(mean),
      probabilities: exps.map((e) => e / total),
      windows: tiles,
      ...(key ? { key: keyName(key) } : {}),
      derivatives: head.derivatives,
      ...(head.derivativesNote ? { derivativesNote: head.derivativesNote } : {}),
      input: { ...spec },
      shape: [C, F, P],
      ...(place
        ? { barLines: excerptBarLines(place.timeMap, place.start, place.start + seconds) }
        : {}),
      notes: effects,
    },
  };
}

/**
 * The bar lines that fall inside [start, end] of a piece (seconds), as seconds from `start`, with
 * their bar numbers: the time axis of a page that speaks in bars.
 */
export function excerptBarLines(
  timeMap: TimeMap,
  start: number,
  end: number,
): { bar: number; time: number }[] {
  const out: { bar: number; time: number }[] = [];
  const first = secondsToBar(timeMap, start).bar;
  for (let bar = first; bar < first + 5000; bar++) {
    const t = barToSeconds(timeMap, bar);
    if (t > end + 1e-6) break;
    if (t >= start - 1e-6) out.push({ bar, time: Math.round((t - start) * 1e4) / 1e4 });
  }
  return out;
}

/**
 * `--bars` as a user gives it: `9-12`, `9 12`, `9` (one bar) or `9:12`; bars are 1-based and the
 * range inclusive. A bad range is a UserError naming the flag.
 */
export function parseBarRange(values: readonly (string | number)[]): [number, number] {
  const text = values.map(String).join(' ').trim();
  const m = /^(\d+)(?:\s*(?:-|:|\s|–)\s*(\d+))?$/.exec(text);
  const a = m ? Number(m[1]) : NaN;
  const b = m ? Number(m[2] ?? m[1]) : NaN;
  if (!(Number.isInteger(a) && Number.isInteger(b) && a >= 1 && b >= a))
    throw new UserError(
      `--bars: give the first and last bar, e.g. 9-12 or 9 12 (1-based, inclusive); got ${text || 'nothing'}`,
    );
  return [a, b];
}
