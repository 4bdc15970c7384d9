import type { HeadModel } from '../model/head.ts';
import { gram } from './linalg.ts';

/**
 * Derivatives of target excerpts' logits along many rows of activations at once.
 *
 * Every CAV TCAV draws (logistic or FastCAV) is a combination of its training rows,
 * w = sum_a alpha_a x_a (cav.ts), and a derivative is linear in the direction:
 *   d logit_c(e) / d w = g_c(e) . w = sum_a alpha_a (g_c(e) . x_a).
 * So the derivative of every excerpt along every CAV follows from one table, the derivative of
 * each excerpt's own logit along each row that can enter a CAV ([rows x excerpts]): a CAV then
 * costs a weighted sum of its rows' columns, and a thousand random CAVs cost no more model runs
 * than one. With exact gradients (HeadModel.gradients) the table is one matrix product, gradients
 * [excerpts x size] times rows^T; without them, one finite-difference directional derivative per
 * (excerpt, row) pair.
 */
export interface ExcerptSet {
  acts: Float32Array;
  n: number;
  /** The logit (class index) whose derivative is taken at each excerpt. */
  classes: number[];
}

/** The gradient API of branch `grad` (HeadModel.gradients), when the head has it. */
interface GradientHead {
  derivatives?: 'exact' | 'finite-difference';
  gradients?: (acts: Float32Array, n: number, weights: Float32Array) => Promise<Float32Array>;
}

export function hasExactGradients(head: HeadModel): boolean {
  const h = head as unknown as GradientHead;
  return h.derivatives === 'exact' && typeof h.gradients === 'function';
}

/**
 * The derivatives of fixed target excerpts along any rows: with exact gradients the excerpts'
 * gradients are computed once ([excerpts x size]) and every later table is a Gemm.
 */
export class DerivativeTable {
  private constructor(
    private readonly head: HeadModel,
    private readonly excerpts: ExcerptSet,
    /** Gradient of each excerpt's own logit, [excerpts x size], when exact. */
    private readonly gradients: Float32Array | undefined,
  ) {}

  static async create(head: HeadModel, excerpts: ExcerptSet): Promise<DerivativeTable> {
    if (!hasExactGradients(head) || excerpts.n === 0)
      return new DerivativeTable(head, excerpts, undefined);
    const weights = new Float32Array(excerpts.n * head.classes);
    excerpts.classes.forEach((c, i) => (weights[i * head.classes + c] = 1));
    const grads = await (head as unknown as Required<GradientHead>).gradients(
      excerpts.acts,
      excerpts.n,
      weights,
    );
    return new DerivativeTable(head, excerpts, grads);
  }

  get exact(): boolean {
    return this.gradients !== undefined;
  }

  /** table[r * excerpts.n + i] = d logit_{classes[i]}(excerpt i) / d row r (rows not normalised). */
  async along(rows: { acts: Float32Array; n: number }): Promise<Float64Array> {
    if (this.gradients)
      return gram(rows.acts, rows.n, this.gradients, this.excerpts.n, this.head.size);
    return finiteDifferenceTable(this.head, this.excerpts, rows);
  }
}

/** The table by finite differences along each (non-zero) row, normalised by the head and scaled back by |row|. */
async function finiteDifferenceTable(
  head: HeadModel,
  excerpts: ExcerptSet,
  rows: { acts: Float32Array; n: number },
): Promise<Float64Array> {
  const D = head.size;
  const E = excerpts.n;
  const out = new Float64Array(rows.n * E);
  if (rows.n === 0 || E === 0) return out;
  const norms: number[] = [];
  const used: number[] = [];
  const directions: Float32Array[] = [];
  for (let r = 0; r < rows.n; r++) {
    const row = rows.acts.subarray(r * D, (r + 1) * D);
    let s = 0;
    for (let e = 0; e < D; e++) s += row[e] * row[e];
    if (s > 0) {
      used.push(r);
      norms.push(Math.sqrt(s));
      directions.push(row);
    }
  }
  const classes = [...new Set(excerpts.classes)];
  const column = excerpts.classes.map((c) => classes.indexOf(c));
  const C = classes.length;
  // A few excerpts at a time keep the head's output small whatever the number of rows.
  const step = Math.max(1, Math.floor(4_000_000 / Math.max(1, directions.length * C)));
  for (let first = 0; first < E; first += step) {
    const count = Math.min(step, E - first);
    const d = await head.directionalDerivatives(
      excerpts.acts.subarray(first * D, (first + count) * D),
      count,
      directions,
      classes,
    );
    for (let i = 0; i < count; i++) {
      const c = column[first + i];
      used.forEach((r, j) => {
        out[r * E + first + i] = d[(i * directions.length + j) * C + c] * norms[j];
      });
    }
  }
  return out;
}
