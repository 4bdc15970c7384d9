import { yieldToSignals } from '../util/interrupt.ts';
import { Rng } from '../util/random.ts';

/**
 * Non-negative matrix factorisation V ~= W H (V: n x m, W: n x k, H: k x m, all >= 0) by the
 * multiplicative updates of Lee & Seung (2001) for the Frobenius norm, the `mu` solver of
 * scikit-learn's NMF. ICE (Zhang et al. 2021) factorises the feature maps of a layer this way:
 * rows of V are the channel vectors at every (excerpt, time, pitch) position, rows of H are the
 * concepts (non-negative CAVs) and W says where each concept is active. Written by hand because
 * there is no maintained NMF package for JavaScript; it is 40 lines of arithmetic.
 */
export interface Nmf {
  n: number;
  m: number;
  k: number;
  /** [n x k] row-major. */
  W: Float64Array;
  /** [k x m] row-major. */
  H: Float64Array;
  iterations: number;
  /** Frobenius norm of V - WH over that of V. */
  relativeError: number;
}

export interface NmfOptions {
  seed?: number | string;
  maxIterations?: number;
  /** Stop when the relative error improves by less than this between checks. */
  tolerance?: number;
  /** Start from these factors instead of a seeded random start (tests compare with scikit-learn). */
  init?: { W: Float64Array; H: Float64Array };
}

const EPS = 1e-10;

export function nmf(
  V: Float32Array | Float64Array,
  n: number,
  m: number,
  k: number,
  options: NmfOptions = {},
): Nmf {
  const steps = nmfSteps(V, n, m, k, options);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** `nmf` letting a pending Ctrl-C act between iterations (one iteration of a large V takes ~0.1 s). */
export async function nmfAsync(
  V: Float32Array | Float64Array,
  n: number,
  m: number,
  k: number,
  options: NmfOptions = {},
): Promise<Nmf> {
  const steps = nmfSteps(V, n, m, k, options);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await yieldToSignals();
  }
}

/** The factorisation, pausing (yield) after each iteration. */
function* nmfSteps(
  V: Float32Array | Float64Array,
  n: number,
  m: number,
  k: number,
  options: NmfOptions,
): Generator<void, Nmf> {
  if (V.length !== n * m) throw new Error(`nmf: ${V.length} values for ${n} x ${m}`);
  let mean = 0;
  for (let i = 0; i < V.length; i++) {
    if (V[i] < 0) throw new Error('nmf: the matrix has negative values');
    mean += V[i];
  }
  mean /= V.length;
  let W: Float64Array;
  let H: Float64Array;
  if (options.init) {
    W = Float64Array.from(options.init.W);
    H = Float64Array.from(options.init.H);
  } else {
    // Like scikit-learn's 'random' init: |normal| values scaled to the data's mean.
    const rng = new Rng(options.seed ?? 0);
    const scale = Math.sqrt(mean / k);
    W = Float64Array.from({ length: n * k }, () => scale * Math.abs(rng.normal()));
    H = Float64Array.from({ length: k * m }, () => scale * Math.abs(rng.normal()));
  }
  const maxIterations = options.maxIterations ?? 200;
  const tolerance = options.tolerance ?? 1e-4;
  let normV = 0;
  for (let i = 0; i < V.length; i++) normV += V[i] * V[i];
  normV = Math.sqrt(normV);

  const WtV = new Float64Array(k * m);
  const WtW = new Float64Array(k * k);
  const VHt = new Float64Array(n * k);
  const HHt = new Float64Array(k * k);
  const rowDenom = new Float64Array(k);
  let previous = Infinity;
  let error = relError(V, W, H, n, m, k, normV);
  let it = 0;
  for (; it < maxIterations; it++) {
    // W first, then H, as scikit-learn does. W <- W * (V H^T) / (W H H^T)
    VHt.fill(0);
    HHt.fill(0);
    for (let a = 0; a < k; a++)
      for (let b = 0; b < k; b++)
        for (let j = 0; j < m; j++) HHt[a * k + b] += H[a * m + j] * H[b * m + j];
    for (let i = 0; i < n; i++) {
      for (let a = 0; a < k; a++) {
        let s = 0;
        for (let j = 0; j < m; j++) s += V[i * m + j] * H[a * m + j];
        VHt[i * k + a] = s;
      }
      // All of row i's denominators come from the old row, so compute them before updating it.
      for (let a = 0; a < k; a++) {
        let denom = 0;
        for (let b = 0; b < k; b++) denom += W[i * k + b] * HHt[b * k + a];
        rowDenom[a] = denom;
      }
      for (let a = 0; a < k; a++) W[i * k + a] *= VHt[i * k + a] / Math.max(rowDenom[a], EPS);
    }
    // H <- H * (W^T V) / (W^T W H)
    WtV.fill(0);
    WtW.fill(0);
    for (let i = 0; i < n; i++) {
      for (let a = 0; a < k; a++) {
        const w = W[i * k + a];
        if (w === 0) continue;
        for (let j = 0; j < m; j++) WtV[a * m + j] += w * V[i * m + j];
        for (let b = 0; b < k; b++) WtW[a * k + b] += w * W[i * k + b];
      }
    }
    for (let j = 0; j < m; j++) {
      for (let a = 0; a < k; a++) {
        let denom = 0;
        for (let b = 0; b < k; b++) denom += WtW[a * k + b] * H[b * m + j];
        rowDenom[a] = denom;
      }
      for (let a = 0; a < k; a++) H[a * m + j] *= WtV[a * m + j] / Math.max(rowDenom[a], EPS);
    }
    if ((it + 1) % 10 === 0) {
      error = relError(V, W, H, n, m, k, normV);
      if (previous - error < tolerance) {
        it++;
        break;
      }
      previous = error;
    }
    yield;
  }
  error = relError(V, W, H, n, m, k, normV);
  return { n, m, k, W, H, iterations: it, relativeError: error };
}

/** Coefficients W >= 0 of new rows V (n x m) for fixed components H: the W update alone, iterated. */
export function nmfTransform(
  V: Float32Array | Float64Array,
  n: number,
  H: Float64Array,
  k: number,
  m: number,
  iterations = 100,
): Float64Array {
  const W = new Float64Array(n * k).fill(1 / k);
  const HHt = new Float64Array(k * k);
  for (let a = 0; a < k; a++)
    for (let b = 0; b < k; b++)
      for (let j = 0; j < m; j++) HHt[a * k + b] += H[a * m + j] * H[b * m + j];
  const VHt = new Float64Array(k);
  const rowDenom = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < k; a++) {
      let s = 0;
      for (let j = 0; j < m; j++) s += V[i * m + j] * H[a * m + j];
      VHt[a] = s;
    }
    for (let it = 0; it < iterations; it++) {
      for (let a = 0; a < k; a++) {
        let denom = 0;
        for (let b = 0; b < k; b++) denom += W[i * k + b] * HHt[b * k + a];
        rowDenom[a] = denom;
      }
      for (let a = 0; a < k; a++) W[i * k + a] *= VHt[a] / Math.max(rowDenom[a], EPS);
    }
  }
  return W;
}

function relError(
  V: ArrayLike<number>,
  W: Float64Array,
  H: Float64Array,
  n: number,
  m: number,
  k: number,
  normV: number,
): number {
  let s = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      let r = 0;
      for (let a = 0; a < k; a++) r += W[i * k + a] * H[a * m + j];
      const d = V[i * m + j] - r;
      s += d * d;
    }
  }
  return Math.sqrt(s) / Math.max(normV, EPS);
}
