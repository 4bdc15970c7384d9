/**
 * How many random-pool windows and target excerpts TCAV keeps at a layer, so that memory stays
 * bounded whatever the layer's size.
 *
 * Why: TCAV holds two things per layer that grow with the layer's size. The pool's activations
 * (float32, [windows x layer size]): every CAV is a combination of pool rows, and the CAVs a concept
 * bank keeps are made of them. And the target excerpts' gradients (or, with finite differences,
 * their activations): every concept's derivatives are read from them. At the default pool of 5000
 * windows a layer of 281,600 values (a VGG's first block over 400 x 88 rolls) needs 5.6 GB for the
 * pool alone, and 5 composers x 100 target excerpts 0.56 GB more; TCAV there peaked at 5.8 GB, then
 * at 3.3 GB with the pool bounded alone. Both are samples: random concepts and counterexample sets
 * of `setSize` windows are drawn from the pool, spread over pieces, and a few hundred windows
 * already give many distinct sets of 30; a TCAV score is a share of target excerpts, which a few
 * dozen excerpts per composer estimate. So at a wide layer the target excerpts get at most
 * TARGET_MEMORY_BYTES (never fewer than MIN_TARGET_EXCERPTS per composer), the pool what is left
 * of LAYER_MEMORY_BYTES (at most POOL_MEMORY_BYTES, never fewer than MIN_POOL windows), and the
 * run says so in one line each. Everything else TCAV holds per layer is small ([windows x windows]
 * Gram matrices, per-target sums) or streamed (mean gradients, batches of activations).
 * docs/your-model.md ("Wide layers and memory") has the measured peak.
 */

/**
 * Memory for the pool's activations and the target excerpts' gradients at one layer: 896 MiB, so
 * that TCAV at a 281,600-value layer peaks well under 2 GB with everything else a run holds (node,
 * onnxruntime's sessions and buffers, the corpus), measured with the default flags.
 */
export const LAYER_MEMORY_BYTES = 7 * 2 ** 27;

/**
 * Memory for the random pool's activations at one layer (float32): 768 MiB, so that the default
 * pool of 5000 windows is kept whole up to layers of 40,265 values (every layer of the shipped
 * ResNets but the stem).
 */
export const POOL_MEMORY_BYTES = 3 * 2 ** 28;

/**
 * Memory for the target excerpts' gradients at one layer: 384 MiB, so that 5 composers x 100
 * excerpts are kept up to layers of 201,326 values (every layer of the shipped ResNets).
 */
export const TARGET_MEMORY_BYTES = 3 * 2 ** 27;

/** Fewest windows a bounded pool keeps (a counterexample set is 30 by default). */
export const MIN_POOL = 300;

/** Fewest target excerpts per composer a bound keeps. */
export const MIN_TARGET_EXCERPTS = 20;

const gb = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;

/** Target excerpts per composer at a layer of `dim` values, and a note when bounded. */
export function boundedTargetExcerpts(
  perComposer: number,
  composers: number,
  layer: string,
  dim: number,
): PoolBound {
  const fits = Math.max(
    MIN_TARGET_EXCERPTS,
    Math.floor(TARGET_MEMORY_BYTES / (4 * dim * Math.max(1, composers))),
  );
  if (perComposer <= fits) return { size: perComposer };
  return {
    size: fits,
    note: `${layer}: ${fits} target excerpts per composer instead of ${perComposer}: ${composers} x ${perComposer} x ${dim.toLocaleString('en')} gradients would take ${gb(4 * dim * perComposer * composers)}; they are bounded to ${gb(TARGET_MEMORY_BYTES)} (a smaller --target-excerpts avoids this note)`,
  };
}

export interface PoolBound {
  /** Windows to draw. */
  size: number;
  /** Said to the user when the pool was bounded. */
  note?: string;
}

/**
 * Pool windows at a layer of `dim` values, and a note when bounded; `reservedBytes` is what the
 * target excerpts already take of LAYER_MEMORY_BYTES.
 */
export function boundedPoolSize(
  poolSize: number,
  layer: string,
  dim: number,
  reservedBytes = 0,
): PoolBound {
  const budget = Math.min(POOL_MEMORY_BYTES, LAYER_MEMORY_BYTES - reservedBytes);
  const fits = Math.max(MIN_POOL, Math.floor(budget / (4 * dim)));
  if (poolSize <= fits) return { size: poolSize };
  return {
    size: fits,
    note: `${layer}: a random pool of ${fits} windows instead of ${poolSize}: ${poolSize} x ${dim.toLocaleString('en')} activations would take ${gb(4 * dim * poolSize)}; the pool is bounded to ${gb(budget)} (a smaller --pool-size avoids this note)`,
  };
}
