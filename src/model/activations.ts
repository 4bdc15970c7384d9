import type { PianoRoll } from '../midi/roll.ts';
import { UserError } from '../util/errors.ts';
import { yieldToSignals } from '../util/interrupt.ts';
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

/** Values (input, logits and requested layers) one batch may hold: 2^26, 256 MB of float32. */
const MAX_BATCH_VALUES = 2 ** 26;
/**
 * Values of the model's widest intermediate tensor one batch may make onnxruntime hold: 2^24, 64 MB
 * of float32 per tensor. A VGG's first block over 400 x 88 rolls is 1.1 million values an item,
 * so a batch of 32 held several tensors of 144 MB each; the shipped ResNets (at most 140,800
 * values) keep batches of 32.
 */
const MAX_TENSOR_VALUES = 2 ** 24;

/**
 * Logits and activations of `count` inputs, batch by batch, so memory stays bounded by one batch
 * however large the corpus (batches shrink when the input or the layers are large). With a cache,
 * items whose every requested value is cached skip the model; the rest run together in one session
 * call per batch. Values the model computes are checked: a NaN or an infinity in the logits or the
 * activations fails the run (results computed from them would be meaningless, not merely noisy).
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
  const perItem = classifier.inputSize + keys.reduce((a, k) => a + sizes[k], 0);
  batchSize = Math.max(
    1,
    Math.min(
      batchSize,
      Math.floor(MAX_BATCH_VALUES / perItem),
      Math.floor(MAX_TENSOR_VALUES / Math.max(1, classifier.widestLayerValues)),
    ),
  );
  const tensorOf = (key: string) => (key === LOGITS ? LOGITS : classifier.layer(key).tensor);
  // A probabilities model's cached "logits" are what the output edit made of them (the logits
  // under a cut Softmax, or log-probabilities): a namespace of their own.
  const ns = cache?.namespace(
    classifier.sha256,
    classifier.output.kind === 'logits'
      ? classifier.input
      : {
          ...classifier.input,
          output: `${classifier.output.kind}${classifier.output.edit ? `:${classifier.output.edit}` : ''}`,
        },
  );
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
        for (const k of keys)
          checkFinite(classifier, k, computed[k], sizes[k], missing, ids, start);
        missing.forEach((j, m) => {
          for (const k of keys) {
            const values = computed[k].subarray(m * sizes[k], (m + 1) * sizes[k]);
            out[k].set(values, j * sizes[k]);
            cache?.put(ns!, tensorOf(k), ids!(start + j), values);
          }
        });
      }
      progress?.tick(n);
      await yieldToSignals();
      const { [LOGITS]: logits, ...acts } = out;
      yield { start, n, logits, activations: acts };
    }
  } finally {
    progress?.stop();
  }
}

function checkFinite(
  classifier: ComposerClassifier,
  key: string,
  values: Float32Array,
  size: number,
  missing: number[],
  ids: ((i: number) => string) | undefined,
  start: number,
): void {
  for (let i = 0; i < values.length; i++) {
    if (Number.isFinite(values[i])) continue;
    const item = start + missing[Math.floor(i / size)];
    const what = key === LOGITS ? 'logits' : `activations at layer ${key}`;
    throw new UserError(
      `${classifier.path}: the model's ${what} hold ${values[i]} for input ${ids ? ids(item) : item}; results computed from them would be meaningless`,
    );
  }
}

function size(classifier: ComposerClassifier, layer: string): number {
  return classifier.layer(layer).shape.reduce((a, b) => a * b, 1);
}
