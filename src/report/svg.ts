/**
 * The report's charts as inline SVG strings, generated here so the page needs no chart library
 * and nothing from the network. Hand-written because the two chart kinds are simple bar charts
 * and a chart dependency would have to be inlined into every report.
 */
import type { ComposerColors } from './colors.ts';
import { esc } from './escape.ts';
import type { ComposerImportance, TcavEntry } from '../results/results.ts';

export const FONT =
  "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";

export function fmt(x: number, digits = 2): string {
  return Number.isFinite(x) ? x.toFixed(digits) : '–';
}

/** Two significant digits for values of any size (logit derivatives can be tiny). */
export function fmtSig(x: number): string {
  if (!Number.isFinite(x)) return '–';
  if (x === 0 || Math.abs(x) >= 0.1) return x.toFixed(2);
  return Math.abs(x) >= 1e-3 ? x.toPrecision(2) : x.toExponential(1);
}

/** p-values read better in plain or scientific notation depending on size. */
export function fmtP(p: number): string {
  if (!Number.isFinite(p)) return '–';
  return p >= 0.001 ? p.toFixed(3) : p.toExponential(1);
}

/** Cut long labels for the chart (the full text stays in the row's tooltip and in the tables). */
function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Hatching for "not significant": grey diagonal lines over a pale fill of the composer's colour. */
function hatchDefs(id: string): string {
  return (
    `<defs><pattern id="${id}" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">` +
    `<line x1="0" y1="0" x2="0" y2="6" stroke="#8a8a8a" stroke-width="2"/></pattern></defs>`
  );
}

/** Round tick positions covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, target = 5): number[] {
  const span = hi - lo || 1;
  const raw = span / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step =
    [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => span / s <= target + 0.5) ?? 10 * mag;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + 1e-9; t += step)
    ticks.push(Math.round(t / step) * step || 0); // || 0: no -0
  return ticks;
}

interface BarRow {
  label: string;
  color: string;
  value: number;
  std?: number;
  /** undefined: significance not tested (solid bar, no marker). */
  significant?: boolean;
  /** Dashed reference line for this row (TCAV's random baseline). */
  baseline?: { value: number; std: number };
  /** Individual runs, drawn as small ticks. */
  runs?: number[];
  tooltip: string;
  faded?: boolean;
}

interface Frame {
  x0: number;
  x1: number;
  lo: number;
  hi: number;
}

const xOf = (f: Frame, v: number) =>
  f.x0 + ((Math.min(f.hi, Math.max(f.lo, v)) - f.lo) / (f.hi - f.lo)) * (f.x1 - f.x0);

/** One horizontal bar with its whisker, run ticks, baseline and marker, centred on `y`. */
function barRow(row: BarRow, f: Frame, y: number, hatchId: string, rowHeight: number): string {
  const zero = xOf(f, Math.max(f.lo, Math.min(f.hi, 0)));
  const end = xOf(f, row.value);
  const left = Math.min(zero, end);
  const width = Math.max(Math.abs(end - zero), 0.75);
  const bh = Math.round(rowHeight * 0.6);
  const top = y - bh / 2;
  const solid = row.significant !== false;
  const parts: string[] = [
    `<g${row.faded ? ' opacity="0.45"' : ''}><title>${esc(row.tooltip)}</title>`,
  ];
  // An invisible full-width rect so the tooltip shows anywhere on the row.
  parts.push(
    `<rect x="0" y="${y - rowHeight / 2}" width="${f.x1 + 80}" height="${rowHeight}" fill="transparent"/>`,
  );
  parts.push(
    `<text x="${f.x0 - 8}" y="${y + 4}" text-anchor="end" class="lbl">${esc(clip(row.label, 24))}</text>`,
  );
  if (row.baseline) {
    const b = row.baseline;
    const bl = xOf(f, b.value - b.std);
    const br = xOf(f, b.value + b.std);
    parts.push(
      `<rect x="${bl}" y="${y - rowHeight / 2 + 1}" width="${Math.max(br - bl, 0)}" height="${rowHeight - 2}" fill="#000" opacity="0.07"/>`,
    );
  }
  if (solid) {
    parts.push(
      `<rect x="${left}" y="${top}" width="${width}" height="${bh}" fill="${row.color}"/>`,
    );
  } else {
    parts.push(
      `<rect x="${left}" y="${top}" width="${width}" height="${bh}" fill="${row.color}" fill-opacity="0.18" stroke="${row.color}" stroke-opacity="0.6"/>`,
    );
    parts.push(
      `<rect x="${left}" y="${top}" width="${width}" height="${bh}" fill="url(#${hatchId})"/>`,
    );
  }
  for (const r of row.runs ?? []) {
    const x = xOf(f, r);
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${top - 2}" y2="${top + 3}" stroke="#222" stroke-opacity="0.35"/>`,
    );
  }
  if (row.std !== undefined && row.std > 0) {
    const a = xOf(f, row.value - row.std);
    const b = xOf(f, row.value + row.std);
    parts.push(
      `<path d="M${a} ${y}H${b}M${a} ${y - 4}V${y + 4}M${b} ${y - 4}V${y + 4}" stroke="#111" stroke-width="1.2" fill="none"/>`,
    );
  }
  if (row.baseline) {
    const x = xOf(f, row.baseline.value);
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${y - rowHeight / 2}" y2="${y + rowHeight / 2}" stroke="#333" stroke-dasharray="3 2"/>`,
    );
  }
  const marker = row.significant === false ? ' n.s.' : row.significant ? ' ✱' : '';
  parts.push(
    `<text x="${f.x1 + 8}" y="${y + 4}" class="val${solid ? '' : ' ns'}">${fmtSig(row.value)}${marker}</text>`,
  );
  parts.push('</g>');
  return parts.join('');
}

function axis(f: Frame, y: number, height: number, ticks: number[]): string {
  return ticks
    .map((t) => {
      const x = xOf(f, t);
      const strong = t === 0 ? ' stroke="#999"' : ' stroke="#e3e3e3"';
      return `<line x1="${x}" x2="${x}" y1="${y}" y2="${y + height}"${strong}/><text x="${x}" y="${y - 4}" text-anchor="middle" class="tick">${fmt(t, Math.abs(t) < 1 && t !== 0 ? 2 : 0)}</text>`;
    })
    .join('');
}

function svgOpen(width: number, height: number, label: string, cls: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="${cls}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(label)}" font-family="${esc(FONT)}">` +
    `<style>.lbl{font-size:12px;fill:#222}.tick{font-size:10px;fill:#666}.val{font-size:11px;fill:#222}.ns{fill:#777;font-style:italic}.hd{font-size:12.5px;font-weight:600;fill:#111}.warn{font-size:11px;fill:#a33}.note{font-size:11px;fill:#555}</style>`
  );
}

/**
 * TCAV scores of one layer: a block per concept, a bar per target composer with its spread across
 * random runs (whisker: ±1 std; ticks: single runs), the random baseline as a dashed line over a
 * grey band (its ±1 std), not-significant cells hatched and marked "n.s.", concepts whose CAV is
 * unreliable faded and flagged.
 */
export function tcavLayerChart(
  entries: readonly TcavEntry[],
  colors: ComposerColors,
  idPrefix: string,
): string {
  const concepts = [...new Set(entries.map((e) => e.concept))];
  const W = 760;
  const rowH = 22;
  const headH = 24;
  const gap = 10;
  const top = 22;
  const f: Frame = { x0: 170, x1: W - 90, lo: 0, hi: 1 };
  let height = top;
  for (const c of concepts)
    height += headH + rowH * entries.filter((e) => e.concept === c).length + gap;
  const hatch = `${idPrefix}-hatch`;
  const body: string[] = [];
  let y = top;
  for (const concept of concepts) {
    const rows = entries.filter((e) => e.concept === concept);
    const reliable = rows.every((r) => r.cavReliable);
    const acc = rows.reduce((s, r) => s + r.cavAccuracy, 0) / rows.length;
    body.push(`<rect x="0" y="${y}" width="${W}" height="${headH - 2}" fill="#f4f1ea"/>`);
    body.push(
      `<text x="8" y="${y + 15}" class="hd">${esc(clip(concept, 70))}<title>${esc(concept)}</title></text>`,
    );
    body.push(
      reliable
        ? `<text x="${W - 8}" y="${y + 15}" text-anchor="end" class="note">CAV accuracy ${fmt(acc)}</text>`
        : `<text x="${W - 8}" y="${y + 15}" text-anchor="end" class="warn">⚠ unreliable CAV (accuracy ${fmt(acc)})</text>`,
    );
    y += headH;
    for (const e of rows) {
      const tooltip =
        `${e.concept} → ${e.target}: TCAV ${fmt(e.score)} ± ${fmt(e.std)} over ${e.runs} runs; ` +
        `random ${fmt(e.randomScore)} ± ${fmt(e.randomStd)}; p = ${fmtP(e.pValue)} (corrected ${fmtP(e.pValueCorrected)}); ` +
        `${e.significant ? 'significant' : 'not significant'}; CAV accuracy ${fmt(e.cavAccuracy)}${e.cavReliable ? '' : ' (unreliable)'}`;
      body.push(
        barRow(
          {
            label: e.target,
            color: colors(e.target),
            value: e.score,
            std: e.std,
            significant: e.significant,
            baseline: { value: e.randomScore, std: e.randomStd },
            runs: e.scores,
            tooltip,
            faded: !e.cavReliable,
          },
          f,
          y + rowH / 2,
          hatch,
          rowH,
        ),
      );
      y += rowH;
    }
    y += gap;
  }
  return (
    svgOpen(W, height, 'TCAV scores per concept and composer', 'chart tcav-chart') +
    hatchDefs(hatch) +
    axis(f, top, height - top - gap, [0, 0.25, 0.5, 0.75, 1]) +
    body.join('') +
    '</svg>'
  );
}

/**
 * Importance of one discovered concept per composer. TCAV scores (k-means) sit on [0, 1];
 * logit derivatives (NMF) may be negative, so their axis is symmetric around a zero line.
 */
export function importanceChart(
  importance: Readonly<Record<string, ComposerImportance>>,
  colors: ComposerColors,
  options: { idPrefix: string; scale: 'unit' | 'signed'; label: string },
): string {
  const names = Object.keys(importance);
  const W = 430;
  const rowH = 20;
  const top = 20;
  let lo = 0;
  let hi = 1;
  if (options.scale === 'signed') {
    const m = Math.max(
      1e-12,
      ...names.map((n) => Math.abs(importance[n].value) + (importance[n].std ?? 0)),
    );
    const ticks = niceTicks(-m, m, 4);
    hi = Math.max(m, ticks[ticks.length - 1]);
    lo = -hi;
  }
  const f: Frame = { x0: 130, x1: W - 70, lo, hi };
  const height = top + rowH * names.length + 6;
  const ticks = options.scale === 'unit' ? [0, 0.5, 1] : niceTicks(lo, hi, 4);
  const hatch = `${options.idPrefix}-hatch`;
  const rows = names.map((name, i) => {
    const imp = importance[name];
    const stat = imp.pValue !== undefined ? `; p = ${fmtP(imp.pValue)}` : '';
    const sig =
      imp.significant === undefined ? '' : imp.significant ? '; significant' : '; not significant';
    return barRow(
      {
        label: name,
        color: colors(name),
        value: imp.value,
        std: imp.std,
        significant: imp.significant,
        tooltip: `${name}: ${options.label} ${fmt(imp.value, 3)}${imp.std !== undefined ? ` ± ${fmt(imp.std, 3)}` : ''}${stat}${sig}`,
      },
      f,
      top + rowH * i + rowH / 2,
      hatch,
      rowH,
    );
  });
  return (
    svgOpen(W, height, `${options.label} per composer`, 'chart importance-chart') +
    hatchDefs(hatch) +
    axis(f, top, height - top, ticks) +
    rows.join('') +
    '</svg>'
  );
}
