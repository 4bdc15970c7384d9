import { EigenvalueDecomposition, Matrix, solve } from 'ml-matrix';

/**
 * A Concept Activation Vector: the normal of a linear classifier separating a concept's
 * activations from counterexample activations at one layer (Kim et al. 2018).
 *
 * The classifier is L2-regularised logistic regression with an intercept, the objective of
 * scikit-learn's LogisticRegression(C):  sum_i log(1 + exp(-y_i (w.x_i + b))) + |w|^2 / (2C).
 * Activations have far more dimensions (tens of thousands) than there are examples (tens), so
 * it is solved in the span of the training examples: w = X^T alpha, which only needs the Gram
 * matrix K = X X^T. With K = U S U^T, the coordinates Phi = U S^(1/2) are the examples in an
 * orthonormal basis of their span; Newton's method there is a small dense problem, and
 * alpha = U S^(-1/2) beta maps the solution back. Written by hand because no maintained
 * JavaScript package fits a regularised logistic regression in this kernel form.
 */
export interface LinearFit {
  /** w = sum_i alpha_i x_i over the training rows. */
  alpha: Float64Array;
  bias: number;
  /** |w|, from the Gram matrix. */
  norm: number;
  iterations: number;
}

/**
 * Fit on the rows of a Gram matrix `k` ([n x n], row-major) with labels y in {0, 1}.
 */
export function fitLogisticEvd(k: Float64Array, n: number, y: readonly number[], C = 1): LinearFit {
  if (y.length !== n) throw new Error(`fitLogistic: ${y.length} labels for ${n} rows`);
  const evd = new EigenvalueDecomposition(
    new Matrix(Array.from({ length: n }, (_, i) => Array.from(k.subarray(i * n, (i + 1) * n)))),
    {
      assumeSymmetric: true,
    },
  );
  const values = evd.realEigenvalues;
  const vectors = evd.eigenvectorMatrix;
  const top = Math.max(...values);
  const keep = values.map((v, j) => [v, j] as const).filter(([v]) => v > top * 1e-10 && v > 0);
  const r = keep.length;
  // Rows of Phi with a trailing 1 for the intercept: x_i = (phi_i, 1), row-major [n x (r + 1)].
  const R = r + 1;
  const x = new Float64Array(n * R);
  keep.forEach(([v, j], c) => {
    const s = Math.sqrt(v);
    for (let i = 0; i < n; i++) x[i * R + c] = vectors.get(i, j) * s;
  });
  for (let i = 0; i < n; i++) x[i * R + r] = 1;

  // Newton on theta = (beta, b) with a backtracking line search.
  let theta = new Float64Array(r + 1);
  const margins = (t: Float64Array) => {
    const f = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let c = 0; c < R; c++) s += x[i * R + c] * t[c];
      f[i] = s;
    }
    return f;
  };
  const objective = (t: Float64Array) => {
    const f = margins(t);
    let loss = 0;
    for (let i = 0; i < n; i++) loss += softplus(y[i] === 1 ? -f[i] : f[i]);
    let reg = 0;
    for (let c = 0; c < r; c++) reg += t[c] * t[c];
    return loss + reg / (2 * C);
  };
  let current = objective(theta);
  let iterations = 0;
  for (; iterations < 100; iterations++) {
    const f = margins(theta);
    const grad = new Float64Array(R);
    const h = new Float64Array(R * R);
    for (let i = 0; i < n; i++) {
      const p = sigmoid(f[i]);
      const g = p - y[i];
      const w = Math.max(p * (1 - p), 1e-12);
      for (let a = 0; a < R; a++) {
        const xa = x[i * R + a];
        grad[a] += g * xa;
        const wa = w * xa;
        for (let b = a; b < R; b++) h[a * R + b] += wa * x[i * R + b];
      }
    }
    for (let a = 0; a < r; a++) {
      grad[a] += theta[a] / C;
      h[a * R + a] += 1 / C;
    }
    h[r * R + r] += 1e-12;
    for (let a = 0; a < R; a++) for (let b = a + 1; b < R; b++) h[b * R + a] = h[a * R + b];
    const step = choleskySolve(h, R, grad);
    let decrement = 0;
    for (let a = 0; a <= r; a++) decrement += step[a] * grad[a];
    if (decrement / 2 < 1e-12) break;
    let t = 1;
    let next = theta;
    let value = current;
    while (t > 1e-8) {
      next = theta.map((v, a) => v - t * step[a]);
      value = objective(next);
      if (value <= current - 0.25 * t * decrement) break;
      t /= 2;
    }
    if (value > current) break;
    theta = next;
    current = value;
  }

  const alpha = new Float64Array(n);
  keep.forEach(([v, j], c) => {
    const scale = theta[c] / Math.sqrt(v);
    for (let i = 0; i < n; i++) alpha[i] += vectors.get(i, j) * scale;
  });
  let norm = 0;
  for (let c = 0; c < r; c++) norm += theta[c] * theta[c];
  return { alpha, bias: theta[r], norm: Math.sqrt(norm), iterations };
}

/**
 * Fit on the rows of a Gram matrix `k` ([n x n], row-major) with labels y in {0, 1}: Newton's
 * method on (alpha, b) directly. The Hessian of the objective in alpha is K (W K + I/C) (W the
 * logistic weights p(1 - p)), and its gradient K ((p - y) + alpha/C): both carry a factor K, so a
 * Newton step solves the (n + 1) x (n + 1) system
 *   [W K + I/C, W 1; 1^T W K, 1^T W 1] [da; db] = [(p - y) + alpha/C; 1^T (p - y)],
 * whose solutions satisfy the full Newton equations (the difference lies in the null space of K,
 * where alpha does not change w = X^T alpha). One LU solve per iteration, no eigendecomposition:
 * random concepts need tens of thousands of CAVs per test.
 */
export function fitLogistic(k: Float64Array, n: number, y: readonly number[], C = 1): LinearFit {
  if (y.length !== n) throw new Error(`fitLogistic: ${y.length} labels for ${n} rows`);
  const alpha = new Float64Array(n);
  const ka = new Float64Array(n); // K alpha
  let bias = 0;
  const objective = (a: Float64Array, kA: Float64Array, b: number) => {
    let loss = 0;
    let reg = 0;
    for (let i = 0; i < n; i++) {
      const f = kA[i] + b;
      loss += softplus(y[i] === 1 ? -f : f);
      reg += a[i] * kA[i];
    }
    return loss + reg / (2 * C);
  };
  let current = objective(alpha, ka, bias);
  const N1 = n + 1;
  const m = new Float64Array(N1 * N1);
  const rhs = new Float64Array(N1);
  const w = new Float64Array(n);
  let iterations = 0;
  for (; iterations < 100; iterations++) {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const p = sigmoid(ka[i] + bias);
      w[i] = Math.max(p * (1 - p), 1e-12);
      rhs[i] = p - y[i] + alpha[i] / C;
      s += p - y[i];
    }
    rhs[n] = s;
    m.fill(0);
    let wsum = 0;
    for (let i = 0; i < n; i++) {
      const wi = w[i];
      for (let j = 0; j < n; j++) {
        const kij = k[i * n + j];
        m[i * N1 + j] = wi * kij;
        m[n * N1 + j] += wi * kij;
      }
      m[i * N1 + i] += 1 / C;
      m[i * N1 + n] = wi;
      wsum += wi;
    }
    m[n * N1 + n] = wsum + 1e-12;
    const step = luSolve(m, N1, rhs);
    // Gradient (K r, s) along the step: the Newton decrement.
    const kStep = new Float64Array(n);
    let decrement = step[n] * s;
    for (let i = 0; i < n; i++) {
      let ks = 0;
      for (let j = 0; j < n; j++) ks += k[i * n + j] * step[j];
      kStep[i] = ks;
      decrement += ks * rhs[i];
    }
    if (!(decrement / 2 >= 1e-12)) break;
    let t = 1;
    let accepted = false;
    const nextA = new Float64Array(n);
    const nextKa = new Float64Array(n);
    while (t > 1e-8) {
      for (let i = 0; i < n; i++) {
        nextA[i] = alpha[i] - t * step[i];
        nextKa[i] = ka[i] - t * kStep[i];
      }
      const value = objective(nextA, nextKa, bias - t * step[n]);
      if (value <= current - 0.25 * t * decrement) {
        alpha.set(nextA);
        ka.set(nextKa);
        bias -= t * step[n];
        current = value;
        accepted = true;
        break;
      }
      t /= 2;
    }
    if (!accepted) break;
  }
  let squared = 0;
  for (let i = 0; i < n; i++) squared += alpha[i] * ka[i];
  return { alpha, bias, norm: Math.sqrt(Math.max(0, squared)), iterations };
}

/** Solve A x = b for a dense [n x n] A (row-major) by LU with partial pivoting; A and b are not kept. */
function luSolve(a: Float64Array, n: number, b: Float64Array): Float64Array {
  const lu = a.slice();
  const x = b.slice();
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let r = c + 1; r < n; r++)
      if (Math.abs(lu[r * n + c]) > Math.abs(lu[pivot * n + c])) pivot = r;
    if (pivot !== c) {
      for (let j = 0; j < n; j++) {
        const t = lu[c * n + j];
        lu[c * n + j] = lu[pivot * n + j];
        lu[pivot * n + j] = t;
      }
      const t = x[c];
      x[c] = x[pivot];
      x[pivot] = t;
    }
    const d = lu[c * n + c];
    if (d === 0) continue;
    for (let r = c + 1; r < n; r++) {
      const f = lu[r * n + c] / d;
      if (f === 0) continue;
      for (let j = c; j < n; j++) lu[r * n + j] -= f * lu[c * n + j];
      x[r] -= f * x[c];
    }
  }
  for (let r = n - 1; r >= 0; r--) {
    let v = x[r];
    for (let j = r + 1; j < n; j++) v -= lu[r * n + j] * x[j];
    const d = lu[r * n + r];
    x[r] = d === 0 ? 0 : v / d;
  }
  return x;
}

/** How a CAV is learnt: L2-regularised logistic regression (TCAV's linear classifier) or FastCAV. */
export type CavMethod = 'logistic' | 'fast';

/**
 * FastCAV (Schmalwasser, Penzel, Denzler, Niebling, ICML 2025): the CAV in closed form, the mean of
 * the concept's activations after centring on the mean of all training activations,
 *   w = mean_{y=1}(x) - mean(x),  decision w.(x - mean(x)),
 * which for balanced classes is half the difference of the class means. In the span form of this
 * file: alpha_i = [y_i = 1] / n_1 - 1 / n, bias = -w.mean(x) = -sum_j alpha_j mean_i K_ji.
 * No fit, so a CAV costs one pass over its Gram rows.
 */
export function fitFast(k: Float64Array, n: number, y: readonly number[]): LinearFit {
  if (y.length !== n) throw new Error(`fitFast: ${y.length} labels for ${n} rows`);
  const positives = y.filter((v) => v === 1).length;
  const alpha = new Float64Array(n);
  if (positives === 0 || positives === n) return { alpha, bias: 0, norm: 0, iterations: 0 };
  for (let i = 0; i < n; i++) alpha[i] = (y[i] === 1 ? 1 / positives : 0) - 1 / n;
  let bias = 0;
  let squared = 0;
  for (let j = 0; j < n; j++) {
    let rowSum = 0;
    let rowDot = 0;
    for (let i = 0; i < n; i++) {
      rowSum += k[j * n + i];
      rowDot += k[j * n + i] * alpha[i];
    }
    bias -= (alpha[j] * rowSum) / n;
    squared += alpha[j] * rowDot;
  }
  return { alpha, bias, norm: Math.sqrt(Math.max(0, squared)), iterations: 0 };
}

/** A CAV by either method, on the rows of a Gram matrix with labels in {0, 1}. */
export function fitCav(
  method: CavMethod,
  k: Float64Array,
  n: number,
  y: readonly number[],
  C = 1,
): LinearFit {
  return method === 'fast' ? fitFast(k, n, y) : fitLogistic(k, n, y, C);
}

/** Decision values w.x + b of rows whose inner products with the training rows are `cross` [m x n]. */
export function decision(fit: LinearFit, cross: Float64Array, m: number): Float64Array {
  const n = fit.alpha.length;
  const out = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let s = fit.bias;
    for (let j = 0; j < n; j++) s += cross[i * n + j] * fit.alpha[j];
    out[i] = s;
  }
  return out;
}

/**
 * Solve H x = g for a symmetric positive definite H ([n x n], row-major) by Cholesky; the Newton
 * systems here are small and always positive definite (the L2 term), and a dense general solver
 * cost most of a CAV's time. Falls back to LU (ml-matrix) if H is not numerically positive definite.
 */
function choleskySolve(h: Float64Array, n: number, g: Float64Array): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = h[i * n + j];
      for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
      if (i === j) {
        if (!(s > 0)) {
          const m = new Matrix(n, n);
          for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) m.set(a, b, h[a * n + b]);
          return Float64Array.from(solve(m, Matrix.columnVector(Array.from(g))).getColumn(0));
        }
        l[i * n + i] = Math.sqrt(s);
      } else l[i * n + j] = s / l[j * n + j];
    }
  }
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = g[i];
    for (let k = 0; k < i; k++) s -= l[i * n + k] * z[k];
    z[i] = s / l[i * n + i];
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = z[i];
    for (let k = i + 1; k < n; k++) s -= l[k * n + i] * x[k];
    x[i] = s / l[i * n + i];
  }
  return x;
}

function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** log(1 + e^z), without overflow. */
function softplus(z: number): number {
  return z > 30 ? z : Math.log1p(Math.exp(z));
}
