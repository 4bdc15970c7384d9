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
