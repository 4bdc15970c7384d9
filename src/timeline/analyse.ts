import { bankLanes, type ConceptBank } from '../bank/build.ts';
import { probability } from '../bank/calibration.ts';
import { presence, project } from '../bank/presence.ts';
import { UNKNOWN_COMPOSER, type CorpusEntry } from '../corpus/types.ts';
import { activations } from '../model/activations.ts';
import type { ActivationCache } from '../model/cache.ts';
import type { ComposerClassifier } from '../model/classifier.ts';
import { rowDots } from '../model/dots.ts';
import type { HeadModel } from '../model/head.ts';
import { rollLayoutOf } from '../model/input.ts';
import { renderRoll, rollFrames } from '../midi/render.ts';
import { barToSeconds, secondsToBar } from '../midi/timemap.ts';
import type { MidiContent } from '../midi/types.ts';
import { windowStarts } from '../midi/window.ts';
import type { ConceptLane, PieceTimeline, TimelineWindow } from '../results/timeline.ts';
import { sha256 } from '../util/files.ts';

/**
 * The timeline of one piece: every model window at a hop, the model's composer probabilities per
 * window and for the whole piece, and per concept and layer of a bank the concept's presence
 * (percentile of the window's projection on the concept among the bank's reference excerpts) and
 * influence (directional derivative of a composer's logit along the concept). Windows go through
 * the model in batches, so memory is bounded by a batch, not by the piece's length.
 */
export interface AnalyseOptions {
  /** Frames between window starts. */
  hopFrames: number;
  /** Composers whose logit's derivative is reported for every window (model labels). */
  composers: string[];
  /** Windows of highest presence kept per lane (exported as MIDI). */
  topWindows: number;
  cache?: ActivationCache;
  batchSize?: number;
}

/** A piece's timeline before its files are written (`page` and the top windows' `midi` are empty). */
export type AnalysedPiece = PieceTimeline;

export async function analysePiece(
  classifier: ComposerClassifier,
  bank: ConceptBank,
  entry: CorpusEntry,
  content: MidiContent,
  options: AnalyseOptions,
): Promise<AnalysedPiece> {
  const spec = classifier.input;
  const layout = rollLayoutOf(spec);
  const W = spec.windowFrames;
  const labels = classifier.labels;
  const C = labels.length;
  const total = rollFrames(content.durationSeconds, spec.fps);
  // 'shift': the tail gets a window aligned to the end, so no window is part silence (except in a
  // piece shorter than one window: its one window is padded, and flagged).
  const starts = windowStarts(total, {
    windowFrames: W,
    hopFrames: options.hopFrames,
    last: 'shift',
  });
  const padded = total < W;
  const roll = renderRoll(content.notes, layout, content.durationSeconds);
  const rollBytes = new Uint8Array(roll.data.buffer, roll.data.byteOffset, roll.data.byteLength);
  // A window's cache key: the piece's roll (notes, layout, sustain all show in it) and the window.
  const pieceKey = `timeline:${sha256(rollBytes).slice(0, 32)}`;
  const composerIndex = options.composers.map((c) => labels.indexOf(c));

  const lanes = bankLanes(bank);
  const layers = [...new Set(lanes.map((l) => l.layer.layer))];
  const n = starts.length;
  const projections = lanes.map(() => new Float64Array(n));
  const influence = lanes.map(() => new Float64Array(n));
  const influenceOn = lanes.map(() => options.composers.map(() => new Float64Array(n)));
  const logits = new Float32Array(n * C);

  for await (const batch of activations(classifier, n, (i) => roll.slice(starts[i], W), layers, {
    batchSize: options.batchSize ?? 64,
    cache: options.cache,
    ids: (i) => `${pieceKey}@${starts[i]}+${W}`,
  })) {
    logits.set(batch.logits, batch.start * C);
    for (const layer of layers) {
      const acts = batch.activations[layer];
      const here = lanes.map((l, k) => ({ ...l, k })).filter((l) => l.layer.layer === layer);
      for (const l of here) {
        projections[l.k].set(project(acts, batch.n, l.layer.direction), batch.start);
      }
      // Influence: derivatives of each window's predicted composer's logit, and of each
      // --composer's, along every concept of this layer.
      const predicted = [...Array(batch.n).keys()].map((i) =>
        argmax(batch.logits.subarray(i * C, (i + 1) * C)),
      );
      const derivs = await laneDerivatives(
        await classifier.head(layer),
        acts,
        batch.n,
        here.map((l) => l.layer.direction),
        predicted,
        composerIndex,
      );
      here.forEach((l, d) => {
        influence[l.k].set(derivs.own[d], batch.start);
        composerIndex.forEach((_, j) => influenceOn[l.k][j].set(derivs.fixed[j][d], batch.start));
      });
    }
  }

  const withBars =
    entry.kind === 'score' || (entry.kind === undefined && content.timeMap.explicitMeter === true);
  const windows: TimelineWindow[] = starts.map((startFrame, i) => {
    const start = startFrame / spec.fps;
    const end = Math.min((startFrame + W) / spec.fps, Math.max(start, content.durationSeconds));
    const w: TimelineWindow = {
      start: round(start),
      end: round(end),
      startFrame,
      predicted: labels[argmax(logits.subarray(i * C, (i + 1) * C))],
      probabilities: [...softmax(logits.subarray(i * C, (i + 1) * C))].map((p) => round(p, 6)),
    };
    if (withBars) {
      w.bars = { start: barBeat(content, start), end: barBeat(content, end) };
    }
    return w;
  });

  // The whole piece: mean log-probability over windows (a product of the windows' votes).
  const meanLog = new Float64Array(C);
  for (let i = 0; i < n; i++) {
    const ls = logSoftmax(logits.subarray(i * C, (i + 1) * C));
    for (let c = 0; c < C; c++) meanLog[c] += ls[c] / n;
  }
  const overallProb = softmax(meanLog);
  const overall = {
    predicted: labels[argmax(meanLog)],
    meanLogProbability: Object.fromEntries(labels.map((l, c) => [l, round(meanLog[c], 6)])),
    probability: Object.fromEntries(labels.map((l, c) => [l, round(overallProb[c], 6)])),
  };

  const conceptLanes: ConceptLane[] = lanes.map(({ concept, layer }, k) => {
    const pres = [...projections[k]].map((x) => presence(layer.reference, x));
    const cal = layer.calibration;
    // The model's lane comes from its activations alone: the calibration is a fixed function of
    // the projection, fitted when the bank was saved.
    const prob = cal
      ? [...projections[k]].map((x) => round(probability(cal.platt, x), 6))
      : undefined;
    const rank = prob ?? pres;
    const status: ConceptLane['status'] = !cal
      ? 'not-calibrated'
      : cal.localises
        ? 'localises'
        : 'does-not-localise';
    const figure = (x: number) => (Number.isNaN(x) ? null : round(x, 4));
    return {
      status,
      ...(prob ? { probability: prob } : {}),
      ...(cal
        ? {
            calibration: {
              detector: cal.detector,
              threshold: round(cal.threshold, 6),
              heldOut: {
                auc: figure(cal.heldOut.auc),
                precision: figure(cal.heldOut.precision),
                recall: figure(cal.heldOut.recall),
              },
              ...(cal.reason ? { reason: cal.reason } : {}),
            },
          }
        : { uncalibrated: layer.uncalibrated ?? 'not calibrated' }),
      concept: concept.name,
      layer: layer.layer,
      cavAccuracy: round(layer.meanAccuracy, 4),
      reliable: layer.reliable,
      projection: [...projections[k]],
      presence: pres,
      influence: [...influence[k]],
      influenceOn: Object.fromEntries(options.composers.map((c, j) => [c, [...influenceOn[k][j]]])),
      top: topWindows(rank, projections[k], starts, W, options.topWindows).map((i) => ({
        window: i,
        presence: pres[i],
        ...(prob ? { probability: prob[i] } : {}),
        midi: '',
      })),
    };
  });

  const warnings: string[] = [];
  if (padded) {
    warnings.push(
      `shorter than one window (${fmtSeconds(content.durationSeconds)} of ${fmtSeconds(W / spec.fps)}): its one window is padded with silence, which the model never heard in training; read its numbers with care`,
    );
  }
  const piece: AnalysedPiece = {
    file: entry.file,
    piece: entry.piece,
    ...(entry.title ? { title: entry.title } : {}),
    ...(entry.composer !== UNKNOWN_COMPOSER ? { composer: entry.composer } : {}),
    durationSeconds: round(content.durationSeconds),
    notes: content.notes.length,
    scoreTime: withBars,
    padded,
    warnings,
    windows,
    overall,
    lanes: conceptLanes,
    page: '',
  };
  if (withBars) piece.barLines = barLines(content);
  return piece;
}

/**
 * Directional derivatives along unit directions at n activations: `own[d][i]` of the logit of
 * class `rowClass[i]` (each window's predicted composer), `fixed[j][d][i]` of class `fixed[j]`.
 * With exact gradients, one backward pass per activation and class (the window's own class in one
 * pass for all windows, with per-row one-hot weights), dotted with every direction; with finite
 * differences, the head's batched differences for all the classes asked (two head runs per
 * activation and direction, whatever the number of classes).
 */
export async function laneDerivatives(
  head: HeadModel,
  acts: Float32Array,
  n: number,
  directions: Float32Array[],
  rowClass: number[],
  fixed: number[],
): Promise<{ own: Float32Array[]; fixed: Float32Array[][] }> {
  const R = directions.length;
  const D = head.size;
  const split = (values: Float32Array, stride: number, offset: number) =>
    directions.map((_, d) =>
      Float32Array.from({ length: n }, (_, i) => values[(i * R + d) * stride + offset]),
    );
  if (head.derivatives === 'exact') {
    const weights = new Float32Array(n * head.classes);
    rowClass.forEach((c, i) => (weights[i * head.classes + c] = 1));
    const grads = await head.gradients(acts, n, weights);
    const units = new Float32Array(R * D);
    directions.forEach((v, d) => {
      let norm = 0;
      for (let e = 0; e < D; e++) norm += v[e] * v[e];
      norm = Math.sqrt(norm);
      for (let e = 0; e < D; e++) units[d * D + e] = v[e] / norm;
    });
    const own = split(await rowDots(grads, n, units, R, D), 1, 0);
    const others: Float32Array[][] = [];
    for (const c of fixed)
      others.push(split(await head.directionalDerivatives(acts, n, directions, [c]), 1, 0));
    return { own, fixed: others };
  }
  const classes = [...new Set([...rowClass, ...fixed])].sort((a, b) => a - b);
  const K = classes.length;
  const all = await head.directionalDerivatives(acts, n, directions, classes, {
    // Large head batches (at most 64 MB of rows): fewer session calls.
    maxBatch: Math.max(2, Math.min(1024, Math.floor(2 ** 24 / D))),
  });
  const own = directions.map((_, d) =>
    Float32Array.from({ length: n }, (_, i) => all[(i * R + d) * K + classes.indexOf(rowClass[i])]),
  );
  return { own, fixed: fixed.map((c) => split(all, K, classes.indexOf(c))) };
}

/**
 * The windows of highest presence (ties: higher projection, then earlier), skipping any that
 * overlaps one already chosen, so the exported excerpts are different music.
 */
export function topWindows(
  presence: readonly number[],
  projection: ArrayLike<number>,
  starts: readonly number[],
  windowFrames: number,
  count: number,
): number[] {
  const order = presence
    .map((_, i) => i)
    .sort((a, b) => presence[b] - presence[a] || projection[b] - projection[a] || a - b);
  const chosen: number[] = [];
  for (const i of order) {
    if (chosen.length >= count) break;
    if (chosen.every((j) => Math.abs(starts[i] - starts[j]) >= windowFrames)) chosen.push(i);
  }
  return chosen;
}

function barBeat(content: MidiContent, seconds: number) {
  const p = secondsToBar(content.timeMap, seconds);
  return { bar: p.bar, beat: round(p.beat, 3) };
}

/** Bar lines up to the end of the piece (at most 5000, against absurd meters). */
function barLines(content: MidiContent): { bar: number; time: number }[] {
  const out: { bar: number; time: number }[] = [];
  for (let bar = 1; bar <= 5000; bar++) {
    const time = barToSeconds(content.timeMap, bar);
    if (!(time <= content.durationSeconds + 1e-6)) break;
    out.push({ bar, time: round(time) });
  }
  return out;
}

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

export function logSoftmax(values: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) max = Math.max(max, values[i]);
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += Math.exp(values[i] - max);
  const log = max + Math.log(sum);
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i] - log;
  return out;
}

export function softmax(values: ArrayLike<number>): Float64Array {
  return logSoftmax(values).map(Math.exp);
}

function round(x: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function fmtSeconds(s: number): string {
  return `${s.toFixed(1)} s`;
}
