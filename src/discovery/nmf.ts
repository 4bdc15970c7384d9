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
  /**
   * `mu`: multiplicative updates (scikit-learn's solver='mu'); `hals`: coordinate descent
   * (scikit-learn's default solver='cd'), which reaches the same error in far fewer iterations.
   */
  solver?: NmfSolver;
}

export type NmfSolver = 'mu' | 'hals';

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
  let normV2 = 0;
  for (let i = 0; i < V.length; i++) {
    if (V[i] < 0) throw new Error('nmf: the matrix has negative values');
    mean += V[i];
    normV2 += V[i] * V[i];
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
  const solver = options.solver ?? 'mu';
  const maxIterations = options.maxIterations ?? 200;
  const tolerance = options.tolerance ?? 1e-4;
  const sparse = SparseRows.of(V, n, m);

  const VHt = new Float64Array(n * k); // V H^T, [n x k]
  const HHt = new Float64Array(k * k);
  const VtW = new Float64Array(m * k); // (W^T V)^T, [m x k]
  const WtW = new Float64Array(k * k);
  const Ht = new Float64Array(m * k); // H^T, [m x k], for row-wise updates of H's columns
  const rowDenom = new Float64Array(k);
  let previous = Infinity;
  let it = 0;
  for (; it < maxIterations; it++) {
    // W first, then H, as scikit-learn does.
    gram(H, k, m, HHt);
    sparse.timesTransposed(H, k, VHt);
    if (solver === 'mu') {
      // W <- W * (V H^T) / (W H H^T); all of a row's denominators come from the old row.
      for (let i = 0; i < n; i++) {
        for (let a = 0; a < k; a++) {
          let denom = 0;
          for (let b = 0; b < k; b++) denom += W[i * k + b] * HHt[b * k + a];
          rowDenom[a] = denom;
        }
        for (let a = 0; a < k; a++) W[i * k + a] *= VHt[i * k + a] / Math.max(rowDenom[a], EPS);
      }
    } else coordinateDescent(W, n, k, HHt, VHt);
    gramRows(W, n, k, WtW);
    sparse.transposedTimes(W, k, VtW);
    if (solver === 'mu') {
      // H <- H * (W^T V) / (W^T W H)
      for (let j = 0; j < m; j++) {
        for (let a = 0; a < k; a++) {
          let denom = 0;
          for (let b = 0; b < k; b++) denom += WtW[a * k + b] * H[b * m + j];
          rowDenom[a] = denom;
        }
        for (let a = 0; a < k; a++) H[a * m + j] *= VtW[j * k + a] / Math.max(rowDenom[a], EPS);
      }
    } else {
      transpose(H, k, m, Ht);
      coordinateDescent(Ht, m, k, WtW, VtW);
      transpose(Ht, m, k, H);
    }
    yield;
    // Stop when the relative error improves by less than `tolerance` between checks (every 10
    // iterations of mu, every iteration of hals, whose iterations each gain more), from the
    // products at hand: ||V - WH||^2 = ||V||^2 - 2 <H, W^T V> + <W^T W, H H^T>.
    if (solver === 'hals' || (it + 1) % 10 === 0) {
      gram(H, k, m, HHt);
      const error =
        Math.sqrt(Math.max(0, normV2 - 2 * inner(H, VtW, k, m) + dot(WtW, HHt))) /
        Math.max(Math.sqrt(normV2), EPS);
      if (previous - error < tolerance) {
        it++;
        break;
      }
      previous = error;
    }
  }
  const error = relError(V, W, H, n, m, k, Math.sqrt(normV2));
  return { n, m, k, W, H, iterations: it, relativeError: error };
}

/**
 * One sweep of scikit-learn's coordinate descent (`_update_cdnmf_fast`, the HALS update of Cichocki
 * and Phan 2009) over the k columns of X [rows x k], for the fixed Gram matrix G [k x k] of the other
 * factor and the product P [rows x k] of the data with it: each coordinate moves to the minimum of
 * the objective along it, clipped at 0, using the row's values already updated.
 */
function coordinateDescent(
  X: Float64Array,
  rows: number,
  k: number,
  G: Float64Array,
  P: Float64Array,
): void {
  for (let t = 0; t < k; t++) {
    const hess = G[t * k + t];
    for (let i = 0; i < rows; i++) {
      let grad = -P[i * k + t];
      for (let r = 0; r < k; r++) grad += G[t * k + r] * X[i * k + r];
      if (hess !== 0) X[i * k + t] = Math.max(X[i * k + t] - grad / hess, 0);
    }
  }
}

/**
 * The data's non-zero entries by row (activations after a ReLU are mostly zeros), so that the two
 * products of an iteration cost one multiply-add per non-zero value and component.
 */
class SparseRows {
  private constructor(
    readonly n: number,
    readonly m: number,
    private readonly start: Int32Array,
    private readonly col: Int32Array,
    private readonly val: Float64Array,
  ) {}

  static of(V: ArrayLike<number>, n: number, m: number): SparseRows {
    let nnz = 0;
    for (let i = 0; i < n * m; i++) if (V[i] !== 0) nnz++;
    const start = new Int32Array(n + 1);
    const col = new Int32Array(nnz);
    const val = new Float64Array(nnz);
    let at = 0;
    for (let i = 0; i < n; i++) {
      start[i] = at;
      for (let j = 0; j < m; j++) {
        const v = V[i * m + j];
        if (v !== 0) {
          col[at] = j;
          val[at++] = v;
        }
      }
    }
    start[n] = at;
    return new SparseRows(n, m, start, col, val);
  }

  /** out [n x k] = V H^T, for H [k x m]. */
  timesTransposed(H: Float64Array, k: number, out: Float64Array): void {
    const { n, m, start, col, val } = this;
    out.fill(0);
    for (let i = 0; i < n; i++) {
      for (let e = start[i]; e < start[i + 1]; e++) {
        const v = val[e];
        const j = col[e];
        for (let a = 0; a < k; a++) out[i * k + a] += v * H[a * m + j];
      }
    }
  }

  /** out [m x k] = (W^T V)^T = V^T W, for W [n x k]. */
  transposedTimes(W: Float64Array, k: number, out: Float64Array): void {
    const { n, start, col, val } = this;
    out.fill(0);
    for (let i = 0; i < n; i++) {
      for (let e = start[i]; e < start[i + 1]; e++) {
        const v = val[e];
        const j = col[e];
        for (let a = 0; a < k; a++) out[j * k + a] += v * W[i * k + a];
      }
    }
  }
}

/** out [k x k] = H H^T for H [k x m]. */
function gram(H: Float64Array, k: number, m: number, out: Float64Array): void {
  out.fill(0);
  for (let a = 0; a < k; a++)
    for (let b = a; b < k; b++) {
      let s = 0;
      for (let j = 0; j < m; j++) s += H[a * m + j] * H[b * m + j];
      out[a * k + b] = out[b * k + a] = s;
    }
}

/** out [k x k] = W^T W for W [n x k]. */
function gramRows(W: Float64Array, n: number, k: number, out: Float64Array): void {
  out.fill(0);
  for (let i = 0; i < n; i++)
    for (let a = 0; a < k; a++) {
      const w = W[i * k + a];
      if (w === 0) continue;
      for (let b = 0; b < k; b++) out[a * k + b] += w * W[i * k + b];
    }
}

function transpose(X: Float64Array, rows: number, cols: number, out: Float64Array): void {
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = X[r * cols + c];
}

/** <H, P^T> for H [k x m] and P [m x k]. */
function inner(H: Float64Array, P: Float64Array, k: number, m: number): number {
  let s = 0;
  for (let a = 0; a < k; a++) for (let j = 0; j < m; j++) s += H[a * m + j] * P[j * k + a];
  return s;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
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
