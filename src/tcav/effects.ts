import type { Excerpt } from '../corpus/types.ts';
import type { ConceptLens } from '../lens/lens.ts';
import type { HeadModel } from '../model/head.ts';
import { sha256 } from '../util/files.ts';
import { yieldToSignals } from '../util/interrupt.ts';
import { cachedVector } from './null-cache.ts';

/**
 * The mean gradient of each target composer's logit at a layer, over many of its windows.
 *
 * A TCAV effect is the mean directional derivative of a composer's logit along a unit CAV w over
 * the composer's windows: mean_e g(e) . w = gbar . w, linear in the gradient. So the effect over
 * ALL of a composer's windows costs one gradient per window, summed once per layer, and then one
 * dot product per CAV, whatever the number of windows. Scores (the share of excerpts a concept
 * pushes up) need per-excerpt signs and stay on a sample (`targetExcerpts`).
 *
 * Why: with effects read on a sample of 100 excerpts, which excerpts were drawn moved a cell's z
 * by about 0.05 between seeds on ASAP, more for composers whose pieces differ a lot (Liszt: the
 * concept's effect 0.145-0.179 across seeds; docs/method.md "What the numbers mean"). Over every window
 * (up to `effectWindows` per composer) the effect is a property of the corpus, not of a draw.
 */
export interface MeanGradients {
  /** [targets x layer size], row t: mean gradient of target t's logit over its windows. */
  grads: Float32Array;
  /** Windows each row averages. */
  windows: number[];
}

/** Per lens, layer, composer and window set: a mean gradient is computed once per process. */
const memo = new WeakMap<ConceptLens, Map<string, Promise<Float32Array>>>();

export async function meanGradients(
  lens: ConceptLens,
  head: HeadModel,
  layer: string,
  targets: readonly { classIndex: number; windows: readonly Excerpt[] }[],
): Promise<MeanGradients> {
  let byKey = memo.get(lens);
  if (!byKey) memo.set(lens, (byKey = new Map()));
  const cache = byKey;
  const rows: Float32Array[] = [];
  for (const t of targets) {
    const key = sha256(`${layer}\n${t.classIndex}\n${t.windows.map((w) => w.id).join('\n')}`);
    let found = cache.get(key);
    if (!found) {
      // On disk too (null-cache.ts): the pass over every window is most of a rerun's cost.
      found = cachedVector(
        lens,
        'mean-gradients',
        `${lens.classifier.sha256}\n${JSON.stringify(lens.classifier.input)}${lens.classifier.outputKey}\n${key}`,
        () => meanGradient(lens, head, layer, t),
      );
      cache.set(key, found);
      // A failed or interrupted pass is not remembered.
      found.catch(() => cache.delete(key));
    }
    rows.push(await found);
  }
  const D = head.size;
  const grads = new Float32Array(targets.length * D);
  rows.forEach((r, i) => grads.set(r, i * D));
  return { grads, windows: targets.map((t) => t.windows.length) };
}

/** Mean gradient of one composer's logit over its windows, streamed (memory: one chunk). */
async function meanGradient(
  lens: ConceptLens,
  head: HeadModel,
  layer: string,
  target: { classIndex: number; windows: readonly Excerpt[] },
): Promise<Float32Array> {
  const D = head.size;
  const sum = new Float64Array(D);
  lens.progress.start(
    `${layer}: mean gradient over ${target.windows.length} windows`,
    target.windows.length,
  );
  try {
    for await (const batch of lens.streamActivations(target.windows, layer)) {
      const classes = new Array<number>(batch.n).fill(target.classIndex);
      const g = await head.logitGradients(batch.acts, batch.n, classes);
      for (let i = 0; i < batch.n; i++) {
        const row = i * D;
        for (let x = 0; x < D; x++) sum[x] += g[row + x];
      }
      lens.progress.tick(batch.n);
      await yieldToSignals();
    }
  } finally {
    lens.progress.stop();
  }
  const n = Math.max(1, target.windows.length);
  return Float32Array.from(sum, (v) => v / n);
}
