import { attrInt, attrInts, attrString } from '../proto.ts';
import { staticDims } from '../probe.ts';
import {
  constantInts,
  normalizeAxis,
  rankOf,
  unbroadcast,
  type Rule,
  type RuleContext,
} from '../rule.ts';

/**
 * Ops that move values without computing: the gradient moves back the same way. Reshapes take the
 * input's run-time shape (the batch may be folded into other axes, as attention blocks do);
 * slicing-like ops need static positions (starts, pads, indices), which the probe provides even
 * when PyTorch computed them with Shape/Gather/Concat.
 */

const reshapeBack: Rule = (ctx) => {
  const dy = ctx.dy();
  return [dy && ctx.needs(0) ? ctx.b.reshapeLike(dy, ctx.input(0)) : undefined];
};

const transpose: Rule = (ctx) => {
  const dy = ctx.dy();
  if (!dy || !ctx.needs(0)) return [undefined];
  const r = rankOf(ctx, ctx.input(0));
  const perm = attrInts(ctx.node, 'perm') ?? [...Array(r).keys()].reverse();
  const inverse = Array<number>(r);
  perm.forEach((p, i) => (inverse[p] = i));
  return [ctx.b.transpose(dy, inverse)];
};

const expand: Rule = (ctx) => {
  const dy = ctx.dy();
  return [
    dy && ctx.needs(0) ? unbroadcast(ctx, dy, ctx.output(0), ctx.input(0)) : undefined,
    undefined,
  ];
};

/** Offsets of each input along the concatenation axis, static or computed at run time. */
const concat: Rule = (ctx) => {
  const dy = ctx.dy();
  const inputs = ctx.node.input ?? [];
  if (!dy) return inputs.map(() => undefined);
  const b = ctx.b;
  const r = rankOf(ctx, ctx.output(0));
  const axis = normalizeAxis(attrInt(ctx.node, 'axis', 0), r);
  const sizes = inputs.map((t) => staticDims(ctx.info(t))[axis]);
  const out: (string | undefined)[] = [];
  if (sizes.every((s) => s !== null)) {
    let at = 0;
    for (const [i, s] of (sizes as number[]).entries()) {
      out.push(ctx.needs(i) ? b.slice(dy, [at], [at + s], [axis]) : undefined);
      at += s;
    }
    return out;
  }
  // Concatenation along an axis that grows with the batch: offsets from run-time shapes.
  const size = (t: string) => b.op('Gather', [b.shape(t), b.ints([axis])], { axis: 0 });
  let start = b.ints([0]);
  for (const [i, t] of inputs.entries()) {
    const end = b.add(start, size(t));
    out.push(ctx.needs(i) ? b.op('Slice', [dy, start, end, b.ints([axis])]) : undefined);
    start = end;
  }
  return out;
};

/** Split: the gradient is the concatenation of the outputs' gradients (zeros where none flows). */
const split: Rule = (ctx) => {
  const outputs = ctx.node.output ?? [];
  const grads = outputs.map((_, i) => ctx.dy(i));
  if (!ctx.needs(0) || grads.every((g) => !g)) return [undefined];
  const r = rankOf(ctx, ctx.input(0));
  const axis = normalizeAxis(attrInt(ctx.node, 'axis', 0), r);
  const parts = outputs.map((y, i) => grads[i] ?? ctx.b.zerosLike(y));
  return [parts.length === 1 ? parts[0] : ctx.b.op('Concat', parts, { axis })];
};

/** Positions of x along one axis that a Slice keeps, in output order (ONNX clamping rules). */
export function slicePositions(dim: number, start: number, end: number, step: number): number[] {
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  const out: number[] = [];
  if (step > 0) {
    s = clamp(s, 0, dim);
    e = clamp(e, 0, dim);
    for (let i = s; i < e; i += step) out.push(i);
  } else {
    s = clamp(s, -1, dim - 1);
    e = clamp(e, -1, dim - 1);
    for (let i = s; i > e; i += step) out.push(i);
  }
  return out;
}

/**
 * Put `g` (whose axis `axis` holds x's positions `positions`, in that order) back at those
 * positions of an axis of length `dim`, zeros elsewhere. A contiguous run is a zero Pad; anything
 * else is a Gather from g with one zero slot appended (positions are distinct).
 */
function scatterAlongAxis(
  ctx: RuleContext,
  g: string,
  r: number,
  axis: number,
  positions: number[],
  dim: number,
): string {
  const b = ctx.b;
  const contiguous = positions.every((p, j) => p === positions[0] + j);
  if (contiguous && positions.length > 0) {
    const pads = Array(2 * r).fill(0);
    pads[axis] = positions[0];
    pads[axis + r] = dim - positions[0] - positions.length;
    return b.pad(g, pads);
  }
  const pads = Array(2 * r).fill(0);
  pads[axis + r] = 1;
  const padded = b.pad(g, pads);
  const map = Array(dim).fill(positions.length);
  positions.forEach((p, j) => (map[p] = j));
  return b.op('Gather', [padded, b.ints(map)], { axis });
}

const slice: Rule = (ctx) => {
  const dy = ctx.dy();
  if (!dy || !ctx.needs(0)) return [undefined];
  if (ctx.opset < 10) ctx.unsupported('Slice before opset 10');
  const x = ctx.input(0);
  const r = rankOf(ctx, x);
  const starts = constantInts(ctx, 1, 'starts');
  const ends = constantInts(ctx, 2, 'ends');
  const axes = ctx.input(3)
    ? constantInts(ctx, 3, 'axes').map((a) => normalizeAxis(a, r))
    : starts.map((_, i) => i);
  const steps = ctx.input(4) ? constantInts(ctx, 4, 'steps') : starts.map(() => 1);
  const dims = staticDims(ctx.info(x));
  let g = dy;
  axes.forEach((axis, i) => {
    const dim = dims[axis];
    if (dim === null)
      return ctx.unsupported('slicing along an axis that depends on the batch size');
    const positions = slicePositions(dim, starts[i], ends[i], steps[i]);
    if (positions.length === dim && positions.every((p, j) => p === j)) return;
    g = scatterAlongAxis(ctx, g, r, axis, positions, dim);
  });
  return [g];
};

/**
 * Pad. Constant mode: the gradient is the slice of dy the input landed in (re-padded with zeros
 * where the pads were negative, i.e. crops). Reflect and edge modes copy input positions into
 * the border, so each axis is a linear map whose transpose is applied as a matrix product.
 */
const pad: Rule = (ctx) => {
  const dy = ctx.dy();
  if (!dy || !ctx.needs(0)) return [undefined];
  if (ctx.opset < 11) ctx.unsupported('Pad before opset 11');
  const b = ctx.b;
  const x = ctx.input(0);
  const r = rankOf(ctx, x);
  const given = constantInts(ctx, 1, 'pads');
  const axes =
    ctx.input(3) && ctx.opset >= 18
      ? constantInts(ctx, 3, 'axes').map((a) => normalizeAxis(a, r))
      : [...Array(r).keys()];
  const pads = Array(2 * r).fill(0);
  axes.forEach((a, i) => {
    pads[a] = given[i];
    pads[a + r] = given[i + axes.length];
  });
  const mode = attrString(ctx.node, 'mode', 'constant');
  const yDims = staticDims(ctx.info(ctx.output(0)));
  const xDims = staticDims(ctx.info(x));
  const padded = [...Array(r).keys()].filter((a) => pads[a] !== 0 || pads[a + r] !== 0);
  if (padded.some((a) => yDims[a] === null || xDims[a] === null))
    ctx.unsupported('padding along an axis that depends on the batch size');
  if (mode === 'constant') {
    const starts = padded.map((a) => Math.max(pads[a], 0));
    const ends = padded.map((a) => yDims[a]! - Math.max(pads[a + r], 0));
    const sliced = padded.length > 0 ? b.slice(dy, starts, ends, padded) : dy;
    const back = Array(2 * r).fill(0);
    for (const a of padded) {
      back[a] = Math.max(-pads[a], 0);
      back[a + r] = Math.max(-pads[a + r], 0);
    }
    return [b.pad(sliced, back)];
  }
  if (mode !== 'reflect' && mode !== 'edge') ctx.unsupported(`Pad mode ${mode}`);
  let g = dy;
  for (const a of padded) {
    const n = xDims[a]!;
    const m = yDims[a]!;
    // source[o]: the input position output position o copies.
    const source = [...Array(m).keys()].map((o) => {
      let i = o - pads[a];
      if (mode === 'edge') return Math.min(Math.max(i, 0), n - 1);
      while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
      return i;
    });
    g = alongAxis(ctx, g, r, a, source, n);
  }
  return [g];
};

/**
 * g' [..., n, ...] = sum over o of g[..., o, ...] placed at source[o] along `axis`: a matrix
 * product with a 0/1 matrix [m x n] after moving the axis last.
 */
function alongAxis(
  ctx: RuleContext,
  g: string,
  r: number,
  axis: number,
  source: number[],
  n: number,
): string {
  const b = ctx.b;
  const m = source.length;
  const matrix = new Float32Array(m * n);
  source.forEach((i, o) => (matrix[o * n + i] += 1));
  const perm = [...Array(r).keys()].filter((a) => a !== axis).concat(axis);
  const inverse = Array<number>(r);
  perm.forEach((p, i) => (inverse[p] = i));
  const moved = b.transpose(g, perm);
  const product = b.op('MatMul', [moved, b.floats(matrix, [m, n])]);
  return b.transpose(product, inverse);
}

/** Gather along an axis with static indices (any rank): positions repeat for embeddings. */
const gather: Rule = (ctx) => {
  const dy = ctx.dy();
  if (!dy || !ctx.needs(0)) return [undefined, undefined];
  const b = ctx.b;
  const x = ctx.input(0);
  const r = rankOf(ctx, x);
  const axis = normalizeAxis(attrInt(ctx.node, 'axis', 0), r);
  const dim = staticDims(ctx.info(x))[axis];
  if (dim === null)
    return ctx.unsupported('gathering along an axis that depends on the batch size');
  const indices = constantInts(ctx, 1, 'indices').map((i) => (i < 0 ? i + dim : i));
  const indexRank = rankOf(ctx, ctx.input(1));
  // dy has the indices' axes in place of `axis`: make them one axis of length K.
  let g = dy;
  if (indexRank === 0) g = b.unsqueeze(dy, [axis]);
  else if (indexRank > 1) {
    const shape = b.shape(x);
    const parts = [
      ...(axis > 0 ? [b.slice(shape, [0], [axis], [0])] : []),
      b.ints([indices.length]),
      ...(axis < r - 1 ? [b.slice(shape, [axis + 1], [r], [0])] : []),
    ];
    g = b.op('Reshape', [dy, parts.length === 1 ? parts[0] : b.op('Concat', parts, { axis: 0 })]);
  }
  const distinct = new Set(indices).size === indices.length;
  return [
    distinct
      ? scatterAlongAxis(ctx, g, r, axis, indices, dim)
      : alongAxis(ctx, g, r, axis, indices, dim),
    undefined,
  ];
};

export const shapeRules: Record<string, Rule> = {
  Flatten: reshapeBack,
  Reshape: (ctx) => [...reshapeBack(ctx), undefined],
  Squeeze: (ctx) => [...reshapeBack(ctx), undefined],
  Unsqueeze: (ctx) => [...reshapeBack(ctx), undefined],
  Transpose: transpose,
  Expand: expand,
  Concat: concat,
  Split: (ctx) => [...split(ctx), undefined],
  Slice: (ctx) => [...slice(ctx), undefined, undefined, undefined, undefined],
  Pad: (ctx) => [...pad(ctx), undefined, undefined, undefined],
  Gather: gather,
};
