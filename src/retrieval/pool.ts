import type { AxisLabel } from '../model/axes.ts';
import type { Pooling } from './types.ts';

/**
 * One vector per window from a layer's activations. Pooling over time is the default: windows of
 * two performances of one passage are not aligned in time (tempo, rubato, where the window starts),
 * and averaging the map over its time axis keeps what is played (channels x pitch register) and
 * drops when. On ASAP at layer3 it more than doubles precision@10 for "same piece" and removes
 * most of the hubness (docs/similar.md), and it makes the index 25 times smaller.
 * Axes come from the model (src/model/axes.ts), so any layout works: a layer without a single time
 * axis (a vector after pooling, a sequence model's hidden state) is kept as it is.
 */

/** The pooling that applies to a layer with these axes (`none` where its axis is missing). */
export function effectivePooling(
  pooling: Pooling,
  shape: readonly number[],
  axes: readonly AxisLabel[],
): Pooling {
  if (pooling === 'none' || shape.length < 2) return 'none';
  const wanted = pooling === 'global' ? 'channel' : 'time';
  return axes.filter((a) => a === wanted).length === 1 ? pooling : 'none';
}

/** Values per pooled vector. */
export function pooledSize(
  pooling: Pooling,
  shape: readonly number[],
  axes: readonly AxisLabel[],
): number {
  const p = effectivePooling(pooling, shape, axes);
  const size = shape.reduce((a, b) => a * b, 1);
  if (p === 'none') return size;
  if (p === 'global') return shape[axes.indexOf('channel')];
  return size / shape[axes.indexOf('time')];
}

/**
 * Pool `n` activations (row-major [n x prod(shape)]) into `out` ([n x pooledSize]): 'time' and
 * 'time-max' drop the time axis (mean or max over it; the other axes keep their order), 'global'
 * keeps only the channel axis (mean over the rest).
 */
export function poolActivations(
  acts: Float32Array,
  n: number,
  shape: readonly number[],
  axes: readonly AxisLabel[],
  pooling: Pooling,
  out: Float32Array = new Float32Array(n * pooledSize(pooling, shape, axes)),
): Float32Array {
  const p = effectivePooling(pooling, shape, axes);
  const size = shape.reduce((a, b) => a * b, 1);
  const dims = pooledSize(pooling, shape, axes);
  if (acts.length !== n * size) throw new Error(`pool: ${acts.length} values for ${n} x ${size}`);
  if (out.length !== n * dims)
    throw new Error(`pool: output holds ${out.length}, need ${n * dims}`);
  if (p === 'none') {
    out.set(acts);
    return out;
  }
  const axis = axes.indexOf(p === 'global' ? 'channel' : 'time');
  const length = shape[axis];
  // Row-major offset e = (outer * length + position) * inner + rest.
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  out.fill(p === 'time-max' ? -Infinity : 0);
  for (let i = 0; i < n; i++) {
    const a = i * size;
    const o = i * dims;
    for (let e = 0; e < size; e++) {
      const v = acts[a + e];
      if (p === 'global') {
        out[o + (Math.floor(e / inner) % length)] += v / (size / length);
        continue;
      }
      const j = o + Math.floor(e / (length * inner)) * inner + (e % inner);
      if (p === 'time') out[j] += v / length;
      else if (v > out[j]) out[j] = v;
    }
  }
  return out;
}
