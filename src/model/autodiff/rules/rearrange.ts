import { attrInt, attrString } from '../proto.ts';
import { staticDims } from '../probe.ts';
import { fixedDims, normalizeAxis, rankOf, type Rule } from '../rule.ts';

/**
 * Ops that rearrange or pick values (issue 22): DepthToSpace (nn.PixelShuffle) and SpaceToDepth
 * (nn.PixelUnshuffle) are a reshape, a transpose and a reshape, undone in reverse order; Trilu
 * (torch.triu / tril) zeroes the same positions of the gradient; GatherElements (torch.gather)
 * and GatherND send each output's gradient back to the element it read, summed where several
 * outputs read one element. From opset 16 that is ScatterElements / ScatterND with reduction
 * add; before (and for GatherND's batch_dims), a one-hot comparison (OneHot) contracted with the
 * gradient. Indices get no gradient.
 */

/** DepthToSpace / SpaceToDepth on [N, C, H, W] with blocksize b. */
const depthSpace: Rule = (ctx) => {
  const dy = ctx.dy();
  if (!dy || !ctx.needs(0)) return [undefined];
  const b = ctx.b;
  const x = ctx.input(0);
  if (rankOf(ctx, x) !== 4) ctx.unsupported('an input that is not 4-D');
  const bs = attrInt(ctx.node, 'blocksize', 1);
  const [, C, H, W] = fixedDims(ctx, x, 'the input');
  let shape: number[];
  let perm: number[];
  if (ctx.node.opType === 'DepthToSpace') {
    // Forward: [N, b, b, C', H, W] (DCR) or [N, C', b, b, H, W] (CRD), transposed to
    // [N, C', H, b, W, b], reshaped to [N, C', H b, W b]. dy is reshaped to the transposed form.
    const c = C / (bs * bs);
    shape = [0, c, H, bs, W, bs];
    const dcr = attrString(ctx.node, 'mode', 'DCR') === 'DCR';
    perm = dcr ? [0, 3, 4, 1, 5, 2] : [0, 1, 4, 2, 5, 3];
  } else {
    // Forward: [N, C, H', b, W', b] transposed by [0, 3, 5, 1, 2, 4] to [N, b, b, C, H', W'].
    shape = [0, bs, bs, C, H / bs, W / bs];
    perm = [0, 3, 5, 1, 2, 4];
  }
  const inverse = Array<number>(6);
  perm.forEach((p, i) => (inverse[p] = i));
  const split = b.op('Reshape', [dy, b.ints(shape)]);
  return [b.reshapeLike(b.transpose(split, inverse), x)];
};

const trilu: Rule = (ctx) => {
  const dy = ctx.dy();
  if (!dy || !ctx.needs(0)) return [undefined, undefined];
  const inputs = ctx.input(1) ? [dy, ctx.input(1)] : [dy];
  return [ctx.b.op('Trilu', inputs, { upper: attrInt(ctx.node, 'upper', 1) }), undefined];
};

const gatherElements: Rule = (ctx) => {
  const dy = ctx.dy();
  if (!dy || !ctx.needs(0)) return [undefined, undefined];
  const b = ctx.b;
  const x = ctx.input(0);
  const r = rankOf(ctx, x);
  const axis = normalizeAxis(attrInt(ctx.node, 'axis', 0), r);
  const indices = ctx.input(1);
  if (ctx.opset >= 16)
    return [
      b.op('ScatterElements', [b.zerosLike(x), indices, dy], { axis, reduction: 'add' }),
      undefined,
    ];
  // dx[.., i, ..] = sum over j of [index[.., j, ..] == i] dy[.., j, ..]; the other axes of the
  // indices may be shorter than x's: the result is padded with zeros at their ends.
  const xDims = staticDims(ctx.info(x));
  const iDims = staticDims(ctx.info(indices));
  const n = xDims[axis];
  if (n === null) return ctx.unsupported('gathering along an axis that depends on the batch size');
  const oneHot = b.op('OneHot', [indices, b.ints([n]), b.floats([0, 1])], { axis: axis + 1 });
  const spread = b.mul(oneHot, b.unsqueeze(dy, [axis + 1]));
  const summed = b.reduce('ReduceSum', spread, [axis], false);
  const pads = Array(2 * r).fill(0);
  for (let a = 1; a < r; a++) {
    if (a === axis || xDims[a] === iDims[a]) continue;
    if (xDims[a] === null || iDims[a] === null)
      ctx.unsupported('indices shorter than the data along an axis that depends on the batch');
    pads[a + r] = xDims[a]! - iDims[a]!;
  }
  return [b.pad(summed, pads), undefined];
};

/**
 * GatherND. With batch_dims 0 from opset 16: ScatterND with reduction add. Otherwise, in any
 * opset: data seen as [B, M, R] (B the batch_dims axes, M the indexed axes, R the rest), indices
 * as [B, Q, k] turned into flat positions in M (negative ones counted from the end), and
 * dx = OneHot(positions, M)^T dy, one batched MatMul ([B, M, Q] x [B, Q, R]).
 */
const gatherND: Rule = (ctx) => {
  const dy = ctx.dy();
  if (!dy || !ctx.needs(0)) return [undefined, undefined];
  const b = ctx.b;
  const x = ctx.input(0);
  const indices = ctx.input(1);
  const batchDims = attrInt(ctx.node, 'batch_dims', 0);
  if (batchDims === 0 && ctx.opset >= 16)
    return [b.op('ScatterND', [b.zerosLike(x), indices, dy], { reduction: 'add' }), undefined];
  const xDims = staticDims(ctx.info(x));
  const iDims = staticDims(ctx.info(indices));
  const k = iDims[iDims.length - 1];
  if (k === null) return ctx.unsupported('an index length that depends on the batch');
  const leading = xDims.slice(0, batchDims);
  const indexed = xDims.slice(batchDims, batchDims + k);
  const rest = xDims.slice(batchDims + k);
  const between = iDims.slice(batchDims, -1);
  if ([...indexed, ...between].some((d) => d === null))
    return ctx.unsupported('indexed sizes that depend on the batch');
  const product = (ds: (number | null)[]) =>
    ds.some((d) => d === null) ? -1 : ds.reduce((p: number, d) => p * d!, 1);
  // The batch may be among the leading axes or the rest (one -1 in each reshape).
  const B = product(leading);
  const M = product(indexed);
  const Q = product(between);
  const R = product(rest);
  if (B === -1 && R === -1) return ctx.unsupported('batch-dependent sizes on both sides');
  const strides = indexed.map((_, j) => product(indexed.slice(j + 1)));
  const idx = b.op('Reshape', [indices, b.ints([B, Q, k])]);
  const sizes = b.ints(indexed as number[]);
  const positive = b.op('Where', [b.op('Less', [idx, b.ints([0])]), b.add(idx, sizes), idx]);
  const flat = b.reduce('ReduceSum', b.mul(positive, b.ints(strides)), [2], false);
  const oneHot = b.op('OneHot', [flat, b.ints([M]), b.floats([0, 1])], { axis: -1 });
  const g = b.op('Reshape', [dy, b.ints([B, Q, R])]);
  const dx = b.op('MatMul', [b.transpose(oneHot, [0, 2, 1]), g]);
  return [b.reshapeLike(dx, x), undefined];
};

export const rearrangeRules: Record<string, Rule> = {
  DepthToSpace: depthSpace,
  SpaceToDepth: depthSpace,
  Trilu: trilu,
  GatherElements: gatherElements,
  GatherND: gatherND,
};
