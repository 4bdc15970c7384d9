import type { PianoRoll } from '../midi/roll.ts';
import type { Progress } from '../util/progress.ts';
import { LOGITS, type ActivationCache } from './cache.ts';
import type { ComposerClassifier } from './classifier.ts';
import { rollsToBatch } from './input.ts';

/** One batch of a streamed activation pass: items [start, start + n). */
export interface ActivationBatch {
  start: number;
  n: number;
  /** [n x classes]. */
  logits: Float32Array;
  /** Per requested layer: [n x layer size]. */
  activations: Record<string, Float32Array>;
}

export interface ActivationOptions {
  batchSize?: number;
  /** Reuse and store activations on disk; needs `ids`. */
  cache?: ActivationCache;
  /** Stable identity of item i (an Excerpt id), the cache key. */
  ids?: (i: number) => string;
  progress?: Progress;
}

/**
 * Logits and activations of `count` inputs, batch by batch, so memory stays bounded by one batch
 * however large the corpus. With a cache, items whose every requested value is cached skip the
 * model; the rest run together in one session call per batch.
 */
export async function* activations(
  classifier: ComposerClassifier,
  count: number,
  getRoll: (i: number) => PianoRoll | Promise<PianoRoll>,
  layers: string[],
  { batchSize = 32, cache, ids, progress }: ActivationOptions = {},
): AsyncGenerator<ActivationBatch> {
  if (cache && !ids) throw new Error('activations: a cache needs excerpt ids');
  const sizes = Object.fromEntries([
    [LOGITS, classifier.classes],
    ...layers.map((l) => [l, size(classifier, l)]),
  ]);
  const keys = [LOGITS, ...layers];
  const tensorOf = (key: string) => (key === LOGITS ? LOGITS : classifier.layer(key).tensor);
  const ns = cache?.namespace(classifier.sha256, classifier.input);
  progress?.start('activations', count);
  try {
    for (let start = 0; start < count; start += batchSize) {
      const n = Math.min(batchSize, count - start);
      const out = Object.fromEntries(keys.map((k) => [k, new Float32Array(n * sizes[k])]));
      const missing: number[] = [];
      for (let j = 0; j < n; j++) {
        const cached = cache
          ? keys.map((k) => cache.get(ns!, tensorOf(k), ids!(start + j), sizes[k]))
          : [];
        if (cache && cached.every((v) => v !== null))
          keys.forEach((k, m) => out[k].set(cached[m]!, j * sizes[k]));
        else missing.push(j);
      }
      if (missing.length > 0) {
        const rolls = await Promise.all(missing.map((j) => getRoll(start + j)));
        const result = await classifier.run(
          rollsToBatch(rolls, classifier.input),
          missing.length,
          layers,
        );
        const computed: Record<string, Float32Array> = {
          [LOGITS]: result.logits,
          ...result.activations,
        };
        missing.forEach((j, m) => {
          for (const k of keys) {
            const values = computed[k].subarray(m * sizes[k], (m + 1) * sizes[k]);
            out[k].set(values, j * sizes[k]);
            cache?.put(ns!, tensorOf(k), ids!(start + j), values);
          }
        });
      }
      progress?.tick(n);
      const { [LOGITS]: logits, ...acts } = out;
      yield { start, n, logits, activations: acts };
    }
  } finally {
    progress?.stop();
  }
}

function size(classifier: ComposerClassifier, layer: string): number {
  return classifier.layer(layer).shape.reduce((a, b) => a * b, 1);
}
