import type { PianoRoll } from '../midi/roll.ts';
import type { ComposerClassifier } from '../model/classifier.ts';
import { rollsToBatch } from '../model/input.ts';
import { pitchCount } from '../model/spec.ts';

/**
 * The classifier as the attack uses it: logits of rolls, and (when the model layer provides them)
 * gradients of a weighted sum of logits with respect to the input roll. Attacks bypass the
 * activation cache: edited excerpts are seen once and would only fill it.
 */
export interface AttackModel {
  labels: string[];
  /** Logits [n x classes] of rolls shaped as the model's input window. */
  logits(rolls: readonly PianoRoll[]): Promise<Float32Array>;
  /**
   * d(sum_c w[i, c] logit_c(roll_i)) / d roll_i, [n x roll size] in the roll's own layout
   * ([channel][frame][pitch]); undefined when the model layer cannot differentiate the model.
   */
  gradients?: (rolls: readonly PianoRoll[], weights: Float32Array) => Promise<Float32Array>;
}

/** The exact input gradients of the model layer (branch grad), when it has them. */
type InputGradients = (
  batch: Float32Array,
  n: number,
  weights: Float32Array,
) => Promise<Float32Array>;

/** Rows per model run: bounds the memory of a batch of candidate rolls (a 400 x 88 roll is 140 kB). */
const BATCH = 64;

export function attackModel(classifier: ComposerClassifier): AttackModel {
  const spec = classifier.input;
  const C = classifier.classes;
  const logits = async (rolls: readonly PianoRoll[]) => {
    const out = new Float32Array(rolls.length * C);
    for (let s = 0; s < rolls.length; s += BATCH) {
      const part = rolls.slice(s, s + BATCH);
      const r = await classifier.run(rollsToBatch(part, spec), part.length);
      out.set(r.logits, s * C);
    }
    return out;
  };
  const model: AttackModel = { labels: classifier.labels, logits };
  // The one switch between gradient-guided and model-scored search: present once grad has landed.
  const inputGradients = (classifier as unknown as { inputGradients?: InputGradients })
    .inputGradients;
  if (typeof inputGradients === 'function') {
    const size = classifier.inputSize;
    model.gradients = async (rolls, weights) => {
      const out = new Float32Array(rolls.length * size);
      for (let s = 0; s < rolls.length; s += BATCH) {
        const part = rolls.slice(s, s + BATCH);
        const g = await inputGradients.call(
          classifier,
          rollsToBatch(part, spec),
          part.length,
          weights.subarray(s * C, (s + part.length) * C),
        );
        out.set(spec.layout === 'NCTP' ? g : toRollLayout(g, part.length, spec), s * size);
      }
      return out;
    };
  }
  return model;
}

/** NCPT model-input rows back to the roll's [channel][frame][pitch]. */
function toRollLayout(g: Float32Array, n: number, spec: ComposerClassifier['input']): Float32Array {
  const C = spec.channels.length;
  const T = spec.windowFrames;
  const P = pitchCount(spec);
  const out = new Float32Array(g.length);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < C; c++) {
      const base = (i * C + c) * T * P;
      for (let t = 0; t < T; t++)
        for (let p = 0; p < P; p++) out[base + t * P + p] = g[base + p * T + t];
    }
  return out;
}
