import type { Note, TimeMap } from '../midi/types.ts';
import { detectAlberti } from './alberti.ts';
import { detectBlockChords } from './block-chords.ts';
import { detectBrokenChords } from './broken-chords.ts';
import { detectChorale } from './chorale.ts';
import { detectChromaticRuns } from './chromatic-runs.ts';
import { detectContext, type DetectContext } from './context.ts';
import { detectImitation } from './imitation.ts';
import { coverage } from './notes.ts';
import { detectOctaves } from './octaves.ts';
import { detectRepeatedChords } from './repeated-chords.ts';
import { detectScales } from './scales.ts';
import { detectStride } from './stride.ts';
import { detectTremolo } from './tremolo.ts';
import { detectTrills } from './trills.ts';
import {
  TEXTURES,
  type BarTextures,
  type PieceTextures,
  type Span,
  type TextureName,
  type WindowTextures,
} from './types.ts';
import { detectWideArpeggios } from './wide-arpeggios.ts';

/**
 * The detectors stage: rules over the notes that say where a texture sounds, independent of any
 * model. Each texture has its own small module (the rule in musical words in its header); they
 * share the chord, hand, line and beat helpers of notes.ts and context.ts. A detector returns the
 * spans (seconds) where its texture sounds; a bar has the texture when the spans cover at least
 * one beat of it (or half the bar, whichever is less); a window reports the share it covers.
 */
export * from './types.ts';
export { detectContext, type DetectContext } from './context.ts';

export const DETECTORS: Record<TextureName, (ctx: DetectContext) => Span[]> = {
  octaves: detectOctaves,
  'repeated-chords': detectRepeatedChords,
  'block-chords': detectBlockChords,
  alberti: detectAlberti,
  'broken-chords': detectBrokenChords,
  'wide-arpeggios': detectWideArpeggios,
  scales: detectScales,
  'chromatic-runs': detectChromaticRuns,
  trills: detectTrills,
  tremolo: detectTremolo,
  stride: detectStride,
  chorale: detectChorale,
  imitation: detectImitation,
};

/** Run every detector (or those named) over a piece: spans per texture and the bars. */
export function detectPiece(
  notes: readonly Note[],
  timeMap: TimeMap,
  textures: readonly TextureName[] = TEXTURES,
): PieceTextures {
  const ctx = detectContext(notes, timeMap);
  const spans = {} as Record<TextureName, Span[]>;
  for (const t of TEXTURES) spans[t] = textures.includes(t) ? DETECTORS[t](ctx) : [];
  const bars: BarTextures[] = ctx.bars.map((b) => {
    const textures = {} as Record<TextureName, boolean>;
    const strength = {} as Record<TextureName, number>;
    const need = Math.min(b.beat, (b.end - b.start) / 2) - 1e-3;
    for (const t of TEXTURES) {
      const covered = coverage(spans[t], b.start, b.end);
      textures[t] = covered >= need;
      strength[t] = covered / (b.end - b.start);
    }
    return { bar: b.bar, start: b.start, end: b.end, textures, strength };
  });
  return { spans, bars };
}

/** Per bar, which textures sound (see detectPiece). */
export function detectBars(notes: readonly Note[], timeMap: TimeMap): BarTextures[] {
  return detectPiece(notes, timeMap).bars;
}

/** Share of [start, end) each texture covers, from a piece's spans; present when >= threshold. */
export function windowTextures(
  piece: PieceTextures,
  start: number,
  end: number,
  threshold = 0.5,
): WindowTextures {
  const share = {} as Record<TextureName, number>;
  const present = {} as Record<TextureName, boolean>;
  for (const t of TEXTURES) {
    share[t] = end > start ? coverage(piece.spans[t], start, end) / (end - start) : 0;
    present[t] = share[t] >= threshold;
  }
  return { start, end, share, present };
}

/**
 * Textures of one window of a piece, e.g. a model window. Detects over the whole piece (so figures
 * crossing the window's edges are seen whole); for many windows of one piece call detectPiece once
 * and windowTextures per window.
 */
export function detectWindow(
  notes: readonly Note[],
  timeMap: TimeMap,
  start: number,
  end: number,
  threshold = 0.5,
): WindowTextures {
  return windowTextures(detectPiece(notes, timeMap), start, end, threshold);
}
