import { attrInt, attrString } from '../proto.ts';
import { staticDims } from '../probe.ts';
import { fixedDims, normalizeAxis, rankOf, type Rule } from '../rule.ts';

/**
 * Ops that rearrange or pick values (issue 22): DepthToSpace (nn.PixelShuffle) and SpaceToDepth
 * (nn.PixelUnshuffle) are a reshape, a transpose and a reshape, undone in reverse order; Trilu
 * (torch.triu / tril) zeroes the same positions of the gradient; GatherElements (torch.gather)
 * and GatherND send each output's gradient back to the element it read, summed where several
 * outputs read one element. From opset 16 that is ScatterElements / ScatterND with reduction
 * add; before, GatherElements uses a one-hot comparison along the gathered axis (OneHot, then a
 * sum), and GatherND is refused (it needs the reduction). Indices get no gradient.
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

const gatherND: Rule = (ctx) => {
  const dy = ctx.dy();
  if (!dy || !ctx.needs(0)) return [undefined, undefined];
  if (ctx.opset < 16) ctx.unsupported('GatherND before opset 16 (ScatterND has no reduction)');
  if (attrInt(ctx.node, 'batch_dims', 0) !== 0) ctx.unsupported('batch_dims other than 0');
  const b = ctx.b;
  const x = ctx.input(0);
  return [b.op('ScatterND', [b.zerosLike(x), ctx.input(1), dy], { reduction: 'add' }), undefined];
};

export const rearrangeRules: Record<string, Rule> = {
  DepthToSpace: depthSpace,
  SpaceToDepth: depthSpace,
  Trilu: trilu,
  GatherElements: gatherElements,
  GatherND: gatherND,
};
