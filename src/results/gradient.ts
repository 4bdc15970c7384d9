/**
 * `<out>/gradient.json`, written by `concept-lens model gradient`: the gradient of one composer's
 * logit with respect to one excerpt's piano roll. Times are seconds from the excerpt's start.
 */

export interface NoteEffect {
  pitch: number;
  onset: number;
  offset: number;
  velocity: number;
  /** Gradient x input summed over the cells the note lights: its first-order share of the logit. */
  effect: number;
  /** Where the note starts in the piece: bar (1-based) and beat (1-based, may be fractional). */
  bar?: number;
  beat?: number;
  /** The note's name spelled in the key of the excerpt, when the key is known. */
  spelled?: string;
}

export interface GradientResult {
  model: { path: string; sha256: string };
  source: {
    file: string;
    /** The excerpt, seconds within the file. */
    start: number;
    end: number;
    bars?: [number, number];
    /** Seconds of the excerpt the model saw (at most one window). */
    seen: number;
  };
  composer: string;
  classIndex: number;
  labels: string[];
  /** The excerpt's key as estimated from its notes (pitches are spelled in it). */
  key?: string;
  /** Model windows the excerpt is heard as, end to end (logits: their mean). */
  windows?: number;
  /** Bar lines inside the excerpt: bar number and seconds from the excerpt's start. */
  barLines?: { bar: number; time: number }[];
  /** The excerpt's logits and softmax probabilities, in label order. */
  logits: number[];
  probabilities: number[];
  derivatives: 'exact' | 'finite-difference';
  derivativesNote?: string;
  input: Record<string, unknown>;
  /** [channels, frames, pitches] of `gradient`. */
  shape: number[];
  /** d logit / d cell, [channel][frame][pitch] row-major, pitches ascending from input.lowPitch. */
  gradient?: { f32: string };
  notes: NoteEffect[];
}
