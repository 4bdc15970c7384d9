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
 * than one. With exact gradients (HeadModel.gradients) the excerpts' gradients are computed once
 * and every table is one matrix product, rows x gradients^T (an onnxruntime Gemm); without them
 * (a head with an op that has no backward rule, or --derivatives finite-difference), one
 * finite-difference directional derivative per (excerpt, row) pair.
 */
export interface ExcerptSet {
  acts: Float32Array;
  n: number;
  /** The logit (class index) whose derivative is taken at each excerpt. */
  classes: number[];
}

export class DerivativeTable {
  private constructor(
    private readonly head: HeadModel,
    private readonly excerpts: ExcerptSet,
    /** Gradient of each excerpt's own logit, [excerpts x size], when exact. */
    private readonly gradients: Float32Array | undefined,
  ) {}

  static async create(head: HeadModel, excerpts: ExcerptSet): Promise<DerivativeTable> {
    if (head.derivatives !== 'exact' || excerpts.n === 0)
      return new DerivativeTable(head, excerpts, undefined);
    return new DerivativeTable(
      head,
      excerpts,
      await head.logitGradients(excerpts.acts, excerpts.n, excerpts.classes),
    );
  }

  get exact(): boolean {
    return this.gradients !== undefined;
  }

  /** table[r * excerpts.n + i] = d logit_{classes[i]}(excerpt i) / d row r (rows not normalised). */
  async along(rows: { acts: Float32Array; n: number }): Promise<Float64Array> {
    if (this.gradients)
      return gram(rows.acts, rows.n, this.gradients, this.excerpts.n, this.head.size);
    return this.finiteDifferences(rows);
  }

  /** Finite differences along each non-zero row (as a unit direction), scaled back by |row|. */
  private async finiteDifferences(rows: { acts: Float32Array; n: number }): Promise<Float64Array> {
    const D = this.head.size;
    const E = this.excerpts.n;
    const out = new Float64Array(rows.n * E);
    const used: { row: number; norm: number; direction: Float32Array }[] = [];
    for (let r = 0; r < rows.n; r++) {
      const direction = rows.acts.subarray(r * D, (r + 1) * D);
      let s = 0;
      for (let e = 0; e < D; e++) s += direction[e] * direction[e];
      if (s > 0) used.push({ row: r, norm: Math.sqrt(s), direction });
    }
    if (used.length === 0 || E === 0) return out;
    // A few excerpts at a time keep the head's output [excerpts x rows x classes] small.
    const step = Math.max(1, Math.floor(2_000_000 / (used.length * this.head.classes)));
    for (let first = 0; first < E; first += step) {
      const count = Math.min(step, E - first);
      const d = await this.head.rowDerivatives(
        this.excerpts.acts.subarray(first * D, (first + count) * D),
        count,
        used.map((u) => u.direction),
        this.excerpts.classes.slice(first, first + count),
      );
      for (let i = 0; i < count; i++)
        used.forEach((u, j) => (out[u.row * E + first + i] = d[i * used.length + j] * u.norm));
    }
    return out;
  }
}
