import { DType, attrInt, attrInts } from '../proto.ts';
import { constantInts, normalizeAxis, rankOf, type Rule, type RuleContext } from '../rule.ts';
import { staticDims } from '../probe.ts';

/**
 * Reductions. dy is given back its reduced axes (when keepdims = 0) and broadcast over them;
 * ReduceMean divides by the number of elements reduced; ReduceMax/ReduceMin send the gradient to
 * the extremum, split evenly between ties (torch.amax's rule); ReduceL2 gives x / |x| (0 at a zero
 * norm, as torch.norm), ReduceLogSumExp the softmax weights, ReduceSumSquare 2 x, ReduceL1
 * sign(x) (0 at 0), ReduceProd the product of the other elements of the group (computed without
 * dividing by a zero: the one zero of a group gets the product of the rest, two zeros give 0, as
 * torch.prod's backward). The axes are an attribute before opset 13 (ReduceSum) or 18 (the
 * others), an input after.
 */

function reducedAxes(ctx: RuleContext, op: string): number[] | 'none' {
  const r = rankOf(ctx, ctx.input(0));
  const asInput = op === 'ReduceSum' ? ctx.opset >= 13 : ctx.opset >= 18;
  let axes: number[] | undefined;
  if (asInput) axes = ctx.input(1) ? constantInts(ctx, 1, 'axes') : undefined;
  else axes = attrInts(ctx.node, 'axes');
  if (!axes || axes.length === 0) {
    if (asInput && attrInt(ctx.node, 'noop_with_empty_axes', 0) === 1) return 'none';
    return [...Array(r).keys()];
  }
  return axes.map((a) => normalizeAxis(a, r)).sort((a, b) => a - b);
}

function reduction(
  kind: 'sum' | 'mean' | 'extremum' | 'l2' | 'logsumexp' | 'sumsquare' | 'l1' | 'prod',
): Rule {
  return (ctx) => {
    const dy = ctx.dy();
    if (!dy || !ctx.needs(0)) return [undefined, undefined];
    const b = ctx.b;
    const x = ctx.input(0);
    const axes = reducedAxes(ctx, ctx.node.opType!);
    if (axes === 'none') return [dy, undefined];
    const keep = attrInt(ctx.node, 'keepdims', 1) === 1;
    const g = keep ? dy : b.unsqueeze(dy, axes);
    if (kind === 'sum') return [b.op('Expand', [g, b.shape(x)]), undefined];
    if (kind === 'sumsquare') return [b.mul(g, b.mul(x, b.scalar(2))), undefined];
    if (kind === 'l1') return [b.mul(g, b.op('Sign', [x])), undefined];
    if (kind === 'prod') {
      // The product of the others: y / x without zeros; with one zero in the group, the zero
      // gets the product of the non-zeros and the rest 0; with two or more, all 0 (torch.prod).
      const isZero = b.op('Equal', [x, b.scalar(0)]);
      const nonZero = b.op('Where', [isZero, b.scalar(1), x]);
      const product = b.reduce('ReduceProd', nonZero, axes, true);
      const zeros = b.reduce('ReduceSum', b.op('Cast', [isZero], { to: DType.FLOAT }), axes, true);
      const none = b.op('Equal', [zeros, b.scalar(0)]);
      const theOne = b.op('And', [b.op('Equal', [zeros, b.scalar(1)]), isZero]);
      const others = b.div(product, nonZero);
      const factor = b.op('Where', [b.op('Or', [none, theOne]), others, b.scalar(0)]);
      return [b.mul(g, factor), undefined];
    }
    if (kind === 'l2' || kind === 'logsumexp') {
      const y = keep ? ctx.output(0) : b.unsqueeze(ctx.output(0), axes);
      // L2: x / |x| (0 where the norm is 0, as torch.norm); log-sum-exp: softmax weights.
      const factor =
        kind === 'l2'
          ? b.op('Where', [b.op('Equal', [y, b.scalar(0)]), b.scalar(0), b.div(x, y)])
          : b.op('Exp', [b.sub(x, y)]);
      return [b.mul(g, factor), undefined];
    }
    if (kind === 'mean') {
      const dims = staticDims(ctx.info(x));
      const reduced = axes.map((a) => dims[a]);
      let scale: string;
      if (reduced.every((d) => d !== null)) {
        scale = b.scalar(1 / reduced.reduce((p: number, d) => p * d!, 1));
      } else {
        // The batch axis is reduced: count the elements at run time.
        const size = (t: string) => b.op('Cast', [b.op('Size', [t])], { to: DType.FLOAT });
        scale = b.div(size(ctx.output(0)), size(x));
      }
      return [b.op('Expand', [b.mul(g, scale), b.shape(x)]), undefined];
    }
    const y = keep ? ctx.output(0) : b.unsqueeze(ctx.output(0), axes);
    const mask = b.op('Cast', [b.op('Equal', [x, y])], { to: DType.FLOAT });
    const count = b.reduce('ReduceSum', mask, axes, true);
    return [b.mul(mask, b.div(g, count)), undefined];
  };
}

export const reduceRules: Record<string, Rule> = {
  ReduceSum: reduction('sum'),
  ReduceMean: reduction('mean'),
  ReduceMax: reduction('extremum'),
  ReduceMin: reduction('extremum'),
  ReduceL2: reduction('l2'),
  ReduceLogSumExp: reduction('logsumexp'),
  ReduceSumSquare: reduction('sumsquare'),
  ReduceL1: reduction('l1'),
  ReduceProd: reduction('prod'),
};
