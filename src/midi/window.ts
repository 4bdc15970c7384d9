/**
 * Cutting a piece into the fixed-size windows a model sees. Windows are given by start frame.
 *
 * `last` decides the tail that a whole window does not cover:
 *   'drop'  leave it out;
 *   'pad'   one more window at the next hop, zero-padded past the end;
 *   'shift' one more window aligned to the end of the piece (overlapping the previous one).
 * A piece shorter than one window gives one zero-padded window at frame 0, unless `last` is 'drop'
 * (then none).
 */
import type { CorpusEntry, Excerpt } from '../corpus/types.ts';
import { Rng } from '../util/random.ts';
import { rollFrames } from './render.ts';
import type { RollLayout } from './roll.ts';
import { secondsToBar } from './timemap.ts';
import type { MidiContent } from './types.ts';

export interface WindowOptions {
  /** Frames per window (default 400: 20 s at 20 fps). */
  windowFrames?: number;
  /** Frames between window starts (default: windowFrames, no overlap). */
  hopFrames?: number;
  last?: 'drop' | 'pad' | 'shift';
  /** Keep a seeded random choice of this many windows per piece (sorted by start). */
  perPiece?: number;
  /** Seed of the perPiece choice (default 0). makeExcerpts mixes in the file name. */
  seed?: number | string;
}

export function windowStarts(totalFrames: number, options: WindowOptions = {}): number[] {
  const W = options.windowFrames ?? 400;
  const H = options.hopFrames ?? W;
  const last = options.last ?? 'drop';
  if (!(W >= 1 && H >= 1))
    throw new Error(`windowStarts: windowFrames (${W}) and hopFrames (${H}) must be >= 1`);

  let starts: number[] = [];
  if (totalFrames < W) {
    if (last !== 'drop' && totalFrames > 0) starts.push(0);
  } else {
    for (let s = 0; s + W <= totalFrames; s += H) starts.push(s);
    const covered = starts[starts.length - 1] + W;
    if (covered < totalFrames) {
      const next = starts[starts.length - 1] + H;
      if (last === 'pad' && next < totalFrames) starts.push(next);
      if (last === 'shift') starts.push(totalFrames - W);
    }
  }
  if (options.perPiece !== undefined && starts.length > options.perPiece) {
    starts = new Rng(options.seed ?? 0).sample(starts, options.perPiece).sort((a, b) => a - b);
  }
  return starts;
}

/**
 * The excerpts of one file. `end` is the end of the window, or of the piece for a padded window.
 * Bars (inclusive) are given for score MIDI; for an entry of unknown kind, when the file has an
 * explicit time signature; never for performances (their 4/4 at 120 bpm is a recording artefact).
 */
export function makeExcerpts(
  entry: CorpusEntry,
  content: MidiContent,
  layout: RollLayout,
  options: WindowOptions = {},
): Excerpt[] {
  const frames = options.windowFrames ?? 400;
  const total = rollFrames(content.durationSeconds, layout.fps);
  const seed = `${options.seed ?? 0}/${entry.file}`;
  const withBars =
    entry.kind === 'score' || (entry.kind === undefined && content.timeMap.explicitMeter === true);
  return windowStarts(total, { ...options, seed }).map((startFrame) => {
    const start = startFrame / layout.fps;
    const end = Math.min(
      (startFrame + frames) / layout.fps,
      Math.max(start, content.durationSeconds),
    );
    const excerpt: Excerpt = {
      id: `${entry.file}@${startFrame}+${frames}`,
      file: entry.file,
      piece: entry.piece,
      composer: entry.composer,
      startFrame,
      frames,
      start,
      end,
    };
    if (withBars) {
      const first = secondsToBar(content.timeMap, start).bar;
      // The bar holding the excerpt's last instant: an end on a bar line belongs to the bar before.
      const last = secondsToBar(content.timeMap, Math.max(start, end - 1e-6)).bar;
      excerpt.bars = { start: first, end: last };
    }
    return excerpt;
  });
}
