import { DType, attrFloat, attrInt } from '../proto.ts';
import { staticDims } from '../probe.ts';
import { constantInts, rankOf, unbroadcast, type Rule, type RuleContext } from '../rule.ts';

/**
 * Ops that fresh exports of common architectures bring beyond the core table (issue 22): GroupNorm
 * and InstanceNorm (InstanceNormalization), PReLU, MobileNet's HardSwish / HardSigmoid, SELU,
 * torch.maximum / minimum (Max, Min), Tensor.repeat (Tile), torch.cumsum (CumSum). Kinks follow
 * PyTorch's one-sided choices: PReLU and HardSigmoid take the slope strictly inside, HardSwish
 * uses (x / 3 + 1/2) on [-3, 3] as torch's hardswish_backward does, Max/Min split the gradient
 * evenly between tied operands (torch.maximum's rule).
 */

function unary(f: (ctx: RuleContext, dy: string) => string): Rule {
  return (ctx) => {
    const dy = ctx.dy();
    return [dy && ctx.needs(0) ? f(ctx, dy) : undefined];
  };
}

const instanceNorm: Rule = (ctx) => {
  const dy = ctx.dy();
  if (!dy || !ctx.needs(0)) return [undefined, undefined, undefined];
  if (ctx.needs(1) || ctx.needs(2)) ctx.unsupported('scale or bias computed from the input');
  const b = ctx.b;
  const x = ctx.input(0);
  const r = rankOf(ctx, x);
  const axes = [...Array(r - 2).keys()].map((a) => a + 2);
  const eps = attrFloat(ctx.node, 'epsilon', 1e-5);
  const mean = (t: string) => b.reduce('ReduceMean', t, axes, true);
  const centred = b.sub(x, mean(x));
  const inverse = b.op('Reciprocal', [
    b.op('Sqrt', [b.add(mean(b.mul(centred, centred)), b.scalar(eps))]),
  ]);
  const xhat = b.mul(centred, inverse);
  const scale = b.op('Reshape', [ctx.input(1), b.ints([-1, ...Array(r - 2).fill(1)])]);
  const h = b.mul(dy, scale);
  const inner = b.sub(b.sub(h, mean(h)), b.mul(xhat, mean(b.mul(h, xhat))));
  return [b.mul(inner, inverse), undefined, undefined];
};

const prelu: Rule = (ctx) => {
  const dy = ctx.dy();
  if (!dy || !ctx.needs(0)) return [undefined, undefined];
  if (ctx.needs(1)) ctx.unsupported('slope computed from the input');
  const b = ctx.b;
  const positive = b.op('Greater', [ctx.input(0), b.scalar(0)]);
  return [b.op('Where', [positive, dy, b.mul(dy, ctx.input(1))]), undefined];
};

/** Max / Min of n operands: each gets dy where it equals the output, shared between ties. */
const extremum: Rule = (ctx) => {
  const dy = ctx.dy();
  const inputs = ctx.node.input ?? [];
  if (!dy) return inputs.map(() => undefined);
  const b = ctx.b;
  const y = ctx.output(0);
  const masks = inputs.map((x) => b.op('Cast', [b.op('Equal', [x, y])], { to: DType.FLOAT }));
  const count = masks.length === 1 ? masks[0] : b.op('Sum', masks);
  const share = b.div(dy, count);
  return inputs.map((x, i) =>
    ctx.needs(i) ? unbroadcast(ctx, b.mul(share, masks[i]), y, x) : undefined,
  );
};

/** Tile: dy as [repeats_0, d_0, repeats_1, d_1, ...], summed over the repeats. */
const tile: Rule = (ctx) => {
  const dy = ctx.dy();
  if (!dy || !ctx.needs(0)) return [undefined, undefined];
  const b = ctx.b;
  const x = ctx.input(0);
  const repeats = constantInts(ctx, 1, 'repeats');
  const dims = staticDims(ctx.info(x));
  if (dims.filter((d) => d === null).length > 1)
    ctx.unsupported('several axes depend on the batch');
  const shape = dims.flatMap((d, a) => [repeats[a], d ?? -1]);
  const split = b.op('Reshape', [dy, b.ints(shape)]);
  const axes = repeats.map((_, a) => 2 * a);
  return [b.reshapeLike(b.reduce('ReduceSum', split, axes, false), x), undefined];
};

/** CumSum: the gradient is the cumulative sum the other way (same exclusivity). */
const cumSum: Rule = (ctx) => {
  const dy = ctx.dy();
  if (!dy || !ctx.needs(0)) return [undefined, undefined];
  return [
    ctx.b.op('CumSum', [dy, ctx.input(1)], {
      exclusive: attrInt(ctx.node, 'exclusive', 0),
      reverse: attrInt(ctx.node, 'reverse', 0) ? 0 : 1,
    }),
    undefined,
  ];
};

export const moreRules: Record<string, Rule> = {
  InstanceNormalization: instanceNorm,
  PRelu: prelu,
  HardSigmoid: unary((ctx, dy) => {
    const b = ctx.b;
    const alpha = attrFloat(ctx.node, 'alpha', 0.2);
    const beta = attrFloat(ctx.node, 'beta', 0.5);
    const u = b.add(b.mul(ctx.input(0), b.scalar(alpha)), b.scalar(beta));
    const inside = b.op('And', [b.op('Greater', [u, b.scalar(0)]), b.op('Less', [u, b.scalar(1)])]);
    return b.op('Where', [inside, b.mul(dy, b.scalar(alpha)), b.scalar(0)]);
  }),
  HardSwish: unary((ctx, dy) => {
    const b = ctx.b;
    const x = ctx.input(0);
    const middle = b.add(b.mul(x, b.scalar(1 / 3)), b.scalar(0.5));
    const slope = b.op('Where', [
      b.op('Less', [x, b.scalar(-3)]),
      b.scalar(0),
      b.op('Where', [b.op('LessOrEqual', [x, b.scalar(3)]), middle, b.scalar(1)]),
    ]);
    return b.mul(dy, slope);
  }),
  Selu: unary((ctx, dy) => {
    const b = ctx.b;
    const alpha = attrFloat(ctx.node, 'alpha', 1.6732632423543772);
    const gamma = attrFloat(ctx.node, 'gamma', 1.0507009873554805);
    const positive = b.op('Greater', [ctx.input(0), b.scalar(0)]);
    const negative = b.add(ctx.output(0), b.scalar(gamma * alpha));
    return b.mul(dy, b.op('Where', [positive, b.scalar(gamma), negative]));
  }),
  Max: extremum,
  Min: extremum,
  Tile: tile,
  CumSum: cumSum,
};
