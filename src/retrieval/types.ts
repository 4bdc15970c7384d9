/**
 * Nearest-neighbour retrieval in a model's activation space: the vocabulary shared by the
 * retrieval stage (index, distances, Mutual Proximity, hubness, hub attack).
 */

/** How a layer's [channels, time, pitch] map becomes one vector per window. */
export type Pooling = 'time' | 'time-max' | 'global' | 'none';
export const POOLINGS: readonly Pooling[] = ['time', 'time-max', 'global', 'none'];

export type Metric = 'euclidean' | 'cosine';
export const METRICS: readonly Metric[] = ['euclidean', 'cosine'];

/**
 * Secondary distances: none (the metric itself), or Mutual Proximity (Schnitzer, Flexer, Schedl,
 * Widmer, JMLR 2012) with the empirical distance distributions or independent Gaussians fitted to
 * them ("MP-GaussI").
 */
export type Scaling = 'none' | 'mp-empirical' | 'mp-gaussian';
export const SCALINGS: readonly Scaling[] = ['none', 'mp-empirical', 'mp-gaussian'];
