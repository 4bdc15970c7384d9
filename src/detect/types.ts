/**
 * The vocabulary of the symbolic detectors: which textures they name, and what they answer per bar
 * and per window. A detector reads notes only (never a model): it is the musician's check on what
 * the model's concept lanes claim, and a way to gather concept examples from many pieces.
 */

/** Every texture a detector names, in the order pages and tables list them. */
export const TEXTURES = [
  'octaves',
  'repeated-chords',
  'block-chords',
  'alberti',
  'broken-chords',
  'wide-arpeggios',
  'scales',
  'chromatic-runs',
  'trills',
  'tremolo',
  'stride',
  'chorale',
  'imitation',
] as const;

export type TextureName = (typeof TEXTURES)[number];

export function isTextureName(name: string): name is TextureName {
  return (TEXTURES as readonly string[]).includes(name);
}

/** A stretch of time where a texture sounds, seconds from the start of the file. */
export interface Span {
  start: number;
  end: number;
}

/** What the detectors found in one bar. */
export interface BarTextures {
  /** 1-based bar number, as the file's time signatures count it (bar 1 starts at tick 0). */
  bar: number;
  /** Seconds. */
  start: number;
  end: number;
  /** Is the texture there: it sounds for at least one beat of the bar (see docs/detectors.md). */
  textures: Record<TextureName, boolean>;
  /** Share of the bar's duration the texture covers, 0..1. */
  strength: Record<TextureName, number>;
}

/** What the detectors found in a window of seconds (e.g. one model window). */
export interface WindowTextures {
  start: number;
  end: number;
  /** Share of the window's duration the texture covers, 0..1. */
  share: Record<TextureName, number>;
  /** share >= the threshold asked for (default 0.5). */
  present: Record<TextureName, boolean>;
}

/** Everything the detectors found in a piece: spans per texture, and the bars. */
export interface PieceTextures {
  spans: Record<TextureName, Span[]>;
  bars: BarTextures[];
}
