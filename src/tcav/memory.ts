/**
 * How many random-pool windows TCAV keeps at a layer, so that memory stays bounded whatever the
 * layer's size.
 *
 * Why: TCAV holds the pool's activations (float32, [windows x layer size]) for the whole layer: every
 * CAV is a combination of pool rows, and the CAVs a concept bank keeps are made of them. At the
 * default pool of 5000 windows a layer of 281,600 values (a VGG's first block over 400 x 88 rolls)
 * needs 5.6 GB for the pool alone, which is how TCAV there peaked at 5.8 GB. The pool is a sample:
 * random concepts and counterexample sets of `setSize` windows are drawn from it, spread over pieces,
 * and a few hundred windows already give many distinct sets of 30. So the pool shrinks to what
 * POOL_MEMORY_BYTES holds, never below MIN_POOL, and the run says so in one line. Everything else
 * TCAV holds per layer is either small ([windows x windows] Gram matrices, per-target sums) or
 * linear in the target excerpts (their activations and gradients), which --target-excerpts bounds.
 * docs/your-model.md ("Wide layers and memory") has the measured peak.
 */

/**
 * Memory for the random pool's activations at one layer (float32): 768 MiB, so that the default
 * pool of 5000 windows is kept whole up to layers of 40,265 values (every layer of the shipped
 * ResNets but the stem), and TCAV at a 281,600-value layer peaks under 2 GB (measured).
 */
export const POOL_MEMORY_BYTES = 3 * 2 ** 28;

/** Fewest windows a bounded pool keeps (a counterexample set is 30 by default). */
export const MIN_POOL = 300;

export interface PoolBound {
  /** Windows to draw. */
  size: number;
  /** Said to the user when the pool was bounded. */
  note?: string;
}

export function boundedPoolSize(poolSize: number, layer: string, dim: number): PoolBound {
  const fits = Math.max(MIN_POOL, Math.floor(POOL_MEMORY_BYTES / (4 * dim)));
  if (poolSize <= fits) return { size: poolSize };
  const gb = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;
  return {
    size: fits,
    note: `${layer}: a random pool of ${fits} windows instead of ${poolSize}: ${poolSize} x ${dim.toLocaleString('en')} activations would take ${gb(4 * dim * poolSize)}; the pool is bounded to ${gb(POOL_MEMORY_BYTES)} (a smaller --pool-size avoids this note)`,
  };
}
