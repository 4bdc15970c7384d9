/**
 * A piano-roll picture of an excerpt as inline SVG: time left to right, pitch bottom to top, black
 * keys shaded, C of each octave labelled, and the concept's localisation as a translucent overlay.
 * Hand-written SVG for the same reason as svg.ts: the page must carry everything it shows.
 */
import { esc } from './escape.ts';
import type { ExcerptRef } from '../results/results.ts';
import { FONT } from './svg.ts';

/** A note relative to the excerpt start, as embedded in the page for playback: [pitch, onset, offset, velocity]. */
export type PlayNote = [number, number, number, number];

export interface PianoRollOptions {
  /** Seconds shown (the excerpt's length). */
  duration: number;
  /** Picture width in px (the height follows from the pitch range). */
  width: number;
  maxHeight: number;
  color: string;
  /** The concept's grid over (time, pitch) and the pitch range [low, high] the grid spans. */
  localization?: ExcerptRef['localization'];
  gridPitches: [number, number];
  /** Identifies the excerpt for the player (playhead). */
  excerptId: string;
  /** Notes to outline on top (e.g. the notes an attack edited): [pitch, onset, offset]. */
  highlight?: { notes: readonly (readonly [number, number, number])[]; color: string };
  label: string;
}

const BLACK_KEYS = new Set([1, 3, 6, 8, 10]);
const NAMES = ['C', 'C♯', 'D', 'E♭', 'E', 'F', 'F♯', 'G', 'A♭', 'A', 'B♭', 'B'];
export const pitchName = (p: number) => `${NAMES[p % 12]}${Math.floor(p / 12) - 1}`;

/** The pitches shown: the notes' range with a margin, at least two octaves. */
export function displayRange(notes: readonly PlayNote[]): [number, number] {
  if (notes.length === 0) return [48, 72];
  let lo = Math.min(...notes.map((n) => n[0])) - 2;
  let hi = Math.max(...notes.map((n) => n[0])) + 2;
  while (hi - lo + 1 < 24) {
    lo--;
    hi++;
  }
  return [Math.max(0, lo), Math.min(127, hi)];
}

export function pianoRollSvg(notes: readonly PlayNote[], o: PianoRollOptions): string {
  const [lo, hi] = displayRange(notes);
  const span = hi - lo + 1;
  const left = 30;
  const plotW = o.width - left - 2;
  const rowH = Math.max(1, Math.min(o.width >= 300 ? 4 : 2.5, o.maxHeight / span));
  const H = Math.ceil(span * rowH) + 2;
  const duration = Math.max(o.duration, 1e-3);
  const x = (t: number) => left + (Math.max(0, Math.min(duration, t)) / duration) * plotW;
  // Top edge of pitch p's row (p may be fractional, for grid cells that split pitches).
  const y = (p: number) => 1 + (hi + 1 - p) * rowH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="roll" viewBox="0 0 ${o.width} ${H}" width="${o.width}" height="${H}" role="img" aria-label="${esc(o.label)}" data-excerpt="${esc(o.excerptId)}" data-x0="${left}" data-w="${plotW}" data-duration="${duration}" font-family="${esc(FONT)}">`,
    `<rect x="${left}" y="1" width="${plotW}" height="${H - 2}" fill="#fcfbf8" stroke="#ccc"/>`,
  ];
  for (let p = lo; p <= hi; p++) {
    if (BLACK_KEYS.has(p % 12))
      out.push(
        `<rect x="${left}" y="${y(p + 1)}" width="${plotW}" height="${rowH}" fill="#efece4"/>`,
      );
    if (p % 12 === 0) {
      out.push(
        `<line x1="${left}" x2="${left + plotW}" y1="${y(p)}" y2="${y(p)}" stroke="#d8d3c6"/>`,
      );
      if (rowH * 12 >= 14)
        out.push(
          `<text x="${left - 3}" y="${y(p) + 0}" text-anchor="end" font-size="9" fill="#777">${pitchName(p)}</text>`,
        );
    }
  }
  // The localisation goes under the notes, so they stay legible where the concept is active.
  const loc = o.localization;
  if (loc && loc.rows > 0 && loc.cols > 0 && loc.values.length === loc.rows * loc.cols) {
    const [gLo, gHi] = o.gridPitches;
    const pitchesPerCol = (gHi - gLo + 1) / loc.cols;
    for (let r = 0; r < loc.rows; r++) {
      for (let c = 0; c < loc.cols; c++) {
        const v = loc.values[r * loc.cols + c];
        if (!(v > 0.05)) continue;
        // Clip the cell to the pitches shown.
        const pBottom = Math.max(lo, gLo + c * pitchesPerCol);
        const pTop = Math.min(hi + 1, gLo + (c + 1) * pitchesPerCol);
        if (pTop <= pBottom) continue;
        const x0 = x((r / loc.rows) * duration);
        const x1 = x(((r + 1) / loc.rows) * duration);
        out.push(
          `<rect class="loc" x="${x0.toFixed(1)}" y="${y(pTop).toFixed(1)}" width="${(x1 - x0).toFixed(1)}" height="${((pTop - pBottom) * rowH).toFixed(1)}" fill="#f2c200" fill-opacity="${(0.1 + 0.4 * Math.min(1, v)).toFixed(2)}"/>`,
        );
      }
    }
  }
  for (const [pitch, on, off, vel] of notes) {
    if (on >= duration) continue;
    const x0 = x(on);
    const w = Math.max(1, x(off) - x0 - 0.5);
    const opacity = (0.45 + (0.55 * vel) / 127).toFixed(2);
    out.push(
      `<rect x="${x0.toFixed(1)}" y="${y(pitch + 1).toFixed(1)}" width="${w.toFixed(1)}" height="${Math.max(rowH - 0.5, 1)}" fill="${o.color}" fill-opacity="${opacity}"/>`,
    );
  }
  for (const [pitch, on, off] of o.highlight?.notes ?? []) {
    if (on >= duration || pitch < lo || pitch > hi) continue;
    const x0 = x(on);
    out.push(
      `<rect class="mark" x="${(x0 - 1.5).toFixed(1)}" y="${(y(pitch + 1) - 1.5).toFixed(1)}" width="${(Math.max(1, x(off) - x0) + 3).toFixed(1)}" height="${(rowH + 3).toFixed(1)}" fill="none" stroke="${o.highlight!.color}" stroke-width="1.5"/>`,
    );
  }
  out.push(
    `<line class="playhead" x1="${left}" x2="${left}" y1="1" y2="${H - 1}" stroke="#c00" stroke-width="1.5" visibility="hidden"/>`,
  );
  out.push('</svg>');
  return out.join('');
}
