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
  /** Why there are no gradients, when there are none. */
  noGradients?: string;
  /**
   * d(sum_c w[i, c] logit_c(roll_i)) / d roll_i, [n x roll size] in the roll's own layout
   * ([channel][frame][pitch]); undefined when the model layer cannot differentiate the model.
   */
  gradients?: (rolls: readonly PianoRoll[], weights: Float32Array) => Promise<Float32Array>;
}

/** Rows per model run: bounds the memory of a batch of candidate rolls (a 400 x 88 roll is 140 kB). */
const BATCH = 64;

/**
 * The attack's view of a classifier. Gradients are offered only when the model layer differentiates
 * the whole model exactly (reverse mode, src/model/autodiff): its finite-difference fallback would
 * take two model runs per input cell, far too many for a search.
 */
export async function attackModel(classifier: ComposerClassifier): Promise<AttackModel> {
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
  const head = await classifier.inputHead();
  const model: AttackModel = { labels: classifier.labels, logits };
  if (head.derivatives === 'exact') {
    const size = classifier.inputSize;
    model.gradients = async (rolls, weights) => {
      const out = new Float32Array(rolls.length * size);
      for (let s = 0; s < rolls.length; s += BATCH) {
        const part = rolls.slice(s, s + BATCH);
        const g = await classifier.inputGradients(
          rollsToBatch(part, spec),
          part.length,
          weights.subarray(s * C, (s + part.length) * C),
        );
        out.set(spec.layout === 'NCTP' ? g : toRollLayout(g, part.length, spec), s * size);
      }
      return out;
    };
  } else {
    model.noGradients = head.derivativesNote ?? 'the model layer takes no exact input gradients';
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
