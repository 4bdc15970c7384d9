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

/** Gradients [n x size] of the own logit of n excerpts, one block of the table's columns. */
export interface GradientBlock {
  gradients: Float32Array;
  n: number;
  classes: number[];
}

export class DerivativeTable {
  private constructor(
    private readonly head: HeadModel,
    /** The excerpts; their activations are needed only for finite differences. */
    private readonly excerpts: ExcerptSet,
    /** Gradient of each excerpt's own logit, in blocks of consecutive excerpts, when exact. */
    private readonly blocks: GradientBlock[] | undefined,
  ) {}

  static async create(head: HeadModel, excerpts: ExcerptSet): Promise<DerivativeTable> {
    if (head.derivatives !== 'exact' || excerpts.n === 0)
      return new DerivativeTable(head, excerpts, undefined);
    const gradients = await head.logitGradients(excerpts.acts, excerpts.n, excerpts.classes);
    return new DerivativeTable(head, excerpts, [
      { gradients, n: excerpts.n, classes: excerpts.classes },
    ]);
  }

  /**
   * A table from gradients taken block by block (each target's excerpts as soon as their
   * activations are read, src/tcav/run.ts), so that the excerpts' activations need not be kept or
   * stacked into one more copy: at a wide layer each copy is hundreds of megabytes.
   */
  static fromGradients(head: HeadModel, blocks: GradientBlock[]): DerivativeTable {
    const n = blocks.reduce((a, b) => a + b.n, 0);
    const classes = blocks.flatMap((b) => b.classes);
    return new DerivativeTable(head, { acts: new Float32Array(0), n, classes }, blocks);
  }

  get exact(): boolean {
    return this.blocks !== undefined;
  }

  /** table[r * excerpts.n + i] = d logit_{classes[i]}(excerpt i) / d row r (rows not normalised). */
  async along(rows: { acts: Float32Array; n: number }): Promise<Float64Array> {
    if (!this.blocks) return this.finiteDifferences(rows);
    const D = this.head.size;
    if (this.blocks.length === 1)
      return gram(rows.acts, rows.n, this.blocks[0].gradients, this.blocks[0].n, D);
    const E = this.excerpts.n;
    const out = new Float64Array(rows.n * E);
    let at = 0;
    for (const b of this.blocks) {
      const part = await gram(rows.acts, rows.n, b.gradients, b.n, D);
      for (let r = 0; r < rows.n; r++) out.set(part.subarray(r * b.n, (r + 1) * b.n), r * E + at);
      at += b.n;
    }
    return out;
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
