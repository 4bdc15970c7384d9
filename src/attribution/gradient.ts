import { renderRoll } from '../midi/render.ts';
import type { Note } from '../midi/types.ts';
import type { ComposerClassifier } from '../model/classifier.ts';
import { itemToRollOrder, rollLayoutOf, rollsToBatch } from '../model/input.ts';
import { pitchCount } from '../model/spec.ts';
import type { GradientResult, NoteEffect } from '../results/gradient.ts';
import { UserError } from '../util/errors.ts';

/**
 * The gradient of one composer's logit with respect to the piano roll of one excerpt: for every
 * (channel, frame, pitch) cell, how much the logit would rise per unit of that cell's value, to
 * first order. Red where switching a cell on would raise it, blue where it would lower it. Each
 * note also gets its gradient x input (the sum over the cells it lights of gradient times value):
 * to first order, how much the logit owes to that note (removing it changes the logit by about
 * minus that amount).
 */
export async function gradientOfExcerpt(
  classifier: ComposerClassifier,
  notes: readonly Note[],
  composer: string,
): Promise<{ result: Omit<GradientResult, 'source' | 'model'>; gradient: Float32Array }> {
  const classIndex = classifier.labels.indexOf(composer);
  if (classIndex < 0)
    throw new UserError(
      `--composer ${composer}: not a label of the model (${classifier.labels.join(', ')})`,
    );
  const spec = classifier.input;
  const layout = rollLayoutOf(spec);
  const T = spec.windowFrames;
  const P = pitchCount(spec);
  const C = spec.channels.length;
  const roll = renderRoll(notes, layout).slice(0, T);
  const batch = rollsToBatch([roll], spec);
  const { logits } = await classifier.run(batch, 1);
  const weights = new Float32Array(classifier.classes);
  weights[classIndex] = 1;
  const head = await classifier.inputHead();
  const raw = await classifier.inputGradients(batch, 1, weights);
  // Back to the roll's [channel][frame][pitch] order, whatever the layout's axis order.
  const gradient = itemToRollOrder(raw, spec);

  const effects: NoteEffect[] = [];
  for (const n of notes) {
    if (n.pitch < spec.lowPitch || n.pitch > spec.highPitch || n.onset >= T / spec.fps) continue;
    const alone = renderRoll([n], layout).slice(0, T).data;
    let effect = 0;
    for (let i = 0; i < alone.length; i++) if (alone[i] !== 0) effect += gradient[i] * alone[i];
    effects.push({
      pitch: n.pitch,
      onset: n.onset,
      offset: Math.min(n.offset, T / spec.fps),
      velocity: n.velocity,
      effect,
    });
  }
  const max = Math.max(...logits);
  const exps = Array.from(logits, (l) => Math.exp(l - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return {
    gradient,
    result: {
      composer,
      classIndex,
      labels: classifier.labels,
      logits: Array.from(logits),
      probabilities: exps.map((e) => e / total),
      derivatives: head.derivatives,
      ...(head.derivativesNote ? { derivativesNote: head.derivativesNote } : {}),
      input: { ...spec },
      shape: [C, T, P],
      notes: effects,
    },
  };
}
