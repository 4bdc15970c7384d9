/**
 * `<out>/gradient.html` of `concept-lens model gradient`: the gradient of one composer's logit over
 * one excerpt's piano roll as a heat map (time left to right, pitch bottom to top, the excerpt's
 * notes outlined on top), the excerpt's prediction, and the notes that weigh most. One
 * self-contained page: inline CSS and SVG, nothing fetched; user strings escaped.
 */
import { offsetFrame, onsetFrame } from '../midi/render.ts';
import type { GradientResult, NoteEffect } from '../results/gradient.ts';
import { esc } from './escape.ts';
import { pageHead } from './page.ts';
import { pitchName } from './pianoroll.ts';
import { REPORT_CSS } from './style.ts';
import { FONT, fmt, fmtSig } from './svg.ts';

const POSITIVE = '#b2182b';
const NEGATIVE = '#2166ac';
const LEVELS = 8;

/** The |gradient| at which colours saturate: the 99.5th percentile (one cell cannot wash out the map). */
export function colourScale(gradient: Float32Array): number {
  const sorted = Float32Array.from(gradient, Math.abs).sort();
  const q = sorted[Math.min(sorted.length - 1, Math.floor(0.995 * sorted.length))];
  return q > 0 ? q : sorted[sorted.length - 1] || 1;
}

/** One channel's heat map: cells merged along time where their colour level is the same. */
export function heatMapSvg(
  gradient: Float32Array,
  channel: number,
  r: Pick<GradientResult, 'shape' | 'input' | 'notes' | 'barLines'> & {
    source?: Pick<GradientResult['source'], 'seen'>;
  },
  scale: number,
  label: string,
): string {
  const [, F, P] = r.shape;
  // Frames of the excerpt itself (the last window may run on into silence past its end).
  const T = r.source
    ? Math.max(1, Math.min(F, Math.ceil(r.source.seen * (r.input.fps as number) - 1e-9)))
    : F;
  const fps = r.input.fps as number;
  const low = r.input.lowPitch as number;
  const left = 34;
  const top = 4;
  const width = 920;
  const plotW = width - left - 16;
  const rowH = 4;
  const cellW = plotW / T;
  const plotH = P * rowH;
  const height = top + plotH + 22;
  const y = (pitch: number) => top + (P - 1 - (pitch - low)) * rowH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="heat" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(label)}" font-family="${esc(FONT)}">`,
    `<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="#fff" stroke="#ccc"/>`,
  ];
  for (let p = 0; p < P; p++) {
    const pitch = low + p;
    if (pitch % 12 === 0) {
      out.push(
        `<line x1="${left}" x2="${left + plotW}" y1="${y(pitch) + rowH}" y2="${y(pitch) + rowH}" stroke="#eee"/>`,
        `<text x="${left - 3}" y="${y(pitch) + rowH}" text-anchor="end" font-size="9" fill="#777">${pitchName(pitch)}</text>`,
      );
    }
  }
  const level = (g: number) =>
    Math.max(-LEVELS, Math.min(LEVELS, Math.round((g / scale) * LEVELS)));
  const base = channel * F * P;
  for (let p = 0; p < P; p++) {
    let t = 0;
    while (t < T) {
      const l = level(gradient[base + t * P + p]);
      let end = t + 1;
      while (end < T && level(gradient[base + end * P + p]) === l) end++;
      if (l !== 0)
        out.push(
          `<rect x="${(left + t * cellW).toFixed(1)}" y="${y(low + p)}" width="${((end - t) * cellW).toFixed(1)}" height="${rowH}" fill="${l > 0 ? POSITIVE : NEGATIVE}" fill-opacity="${(Math.abs(l) / LEVELS).toFixed(2)}"/>`,
        );
      t = end;
    }
  }
  for (const n of r.notes) {
    const on = onsetFrame(n.onset, fps);
    if (on >= T) continue;
    const off = Math.min(T, offsetFrame(n.onset, n.offset, fps));
    out.push(
      `<rect class="note" x="${(left + on * cellW).toFixed(1)}" y="${y(n.pitch)}" width="${Math.max(1, (off - on) * cellW).toFixed(1)}" height="${rowH}" fill="none" stroke="#222" stroke-width="0.7"/>`,
    );
  }
  const seconds = T / fps;
  if (r.barLines && r.barLines.length > 0) {
    // The time axis in bars: a line and the bar's number at every bar line of the excerpt.
    const every = Math.max(1, Math.ceil(r.barLines.length / 40));
    r.barLines.forEach((b, i) => {
      if (b.time > seconds + 1e-6) return;
      const x = left + b.time * fps * cellW;
      out.push(
        `<line class="barline" x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${top}" y2="${top + plotH + 4}" stroke="#888" stroke-dasharray="2,2"/>`,
      );
      if (i % every === 0 && b.time < seconds - 1e-6)
        out.push(
          `<text class="bar" x="${(x + 2).toFixed(1)}" y="${top + plotH + 15}" font-size="9" fill="#555">bar ${b.bar}</text>`,
        );
    });
    out.push('</svg>');
    return out.join('');
  }
  const every = seconds > 30 ? 5 : seconds > 8 ? 2 : 1;
  for (let s = 0; s <= seconds + 1e-9; s += every) {
    const x = left + s * fps * cellW;
    out.push(
      `<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${top + plotH}" y2="${top + plotH + 4}" stroke="#999"/>`,
      `<text x="${x.toFixed(1)}" y="${top + plotH + 15}" text-anchor="middle" font-size="9" fill="#777">${s} s</text>`,
    );
  }
  out.push('</svg>');
  return out.join('');
}

function legendSvg(scale: number): string {
  const w = 260;
  const cells: string[] = [];
  for (let l = -LEVELS; l <= LEVELS; l++) {
    const x = 10 + ((l + LEVELS) / (2 * LEVELS + 1)) * w;
    cells.push(
      `<rect x="${x.toFixed(1)}" y="4" width="${(w / (2 * LEVELS + 1) + 0.5).toFixed(1)}" height="12" fill="${l >= 0 ? POSITIVE : NEGATIVE}" fill-opacity="${(Math.abs(l) / LEVELS).toFixed(2)}"/>`,
    );
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="legend" viewBox="0 0 ${w + 20} 34" width="${w + 20}" height="34" role="img" aria-label="colour scale" font-family="${esc(FONT)}">`,
    ...cells,
    `<rect x="10" y="4" width="${w}" height="12" fill="none" stroke="#ccc"/>`,
    `<text x="10" y="29" font-size="9" fill="#555">−${esc(fmtSig(scale))}</text>`,
    `<text x="${10 + w / 2}" y="29" font-size="9" fill="#555" text-anchor="middle">0</text>`,
    `<text x="${10 + w}" y="29" font-size="9" fill="#555" text-anchor="end">+${esc(fmtSig(scale))}</text>`,
    '</svg>',
  ].join('');
}

function notesTable(notes: NoteEffect[], heading: string): string {
  if (notes.length === 0) return '';
  const rows = notes
    .map(
      (n) =>
        `<tr><td>${esc(n.spelled ?? pitchName(n.pitch))}</td><td>${n.bar !== undefined && n.beat !== undefined ? `bar ${n.bar}, beat ${esc(fmtBeat(n.beat))}` : `${fmt(n.onset)}–${fmt(n.offset)} s`}</td><td>${esc(fmtSig(n.effect))}</td></tr>`,
    )
    .join('');
  const when = notes.some((n) => n.bar !== undefined) ? 'Where (bar, beat)' : 'Time';
  return `<h4>${esc(heading)}</h4><table><thead><tr><th>Note</th><th>${when}</th><th>Gradient × input</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** A beat as a musician reads it: 1, 2.5, 3.33 (no trailing zeros). */
export function fmtBeat(beat: number): string {
  return String(Math.round(beat * 100) / 100);
}

export function renderGradientPage(r: GradientResult, gradient: Float32Array): string {
  const scale = colourScale(gradient);
  const channels = (r.input.channels as string[]) ?? ['frame'];
  const predicted = r.logits.indexOf(Math.max(...r.logits));
  const range = r.source.bars
    ? `bars ${r.source.bars[0]}–${r.source.bars[1]}`
    : `${fmt(r.source.start, 1)}–${fmt(r.source.end, 1)} s`;
  const title = `Where the model looks for ${r.composer}: ${r.source.file.split(/[\\/]/).pop()}, ${range}`;
  const rows: [string, string][] = [
    ['Model', `<code>${esc(r.model.path)}</code>`],
    ['Piece', `<code>${esc(r.source.file)}</code>`],
    [
      'Excerpt',
      `${esc(range)} (${fmt(r.source.start, 1)}–${fmt(r.source.end, 1)} s of the file; ${(r.windows ?? 1) > 1 ? `the model hears it as ${r.windows} windows laid end to end, each with the gradient of its own logit; the logit shown is their mean` : `the model hears ${fmt(r.source.seen, 1)} s of it in one window`})`,
    ],
    [
      `${esc(r.composer)}`,
      `logit ${esc(fmt(r.logits[r.classIndex]))}, probability ${esc(fmt(r.probabilities[r.classIndex]))}`,
    ],
    [
      'Predicted',
      `${esc(r.labels[predicted])} (probability ${esc(fmt(r.probabilities[predicted]))})`,
    ],
    ...(r.key
      ? ([
          [
            'Key',
            `${esc(r.key)} <span class="muted">(estimated from the excerpt's notes; pitches are spelled in it)</span>`,
          ],
        ] as [string, string][])
      : []),
    [
      'Derivatives',
      r.derivatives === 'exact'
        ? 'exact gradient (reverse mode)'
        : `finite differences${r.derivativesNote ? ` <span class="muted">(${esc(r.derivativesNote)})</span>` : ''}`,
    ],
  ];
  const byEffect = r.notes.slice().sort((a, b) => b.effect - a.effect);
  const maps = channels
    .map(
      (ch, c) =>
        `<figure>${heatMapSvg(gradient, c, r, scale, `gradient of the ${r.composer} logit, ${ch} channel`)}<figcaption>${esc(ch)} channel${channels.length > 1 ? '' : ''}: d logit(${esc(r.composer)}) / d cell; outlined: the excerpt's notes.</figcaption></figure>`,
    )
    .join('');
  return [
    ...pageHead(
      title,
      `${REPORT_CSS}\nsvg.heat { display: block; max-width: 100%; height: auto; }`,
    ),
    `<header><h1>${esc(title)}</h1><p class="sub">concept-lens model gradient</p></header>`,
    '<main>',
    `<section id="excerpt"><div class="cards"><div class="card"><h3>Excerpt and prediction</h3><dl>${rows.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl></div></div></section>`,
    `<section id="map"><h2>Gradient of the ${esc(r.composer)} logit</h2>`,
    `<p>Each cell of the piano roll is coloured by how much the model's ${esc(r.composer)} logit would change, to first order, if that cell were switched on (or made louder): <span style="color:${POSITIVE}">red</span> raises it, <span style="color:${NEGATIVE}">blue</span> lowers it. Inside a note, red means the note supports ${esc(r.composer)}; outside the notes, red marks where an added note would. Colours saturate at the 99.5th percentile of |gradient| (${esc(fmtSig(scale))}).</p>`,
    legendSvg(scale),
    maps,
    '</section>',
    `<section id="notes"><h2>Notes that weigh most</h2><p>Gradient × input summed over each note's cells: to first order, how much of the logit the note accounts for (removing it changes the logit by about minus this).</p>`,
    notesTable(byEffect.filter((n) => n.effect > 0).slice(0, 10), `Notes that raise ${r.composer}`),
    notesTable(
      byEffect
        .filter((n) => n.effect < 0)
        .reverse()
        .slice(0, 10),
      `Notes that lower ${r.composer}`,
    ),
    r.notes.length === 0
      ? '<p class="notrun">The excerpt has no notes in the model\'s pitch range.</p>'
      : '',
    '</section>',
    '</main>',
    `<footer>Generated by concept-lens from gradient.json in this folder.</footer>`,
    '</body></html>',
    '',
  ].join('\n');
}
