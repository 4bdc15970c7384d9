/**
 * The timeline of a piece as inline SVG, every row on one time axis: bar numbers (or minutes),
 * the whole piece as a piano roll, the model's composer probabilities per window (stacked) with
 * the predicted composer under them, and one lane per concept and layer: presence as colour,
 * influence as sign (+ / −, and a strip green where the concept would raise the composer, red
 * where it would lower it). Labels sit in a fixed column; the plot scrolls sideways when the piece
 * is long. Hand-written SVG like the rest of the report (svg.ts): the page carries everything.
 */
import { LOCALISATION_CUT, rankInWords } from '../bank/calibration.ts';
import type { ConceptLane, PieceTimeline } from '../results/timeline.ts';
import type { ComposerColors } from './colors.ts';
import { esc } from './escape.ts';
import { displayRange, type PlayNote } from './pianoroll.ts';
import { FONT, fmt, fmtSig } from './svg.ts';

export interface TimelineFigureOptions {
  labels: string[];
  colors: ComposerColors;
  windowSeconds: number;
  /** Composers given with --composer: one influence strip each under every lane. */
  composers: string[];
  /** The piece's notes, for the piano-roll row (none: no roll). */
  notes?: readonly PlayNote[];
  /** Pixels per second. */
  pps: number;
  /** Unique per figure on a page (ids of gradients and clip paths). */
  idPrefix: string;
  /** Cells carry data-w (window index) for the page's script to select and play. */
  interactive: boolean;
}

const LABEL_W = 190;
const AXIS_H = 20;
const PROB_H = 70;
const PRED_H = 9;
const PRESENCE_H = 16;
const STRIP_H = 5;
const GAP = 8;

/** Presence 0..1 as a colour: pale paper to deep blue (sequential, monotone in lightness). */
/** Whether a page may say the concept is present in window i (calibrated lanes only). */
export function isPresent(lane: ConceptLane, i: number): boolean {
  return (
    lane.status === 'localises' &&
    lane.probability !== undefined &&
    lane.calibration !== undefined &&
    lane.probability[i] >= lane.calibration.threshold
  );
}

/** What a lane says of window i, in words a reader can take literally. */
export function presenceWords(lane: ConceptLane, i: number): string {
  if (lane.status === 'localises' && lane.probability)
    return `probability ${fmt(lane.probability[i])} that the ${lane.calibration!.detector} detector hears it here${isPresent(lane, i) ? ': present' : ''}`;
  if (lane.status === 'does-not-localise') return notLocalisedWords(lane);
  return `not calibrated: ${rankInWords(lane.presence[i])}`;
}

/** The "does not localise here" line, with the figure that failed the cut. */
export function notLocalisedWords(lane: ConceptLane): string {
  const h = lane.calibration?.heldOut;
  const f = (x: number | null | undefined) =>
    x === null || x === undefined ? 'undefined' : fmt(x);
  return `does not localise here: on held-out pieces, AUC ${f(h?.auc)} and precision ${f(h?.precision)} at "present" against the ${lane.calibration?.detector ?? '?'} detector (needs AUC ≥ ${LOCALISATION_CUT.auc} and precision ≥ ${LOCALISATION_CUT.precision})`;
}

/** A grey scale for ranks: an uncalibrated lane must not look like a calibrated one. */
export function rankColor(p: number): string {
  const v = Math.round(245 - Math.max(0, Math.min(1, p)) * 165);
  return `rgb(${v},${v},${v})`;
}

export function presenceColor(p: number): string {
  if (!Number.isFinite(p)) return '#dddddd';
  const stops: [number, number, number][] = [
    [247, 244, 236],
    [198, 219, 239],
    [107, 174, 214],
    [33, 113, 181],
    [8, 48, 107],
  ];
  const x = Math.max(0, Math.min(1, p)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const c = stops[i].map((v, k) => Math.round(v + (stops[i + 1][k] - v) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

/** Cell boundaries: half-way between the centres of consecutive windows, the piece's ends outside. */
export function cellEdges(piece: PieceTimeline, windowSeconds: number): [number, number][] {
  const centres = piece.windows.map((w) => w.start + windowSeconds / 2);
  const end = Math.max(piece.durationSeconds, ...piece.windows.map((w) => w.end));
  return centres.map((c, i) => [
    i === 0 ? 0 : (centres[i - 1] + c) / 2,
    i === centres.length - 1 ? end : (c + centres[i + 1]) / 2,
  ]);
}

export function fmtClock(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = Math.floor(seconds - m * 60);
  return `${m}:${String(s).padStart(2, '0')}`;
}

/** Where a window is, for people: bars and beats when the file has them, else minutes. */
export function windowPlace(piece: PieceTimeline, i: number): string {
  const w = piece.windows[i];
  const clock = `${fmtClock(w.start)}–${fmtClock(w.end)}`;
  if (!w.bars) return clock;
  const b = w.bars;
  const onBar = (x: { beat: number }) => Math.abs(x.beat - 1) < 1e-3;
  if (onBar(b.start) && onBar(b.end)) return `bars ${b.start.bar}–${b.end.bar} (${clock})`;
  const at = (x: { bar: number; beat: number }) => `bar ${x.bar} beat ${Math.floor(x.beat)}`;
  return `${at(b.start)} – ${at(b.end)} (${clock})`;
}

export function timelineFigure(piece: PieceTimeline, o: TimelineFigureOptions): string {
  const duration = Math.max(piece.durationSeconds, ...piece.windows.map((w) => w.end), 1e-3);
  const W = Math.max(200, Math.ceil(duration * o.pps) + 12);
  const x = (t: number) => 4 + Math.max(0, Math.min(duration, t)) * o.pps;
  const edges = cellEdges(piece, o.windowSeconds);
  const labels: string[] = [];
  const plot: string[] = [];
  let y = 0;

  // Time axis: bar numbers where the file has a score time, else minutes.
  const ticks: { t: number; text: string }[] = [];
  if (piece.barLines && piece.barLines.length > 0) {
    const step = niceStep(piece.barLines.length, (duration * o.pps) / 36);
    for (const b of piece.barLines)
      if ((b.bar - 1) % step === 0) ticks.push({ t: b.time, text: String(b.bar) });
  } else {
    const step = [5, 10, 15, 30, 60, 120, 300].find((s) => s * o.pps >= 40) ?? 600;
    for (let t = 0; t <= duration + 1e-9; t += step) ticks.push({ t, text: fmtClock(t) });
  }
  labels.push(label(y + 14, piece.barLines?.length ? 'bar' : 'time (m:ss)', 'tl-axis'));
  for (const tk of ticks) {
    plot.push(
      `<line x1="${x(tk.t).toFixed(1)}" x2="${x(tk.t).toFixed(1)}" y1="${y + 14}" y2="${y + AXIS_H}" stroke="#888"/><text x="${(x(tk.t) + 2).toFixed(1)}" y="${y + 12}" class="tk">${esc(tk.text)}</text>`,
    );
  }
  y += AXIS_H;
  const gridTop = y;

  // The piano roll of the whole piece.
  if (o.notes && o.notes.length > 0) {
    const [lo, hi] = displayRange(o.notes);
    const rowH = Math.max(1.2, Math.min(3, 150 / (hi - lo + 1)));
    const h = Math.ceil((hi - lo + 1) * rowH);
    labels.push(label(y + h / 2 + 4, 'the piece', 'tl-roll'));
    plot.push(
      `<rect x="${x(0)}" y="${y}" width="${(x(duration) - x(0)).toFixed(1)}" height="${h}" fill="#fcfbf8" stroke="#ddd"/>`,
    );
    for (let p = lo; p <= hi; p++) {
      if (p % 12 === 0)
        plot.push(
          `<line x1="${x(0)}" x2="${x(duration).toFixed(1)}" y1="${(y + (hi + 1 - p) * rowH).toFixed(1)}" y2="${(y + (hi + 1 - p) * rowH).toFixed(1)}" stroke="#e6e1d4"/>`,
        );
    }
    const rects: string[] = [];
    for (const [pitch, on, off] of o.notes) {
      if (pitch < lo || pitch > hi) continue;
      const x0 = x(on);
      rects.push(
        `<rect x="${x0.toFixed(1)}" y="${(y + (hi - pitch) * rowH).toFixed(1)}" width="${Math.max(0.8, x(off) - x0).toFixed(1)}" height="${Math.max(1, rowH - 0.3).toFixed(1)}"/>`,
      );
    }
    plot.push(`<g class="notes" fill="#3a3a3a">${rects.join('')}</g>`);
    if (o.interactive) {
      // The playhead of the selected window (the page's player finds it by data-excerpt).
      plot.push(
        `<svg class="roll tl-playhead" data-excerpt="" data-x0="0" data-w="${(o.windowSeconds * o.pps).toFixed(1)}" data-duration="${o.windowSeconds}" x="0" y="${y}" width="${(o.windowSeconds * o.pps).toFixed(1)}" height="${h}" overflow="visible"><line class="playhead" x1="0" x2="0" y1="0" y2="${h}" stroke="#c00" stroke-width="1.5" visibility="hidden"/></svg>`,
      );
    }
    y += h + GAP;
  }

  // Composer probabilities per window, stacked in label order, and the predicted composer.
  labels.push(label(y + PROB_H / 2 + 4, 'composer probabilities', 'tl-prob'));
  const probCells: string[] = [];
  piece.windows.forEach((w, i) => {
    const [a, b] = edges[i];
    let acc = 0;
    w.probabilities.forEach((p, c) => {
      if (p <= 0.002) {
        acc += p;
        return;
      }
      const top = y + PROB_H * (1 - acc - p);
      probCells.push(
        `<rect x="${x(a).toFixed(1)}" y="${top.toFixed(1)}" width="${Math.max(0.5, x(b) - x(a)).toFixed(1)}" height="${(PROB_H * p).toFixed(1)}" fill="${o.colors(o.labels[c])}"${cellAttrs(o, i)}><title>${esc(`${windowPlace(piece, i)}: ${o.labels[c]} ${fmt(p * 100, 1)} %`)}</title></rect>`,
      );
      acc += p;
    });
  });
  plot.push(`<g class="tl-probs">${probCells.join('')}</g>`);
  y += PROB_H + 2;
  labels.push(label(y + PRED_H - 1, 'predicted', 'tl-pred'));
  plot.push(
    `<g class="tl-predicted">${piece.windows
      .map((w, i) => {
        const [a, b] = edges[i];
        return `<rect x="${x(a).toFixed(1)}" y="${y}" width="${Math.max(0.5, x(b) - x(a)).toFixed(1)}" height="${PRED_H}" fill="${o.colors(w.predicted)}"${cellAttrs(o, i)}><title>${esc(`${windowPlace(piece, i)}: the model hears ${w.predicted}`)}</title></rect>`;
      })
      .join('')}</g>`,
  );
  y += PRED_H + GAP + 4;

  // One lane per concept and layer.
  const layers = new Set(piece.lanes.map((l) => l.layer));
  piece.lanes.forEach((lane, k) => {
    const name = layers.size > 1 ? `${lane.concept} @ ${lane.layer}` : lane.concept;
    if (lane.status === 'does-not-localise') {
      // No lane: the direction failed its held-out check, so colours along the piece would mislead.
      labels.push(label(y + 14, name, 'tl-lane-label', `${lane.concept} at layer ${lane.layer}`));
      plot.push(
        `<g class="tl-lane tl-nolocal" data-lane="${k}"><rect x="${x(0).toFixed(1)}" y="${y}" width="${Math.max(1, x(piece.durationSeconds) - x(0)).toFixed(1)}" height="${PRESENCE_H}" fill="#f3f3f3"/><text x="${(x(0) + 6).toFixed(1)}" y="${y + PRESENCE_H - 6}" class="tk">${esc(notLocalisedWords(lane))}</text></g>`,
      );
      y += PRESENCE_H + 6;
      return;
    }
    // Influence strips: on the predicted composer, then on each --composer.
    const strips = [lane.influence, ...o.composers.map((c) => lane.influenceOn[c] ?? [])];
    const laneH = PRESENCE_H + strips.length * (STRIP_H + 1);
    labels.push(
      label(
        y + PRESENCE_H / 2 + 4,
        `${name}${lane.reliable ? '' : ' ⚠'}`,
        'tl-lane-label',
        `${lane.concept} at layer ${lane.layer}: CAV accuracy ${fmt(lane.cavAccuracy)}${lane.reliable ? '' : ' (unreliable)'}`,
      ),
    );
    const cells: string[] = [];
    const scale = strips.map((s) => Math.max(1e-12, ...s.map((v) => Math.abs(v))));
    piece.windows.forEach((_, i) => {
      const [a, b] = edges[i];
      const x0 = x(a);
      const w = Math.max(0.5, x(b) - x(a));
      const p = lane.probability?.[i] ?? lane.presence[i];
      const inf = lane.influence[i];
      const tip = [
        `${lane.concept} (${lane.layer}), ${windowPlace(piece, i)}`,
        `${presenceWords(lane, i)} (projection ${fmtSig(lane.projection[i])})`,
        `influence on ${piece.windows[i].predicted} (predicted) ${fmtSig(inf)}`,
        ...o.composers.map((c) => `influence on ${c} ${fmtSig(lane.influenceOn[c]?.[i] ?? NaN)}`),
      ].join('; ');
      cells.push(
        `<g${cellAttrs(o, i)}><title>${esc(tip)}</title><rect x="${x0.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${PRESENCE_H}" fill="${lane.status === 'localises' ? presenceColor(p) : rankColor(p)}"/>`,
      );
      if (isPresent(lane, i))
        cells.push(
          `<rect class="tl-present" x="${x0.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="2" fill="#000"/>`,
        );
      if (w >= 9 && Number.isFinite(inf) && Math.abs(inf) > 0.05 * scale[0]) {
        cells.push(
          `<text x="${(x0 + w / 2).toFixed(1)}" y="${y + PRESENCE_H - 4}" text-anchor="middle" class="sg" fill="${p > 0.55 ? '#fff' : '#222'}">${inf > 0 ? '+' : '−'}</text>`,
        );
      }
      strips.forEach((s, j) => {
        const v = s[i];
        if (!Number.isFinite(v) || v === 0) return;
        const alpha = 0.25 + 0.75 * Math.min(1, Math.abs(v) / scale[j]);
        cells.push(
          `<rect x="${x0.toFixed(1)}" y="${(y + PRESENCE_H + 1 + j * (STRIP_H + 1)).toFixed(1)}" width="${w.toFixed(1)}" height="${STRIP_H}" fill="${v > 0 ? '#1a9850' : '#d73027'}" fill-opacity="${alpha.toFixed(2)}"/>`,
        );
      });
      cells.push('</g>');
    });
    plot.push(`<g class="tl-lane" data-lane="${k}">${cells.join('')}</g>`);
    y += laneH + 6;
  });
  const H = y + 2;

  // Bar lines through every row (under nothing: drawn last but faint and not clickable).
  const grid = (piece.barLines ?? [])
    .map(
      (b) =>
        `<line x1="${x(b.time).toFixed(1)}" x2="${x(b.time).toFixed(1)}" y1="${gridTop}" y2="${H}" stroke="#000" stroke-opacity="0.08"/>`,
    )
    .join('');
  const selection = o.interactive
    ? `<rect class="tl-selection" x="0" y="${gridTop}" width="0" height="${H - gridTop}" fill="none" stroke="#c00" stroke-width="2" visibility="hidden" pointer-events="none"/>`
    : '';
  const style = `<style>.tk{font-size:10px;fill:#555}.lb{font-size:11.5px;fill:#222}.sg{font-size:11px;font-weight:700;pointer-events:none}</style>`;
  const open = (w: number, cls: string, aria: string) =>
    `<svg xmlns="http://www.w3.org/2000/svg" class="${cls}" viewBox="0 0 ${w} ${H}" width="${w}" height="${H}" font-family="${esc(FONT)}" role="img" aria-label="${esc(aria)}">${style}`;
  return (
    `<div class="tl-figure" data-pps="${o.pps}" data-window="${o.windowSeconds}">` +
    `<div class="tl-labels">${open(LABEL_W, 'tl-labels-svg', 'row labels')}${labels.join('')}</svg></div>` +
    `<div class="tl-scroll">${open(W, 'tl-plot', `timeline of ${piece.piece}`)}${plot.join('')}${grid}${selection}</svg></div>` +
    '</div>'
  );
}

function label(y: number, text: string, cls: string, tooltip?: string): string {
  const shown = text.length > 30 ? `${text.slice(0, 29)}…` : text;
  const title = tooltip ?? (shown !== text ? text : undefined);
  return `<text x="${LABEL_W - 8}" y="${y.toFixed(1)}" text-anchor="end" class="lb ${cls}">${title ? `<title>${esc(title)}</title>` : ''}${esc(shown)}</text>`;
}

function cellAttrs(o: TimelineFigureOptions, i: number): string {
  return o.interactive ? ` data-w="${i}" class="tl-cell"` : '';
}

/** Label every step-th bar so that labels are at least `room`... apart: 1, 2, 4, 5, 10, ... */
function niceStep(bars: number, slots: number): number {
  const need = bars / Math.max(1, slots);
  return [1, 2, 4, 5, 8, 10, 16, 20, 25, 50, 100].find((s) => s >= need) ?? 200;
}

/** Legend of the figure's encodings, as HTML. */
export function timelineLegend(
  labels: string[],
  colors: ComposerColors,
  composers: readonly string[] = [],
): string {
  const presence = [0, 0.25, 0.5, 0.75, 0.9, 1]
    .map(
      (p) =>
        `<span class="tl-sw" style="background:${presenceColor(p)}"></span>${p === 0 ? '0' : p}`,
    )
    .join(' ');
  const swatches = labels
    .map((l) => `<span class="tl-sw" style="background:${colors(l)}"></span>${esc(l)}`)
    .join(' ');
  const more = composers.length
    ? `; the next ${composers.length === 1 ? 'strip is' : 'strips are'} for ${composers.map(esc).join(', ')}`
    : '';
  const ranks = [0, 0.25, 0.5, 0.75, 0.9, 1]
    .map(
      (p) => `<span class="tl-sw" style="background:${rankColor(p)}"></span>${p === 0 ? '0' : p}`,
    )
    .join(' ');
  return `<div class="tl-legend"><div><strong>Composers:</strong> ${swatches}</div><div><strong>Presence</strong>, calibrated lanes (the probability that a rule over the notes hears the texture in the window; a black line on top: "present"): ${presence}</div><div><strong>Rank</strong>, lanes not calibrated (grey: share of corpus windows that lie lower along the concept; it ranks windows and never says the concept is there): ${ranks}</div><div><strong>Influence:</strong> <span class="tl-sw" style="background:#1a9850"></span> + more of the concept would raise the composer's score <span class="tl-sw" style="background:#d73027"></span> − it would lower it (stronger colour: larger effect). The strip under each lane is for the composer the model predicts in that window${more}.</div></div>`;
}

/** CSS of the figure and of the timeline page, appended to REPORT_CSS. */
export const TIMELINE_CSS = `
.tl-figure { display: flex; align-items: flex-start; border: 1px solid var(--rule); background: #fff; border-radius: 6px; margin: 10px 0; }
.tl-labels { flex: none; border-right: 1px solid var(--rule); }
.tl-scroll { overflow-x: auto; flex: 1 1 auto; }
.tl-scroll svg, .tl-labels svg { display: block; }
.tl-cell { cursor: pointer; }
.tl-legend { font: 0.8rem/1.6 var(--sans); color: var(--muted); }
.tl-sw { display: inline-block; width: 12px; height: 10px; margin: 0 3px 0 8px; border: 1px solid #ccc; vertical-align: -1px; }
.tl-detail { font: 0.85rem/1.45 var(--sans); background: #fff; border: 1px solid var(--rule); border-radius: 6px; padding: 8px 14px; min-height: 3em; }
.tl-detail table { margin: 4px 0; }
.tl-bar { display: inline-block; height: 9px; vertical-align: 0; }
.tl-warn { color: #a33; font-family: var(--sans); font-size: 0.9rem; }
ol.tl-top { font: 0.85rem/1.6 var(--sans); margin: 4px 0 10px; }
button.tl-go { font: 0.78rem var(--sans); border: 1px solid var(--rule); background: #fff; border-radius: 10px; padding: 0 8px; cursor: pointer; color: var(--accent); }
`;
