/**
 * The contents of `<out>/timeline.json`: what `timeline` (and `explain --pieces`) found in each
 * piece, window by window. Times are seconds from the start of the file; bars and beats are
 * 1-based (beat may be fractional); per-window series are arrays aligned with `windows`; paths are
 * relative to the output folder. The docs/banks-timelines.md ("timeline.json") documents every field.
 */
import type { ModelIdentity } from './results.ts';

export const TIMELINE_FORMAT = 'concept-lens-timeline/1';

export interface TimelineResults {
  format: typeof TIMELINE_FORMAT;
  run: {
    tool: 'concept-lens';
    version: string;
    command: 'timeline' | 'explain';
    startedAt: string;
    seconds: number;
    /** Model window, seconds (windowFrames / fps). */
    windowSeconds: number;
    /** Seconds between window starts (in frames: hopFrames). */
    hopSeconds: number;
    hopFrames: number;
    /** Composers whose logit's derivative is reported for every window (`--composer`). */
    composers: string[];
    /** Windows exported as MIDI per concept and layer. */
    topWindows: number;
    /** How influence was differentiated at each layer (exact gradients, or why not). */
    derivatives: { layer: string; derivatives: 'exact' | 'finite-difference'; note?: string }[];
  };
  model: ModelIdentity;
  bank: {
    /** The bank folder, when the bank was read from one (explain builds it in the run). */
    path?: string;
    createdAt: string;
    corpus: string;
    referenceExcerpts: number;
    concepts: { name: string; description?: string; layers: string[] }[];
  };
  pieces: PieceTimeline[];
  /** Files that could not be read, each with its reason. */
  skipped: { file: string; reason: string }[];
}

export interface BarBeat {
  bar: number;
  beat: number;
}

export interface TimelineWindow {
  /** Window start and end, seconds. A padded window's end is the end of the piece. */
  start: number;
  end: number;
  startFrame: number;
  /** Where the file has a score time (a meter): bar and beat of the start and of the end. */
  bars?: { start: BarBeat; end: BarBeat };
  /** The composer the model predicts for this window. */
  predicted: string;
  /** Softmax of the logits, in the order of `model.labels`. */
  probabilities: number[];
}

export interface ConceptLane {
  concept: string;
  layer: string;
  /** Mean held-out accuracy of the concept's CAVs at this layer (below 0.7: presence means little). */
  cavAccuracy: number;
  reliable: boolean;
  /** Per window: the activation's dot product with the concept's unit mean CAV. */
  projection: number[];
  /**
   * Per window: share of the bank's reference corpus excerpts whose projection is lower (ties
   * count half), 0..1. 0.5 is typical of the corpus; near 1, few corpus excerpts carry more of it.
   */
  presence: number[];
  /**
   * Per window: directional derivative of the logit of the window's predicted composer along the
   * concept's unit mean CAV (positive: more of the concept would raise that composer).
   */
  influence: number[];
  /** The same for each `--composer`. */
  influenceOn: Record<string, number[]>;
  /**
   * What the lane may claim (src/bank/calibration.ts): `localises`: `probability` is calibrated
   * against a detector and checked on held-out pieces, and "present" means probability >=
   * threshold; `does-not-localise`: calibrated, but the direction failed the held-out check (no
   * lane is drawn); `not-calibrated`: no detector covers the concept (or an old bank): only the
   * rank (`presence`) is known, and nothing is called present.
   */
  status: 'localises' | 'does-not-localise' | 'not-calibrated';
  /** Per window, when calibrated: the probability that the detector hears the texture there. */
  probability?: number[];
  calibration?: {
    detector: string;
    threshold: number;
    heldOut: { auc: number | null; precision: number | null; recall: number | null };
    reason?: string;
  };
  /** Why the lane is not calibrated, in words. */
  uncalibrated?: string;
  /**
   * The windows of highest probability (calibrated) or presence (not calibrated), non-overlapping,
   * best first, exported as MIDI.
   */
  top: { window: number; presence: number; probability?: number; midi: string }[];
}

export interface PieceTimeline {
  /** The file, relative to the input folder (or its name, for a single file). */
  file: string;
  piece: string;
  title?: string;
  /** The composer the input names for the piece (a manifest or a composer folder), if any. */
  composer?: string;
  durationSeconds: number;
  notes: number;
  /** True when bars and beats are given (score MIDI or an explicit time signature). */
  scoreTime: boolean;
  /** Bar lines (bar number and time) when scoreTime. */
  barLines?: { bar: number; time: number }[];
  /** The piece is shorter than one window: its one window is padded with silence. */
  padded: boolean;
  /** Things a reader must know about this piece (padding, ...). */
  warnings: string[];
  windows: TimelineWindow[];
  /** The whole piece: mean log-probability of each composer over the windows, and its argmax. */
  overall: {
    predicted: string;
    /** Mean over windows of log softmax, per label. */
    meanLogProbability: Record<string, number>;
    /** The same renormalised (softmax of the means): the windows' geometric-mean vote. */
    probability: Record<string, number>;
  };
  lanes: ConceptLane[];
  /** The piece's HTML page, relative to the output folder. */
  page: string;
}
