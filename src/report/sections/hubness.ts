/**
 * Hubness of the corpus in the model's activation space, as a small histogram per scaling: how
 * many windows are among the k nearest neighbours of how many others (N_k). A long right tail
 * means hubs (windows that turn up as "similar" to almost anything) and a tall bar at 0 means
 * anti-hubs (windows that are never found); Mutual Proximity should pull both towards k.
 * Used by explain's report and by the page of `similar`.
 */
import type { HubnessReport, KOccurrenceSummary } from '../../results/similar.ts';
import { esc } from '../escape.ts';
import { fmt, FONT, niceTicks } from '../svg.ts';

const LABELS: Record<string, string> = {
  none: 'no scaling',
  'mp-empirical': 'Mutual Proximity (empirical)',
  'mp-gaussian': 'Mutual Proximity (Gaussian)',
};

export function hubnessSection(reports: readonly HubnessReport[] | undefined): string {
  const head = '<section id="hubness"><h2>Hubness</h2>';
  if (!reports || reports.length === 0)
    return `${head}<p class="notrun">Hubness was not measured in this run.</p></section>`;
  const intro = `<p>Each window of the corpus has k nearest neighbours among the others, in the model's activation space. The
histograms count how many windows are a neighbour of how many others (N<sub>k</sub>). On average N<sub>k</sub> = k; a long
right tail means <em>hubs</em>, windows that would be returned as similar to almost anything (marked past the dashed line at
2k), and windows at 0 (<em>anti-hubs</em>) are never returned. Mutual Proximity rescales distances so that two windows are close
only if each is near the other relative to its own neighbourhood, which pulls the distribution towards k.</p>`;
  return `${head}${intro}${reports.map((r, i) => layerBlock(r, i)).join('\n')}</section>`;
}

function layerBlock(r: HubnessReport, index: number): string {
  const k = Math.max(...r.scalings.flatMap((s) => s.occurrence.map((o) => o.k)));
  const shown = r.scalings.map((s) => ({
    scaling: s.scaling,
    o: s.occurrence.find((o) => o.k === k)!,
  }));
  const xMax = Math.max(2 * k + 2, ...shown.map((s) => s.o.max));
  const yMax = Math.max(1, ...shown.flatMap((s) => s.o.counts));
  const charts = shown
    .map((s, j) => histogram(s.o, LABELS[s.scaling] ?? s.scaling, xMax, yMax, `hub${index}-${j}`))
    .join('');
  const rows = r.scalings
    .flatMap((s) =>
      s.occurrence.map(
        (o) =>
          `<tr><td>${esc(LABELS[s.scaling] ?? s.scaling)}</td><td>${o.k}</td><td>${fmt(o.skewness)}</td><td>${pct(o.hubShare)}</td><td>${pct(o.antiHubShare)}</td><td>${o.max}</td></tr>`,
      ),
    )
    .join('');
  return `<div class="layer"><h3>Layer <code>${esc(r.layer)}</code></h3>
<figure><div class="hubness-charts">${charts}</div><figcaption>N<sub>${k}</sub> of ${r.windows} windows (${esc(r.pooling === 'none' ? 'activations as they are' : `activations pooled: ${r.pooling}`)}, ${esc(r.metric)} distance)${r.note ? `; ${esc(r.note)}` : ''}. Dashed line: 2k, the hub threshold.</figcaption></figure>
<table class="hubness-table"><thead><tr><th>Distance</th><th>k</th><th>Skewness of N<sub>k</sub></th><th>Hubs (N<sub>k</sub> &gt; 2k)</th><th>Anti-hubs (N<sub>k</sub> = 0)</th><th>Largest N<sub>k</sub></th></tr></thead><tbody>${rows}</tbody></table>
</div>`;
}

function histogram(
  o: KOccurrenceSummary,
  title: string,
  xMax: number,
  yMax: number,
  id: string,
): string {
  const W = 300;
  const H = 162;
  const left = 38;
  const right = 8;
  const top = 34;
  const bottom = 26;
  const plotW = W - left - right;
  const plotH = H - top - bottom;
  const bw = plotW / (xMax + 1);
  const x = (v: number) => left + v * bw;
  const y = (c: number) => top + plotH - (c / yMax) * plotH;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="hubness-chart" id="${esc(id)}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(`${title}: N_${o.k} histogram, skewness ${fmt(o.skewness)}`)}" font-family="${esc(FONT)}">`,
    `<text x="${left}" y="13" font-size="12" font-weight="600" fill="#111">${esc(title)}</text>`,
    `<text x="${left}" y="27" font-size="11" fill="#555">skewness ${fmt(o.skewness)}, hubs ${pct(o.hubShare)}, anti-hubs ${pct(o.antiHubShare)}</text>`,
  ];
  for (const t of niceTicks(0, yMax, 4)) {
    parts.push(
      `<line x1="${left}" x2="${W - right}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#eee"/><text x="${left - 4}" y="${(y(t) + 3).toFixed(1)}" font-size="9" text-anchor="end" fill="#777">${t}</text>`,
    );
  }
  o.counts.forEach((c, v) => {
    if (c === 0) return;
    const fill = v === 0 ? '#a33' : v > 2 * o.k ? '#7a4b12' : '#8aa9c8';
    parts.push(
      `<rect x="${x(v).toFixed(1)}" y="${y(c).toFixed(1)}" width="${Math.max(0.8, bw - 0.6).toFixed(1)}" height="${(top + plotH - y(c)).toFixed(1)}" fill="${fill}"><title>N_${o.k} = ${v}: ${c} windows</title></rect>`,
    );
  });
  const hubX = x(2 * o.k + 1);
  parts.push(
    `<line x1="${hubX.toFixed(1)}" x2="${hubX.toFixed(1)}" y1="${top}" y2="${top + plotH}" stroke="#333" stroke-dasharray="3 2"/>`,
    `<line x1="${left}" x2="${W - right}" y1="${top + plotH}" y2="${top + plotH}" stroke="#999"/>`,
  );
  for (const t of niceTicks(0, xMax, 5))
    parts.push(
      `<text x="${(x(t) + bw / 2).toFixed(1)}" y="${H - 12}" font-size="9" text-anchor="middle" fill="#777">${t}</text>`,
    );
  parts.push(
    `<text x="${left + plotW / 2}" y="${H - 1}" font-size="10" text-anchor="middle" fill="#555">N_${o.k}: neighbour of how many windows</text>`,
    '</svg>',
  );
  return parts.join('');
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)} %`;
}
