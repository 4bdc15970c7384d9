import { attrFloat, attrInt } from '../proto.ts';
import { rankOf, unbroadcast, type Rule, type RuleContext } from '../rule.ts';

/**
 * Matrix products. MatMul follows numpy: 1-D operands get a unit axis (removed again by
 * reshaping the gradient to the operand's run-time shape) and batch axes broadcast, so each
 * operand's gradient is summed over the batch axes it was stretched along.
 */

function swapLast(ctx: RuleContext, x: string, rank: number): string {
  const perm = [...Array(rank).keys()];
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return ctx.b.transpose(x, perm);
}

/** Dims (per probe) of the numpy-broadcast batch part of two stacked matrices, plus [rows, cols]. */
function stackedDims(aDims: number[], bDims: number[], rows: number, cols: number): number[] {
  const a = aDims.slice(0, -2);
  const b = bDims.slice(0, -2);
  const r = Math.max(a.length, b.length);
  const batch = [...Array(r).keys()].map((i) => {
    const x = a[i - (r - a.length)] ?? 1;
    const y = b[i - (r - b.length)] ?? 1;
    return x === 1 ? y : x;
  });
  return [...batch, rows, cols];
}

/** Sum a gradient with (per-probe) dims `full` over the batch axes `operand` was broadcast along, then reshape to it. */
function toOperand(ctx: RuleContext, g: string, full: number[][], operand: string): string {
  const own = ctx.info(operand).dims;
  const r = full[0].length;
  const axes: number[] = [];
  for (let a = 0; a < r - 2; a++) {
    const lead = r - own[0].length;
    if (own[0].length < 2 || a < lead) {
      // A 1-D operand has no batch axes; neither do the leading axes it lacks.
      axes.push(a);
    } else if (full.some((f, p) => own[p][a - lead] === 1 && f[a] !== 1)) axes.push(a);
  }
  const summed = axes.length > 0 ? ctx.b.reduce('ReduceSum', g, axes, true) : g;
  return ctx.b.reshapeLike(summed, operand);
}

const matMul: Rule = (ctx) => {
  const dy = ctx.dy();
  if (!dy) return [undefined, undefined];
  const b = ctx.b;
  const [A, B] = [ctx.input(0), ctx.input(1)];
  const ra = rankOf(ctx, A);
  const rb = rankOf(ctx, B);
  const probes = ctx.info(A).dims.length;
  // Promote 1-D operands to matrices, and dy to the matching [..., M, N].
  const A2 = ra === 1 ? b.unsqueeze(A, [0]) : A;
  const B2 = rb === 1 ? b.unsqueeze(B, [1]) : B;
  const ry = rankOf(ctx, ctx.output(0));
  let g = dy;
  if (ra === 1) g = b.unsqueeze(g, [rb === 1 ? ry : ry - 1]);
  if (rb === 1) g = b.unsqueeze(g, [ra === 1 ? ry + 1 : ry]);
  const aDims = [...Array(probes).keys()].map((p) => {
    const d = ctx.info(A).dims[p];
    return ra === 1 ? [1, d[0]] : d;
  });
  const bDims = [...Array(probes).keys()].map((p) => {
    const d = ctx.info(B).dims[p];
    return rb === 1 ? [d[0], 1] : d;
  });
  const ra2 = Math.max(ra, 2);
  const rb2 = Math.max(rb, 2);
  const out: (string | undefined)[] = [undefined, undefined];
  if (ctx.needs(0)) {
    const ga = b.op('MatMul', [g, swapLast(ctx, B2, rb2)]);
    const full = aDims.map((d, p) => stackedDims(d, bDims[p], d[d.length - 2], d[d.length - 1]));
    out[0] = toOperand(ctx, ga, full, A);
  }
  if (ctx.needs(1)) {
    const gb = b.op('MatMul', [swapLast(ctx, A2, ra2), g]);
    const full = bDims.map((d, p) => stackedDims(aDims[p], d, d[d.length - 2], d[d.length - 1]));
    out[1] = toOperand(ctx, gb, full, B);
  }
  return out;
};

/** Y = alpha A' B' + beta C, A' = transA ? A^T : A, B' likewise; A and B are matrices. */
const gemm: Rule = (ctx) => {
  const dy = ctx.dy();
  if (!dy) return [undefined, undefined, undefined];
  const b = ctx.b;
  const [A, B, C] = [ctx.input(0), ctx.input(1), ctx.input(2)];
  const alpha = attrFloat(ctx.node, 'alpha', 1);
  const beta = attrFloat(ctx.node, 'beta', 1);
  const transA = attrInt(ctx.node, 'transA', 0);
  const transB = attrInt(ctx.node, 'transB', 0);
  const out: (string | undefined)[] = [undefined, undefined, undefined];
  // dA' = alpha dy B'^T; dB' = alpha A'^T dy; transpose back where the operand was transposed.
  if (ctx.needs(0)) {
    out[0] = transA
      ? b.op('Gemm', [B, dy], { alpha: { float: alpha }, transA: transB, transB: 1 })
      : b.op('Gemm', [dy, B], { alpha: { float: alpha }, transB: transB ? 0 : 1 });
  }
  if (ctx.needs(1)) {
    out[1] = transB
      ? b.op('Gemm', [dy, A], { alpha: { float: alpha }, transA: 1, transB: transA })
      : b.op('Gemm', [A, dy], { alpha: { float: alpha }, transA: transA ? 0 : 1 });
  }
  if (C && ctx.needs(2)) {
    const scaled = beta === 1 ? dy : b.mul(dy, b.scalar(beta));
    out[2] = unbroadcast(ctx, scaled, ctx.output(0), C);
  }
  return out;
};

export const matmulRules: Record<string, Rule> = { MatMul: matMul, Gemm: gemm };
