/**
 * The report's section for `explain --pieces`: each given piece's timeline in brief (composer
 * probabilities and concept lanes on one axis, no piano roll), linking to the piece's own page,
 * where windows can be selected and heard.
 */
import type { TimelineResults } from '../../results/timeline.ts';
import type { ComposerColors } from '../colors.ts';
import { esc, relativeHref } from '../escape.ts';
import { fmt } from '../svg.ts';
import { timelineFigure, timelineLegend } from '../timeline-figure.ts';

export function timelineNav(timeline: TimelineResults | undefined): string {
  return timeline ? '<a href="#timelines">Pieces, window by window</a>' : '';
}

export function timelineSection(
  timeline: TimelineResults | undefined,
  colors: ComposerColors,
): string {
  if (!timeline) return '';
  const labels = timeline.model.labels;
  const pieces = timeline.pieces.map((piece, i) => {
    const o = piece.overall;
    const figure = timelineFigure(piece, {
      labels,
      colors,
      windowSeconds: timeline.run.windowSeconds,
      composers: timeline.run.composers,
      pps: Math.min(12, 700 / Math.max(1, piece.durationSeconds)),
      idPrefix: `tls${i}`,
      interactive: false,
    });
    const warnings = piece.warnings.map((w) => `<p class="tl-warn">⚠ ${esc(w)}</p>`).join('');
    return `<article class="tl-piece"><h3>${esc(piece.title ?? piece.piece)} <span class="muted">${esc(piece.file)}</span></h3>${warnings}
<p>The model hears <strong>${esc(o.predicted)}</strong> (${fmt(100 * o.probability[o.predicted], 0)} % over the whole piece)${piece.composer ? `; the input names ${esc(piece.composer)}` : ''}. <a href="${esc(relativeHref(piece.page))}">Open the piece's timeline</a> to select and hear windows.</p>
<figure>${figure}</figure></article>`;
  });
  const skipped = timeline.skipped.length
    ? `<p class="tl-warn">Skipped: ${timeline.skipped.map((s) => `<code>${esc(s.file)}</code> (${esc(s.reason)})`).join(', ')}</p>`
    : '';
  return `<section id="timelines"><h2>Pieces, window by window</h2><p>Where in each given piece the model hears the concepts tested above (their CAVs from this run), a ${fmt(timeline.run.windowSeconds, 0)}-second window every ${fmt(timeline.run.hopSeconds, 1)} s. Darker: more of the concept than in most of the corpus' excerpts; + / green: more of it would raise the score of the composer the model predicts there, − / red: lower it.</p>${timelineLegend(labels, colors, timeline.run.composers)}${skipped}${pieces.join('\n')}</section>`;
}
