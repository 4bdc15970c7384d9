import { DType, attrFloat, attrInt } from '../proto.ts';
import { staticDims } from '../probe.ts';
import { standardizedBackward } from './normalization.ts';
import {
  constantInts,
  fixedDims,
  normalizeAxis,
  rankOf,
  unbroadcast,
  type Rule,
  type RuleContext,
} from '../rule.ts';

/**
 * Ops that fresh exports of common architectures bring beyond the core table (issue 22): GroupNorm
 * and InstanceNorm (InstanceNormalization), PReLU, MobileNet's HardSwish / HardSigmoid, SELU,
 * torch.maximum / minimum (Max, Min), Tensor.repeat (Tile), torch.cumsum (CumSum); then Softsign,
 * Mish (an op from opset 18), CELU, ThresholdedRelu, Sin, Cos, LpNormalization and AlexNet's LRN,
 * which a model converted from elsewhere (or written by hand) may hold as single ops. Kinks follow
 * PyTorch's one-sided choices: PReLU and HardSigmoid take the slope strictly inside, HardSwish
 * uses (x / 3 + 1/2) on [-3, 3] as torch's hardswish_backward does, Max/Min split the gradient
 * evenly between tied operands (torch.maximum's rule), ThresholdedRelu passes dy strictly above
 * alpha, CELU takes exp(x / alpha) at 0.
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
  const scale = b.op('Reshape', [ctx.input(1), b.ints([-1, ...Array(r - 2).fill(1)])]);
  return [standardizedBackward(b, x, b.mul(dy, scale), axes, eps), undefined, undefined];
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

/**
 * LpNormalization (p 1 or 2 along `axis`): y = x / |x|_p. p = 2: dx = (g - y sum(g y)) / |x|;
 * p = 1: dx = (g - sign(x) sum(g y)) / |x|_1. A zero norm gives a zero output, and zero gradient.
 */
const lpNormalization: Rule = (ctx) => {
  const dy = ctx.dy();
  if (!dy || !ctx.needs(0)) return [undefined];
  const b = ctx.b;
  const x = ctx.input(0);
  const axis = normalizeAxis(attrInt(ctx.node, 'axis', -1), rankOf(ctx, x));
  const p = attrInt(ctx.node, 'p', 2);
  if (p !== 1 && p !== 2) ctx.unsupported(`p ${p}`);
  const y = ctx.output(0);
  const norm =
    p === 2
      ? b.op('Sqrt', [b.reduce('ReduceSum', b.mul(x, x), [axis], true)])
      : b.reduce('ReduceSum', b.op('Abs', [x]), [axis], true);
  const dot = b.reduce('ReduceSum', b.mul(dy, y), [axis], true);
  const direction = p === 2 ? y : b.op('Sign', [x]);
  const zero = b.op('Equal', [norm, b.scalar(0)]);
  const safe = b.op('Where', [zero, b.scalar(1), norm]);
  const g = b.div(b.sub(dy, b.mul(direction, dot)), safe);
  return [b.op('Where', [zero, b.scalar(0), g])];
};

/**
 * LRN (AlexNet's local response normalisation across channels, axis 1): y_c = x_c s_c^-beta with
 * s_c = bias + alpha / size * sum over the window W(c) = [c - floor((size-1)/2), c +
 * ceil((size-1)/2)] of x^2. dx_c = g_c s_c^-beta - 2 x_c (alpha / size) beta
 * sum over c' with c in W(c') of g_c' x_c' s_c'^(-beta-1). Both window sums are MatMuls with a
 * 0/1 band matrix over the (static) channel axis, moved last.
 */
const lrn: Rule = (ctx) => {
  const dy = ctx.dy();
  if (!dy || !ctx.needs(0)) return [undefined];
  const b = ctx.b;
  const x = ctx.input(0);
  const r = rankOf(ctx, x);
  const C = fixedDims(ctx, x, 'the input')[1];
  const size = attrInt(ctx.node, 'size', 1);
  const alpha = attrFloat(ctx.node, 'alpha', 1e-4);
  const beta = attrFloat(ctx.node, 'beta', 0.75);
  const bias = attrFloat(ctx.node, 'bias', 1);
  const before = Math.floor((size - 1) / 2);
  const after = Math.ceil((size - 1) / 2);
  // band[c', c] = 1 when c' is in W(c): (t B)[c] = sum over W(c) of t.
  const band = new Float32Array(C * C);
  const bandT = new Float32Array(C * C);
  for (let c = 0; c < C; c++)
    for (let k = Math.max(0, c - before); k <= Math.min(C - 1, c + after); k++) {
      band[k * C + c] = 1;
      bandT[c * C + k] = 1;
    }
  const perm = [0, ...[...Array(r).keys()].slice(2), 1];
  const inverse = Array<number>(r);
  perm.forEach((p, i) => (inverse[p] = i));
  const windowSum = (t: string, matrix: Float32Array) =>
    b.transpose(b.op('MatMul', [b.transpose(t, perm), b.floats(matrix, [C, C])]), inverse);
  const s = b.add(b.scalar(bias), b.mul(b.scalar(alpha / size), windowSum(b.mul(x, x), band)));
  const sBeta = b.op('Pow', [s, b.scalar(-beta)]);
  const direct = b.mul(dy, sBeta);
  const inner = b.div(b.mul(b.mul(dy, x), sBeta), s);
  const spread = windowSum(inner, bandT);
  const cross = b.mul(b.mul(x, spread), b.scalar((2 * alpha * beta) / size));
  return [b.sub(direct, cross)];
};

export const moreRules: Record<string, Rule> = {
  Softsign: unary((ctx, dy) => {
    const b = ctx.b;
    const d = b.add(b.scalar(1), b.op('Abs', [ctx.input(0)]));
    return b.div(dy, b.mul(d, d));
  }),
  // Mish (opset 18): y = x tanh(softplus x); y' = tanh(sp) + x sigmoid(x) (1 - tanh(sp)^2).
  Mish: unary((ctx, dy) => {
    const b = ctx.b;
    const x = ctx.input(0);
    const t = b.op('Tanh', [b.op('Softplus', [x])]);
    const slope = b.add(t, b.mul(b.mul(x, b.op('Sigmoid', [x])), b.sub(b.scalar(1), b.mul(t, t))));
    return b.mul(dy, slope);
  }),
  // Celu: 1 for x > 0, exp(x / alpha) otherwise (torch's elu_backward with input_scale 1/alpha).
  Celu: unary((ctx, dy) => {
    const b = ctx.b;
    const x = ctx.input(0);
    const alpha = attrFloat(ctx.node, 'alpha', 1);
    const negative = b.mul(dy, b.op('Exp', [b.mul(x, b.scalar(1 / alpha))]));
    return b.op('Where', [b.op('Greater', [x, b.scalar(0)]), dy, negative]);
  }),
  ThresholdedRelu: unary((ctx, dy) => {
    const b = ctx.b;
    const above = b.op('Greater', [ctx.input(0), b.scalar(attrFloat(ctx.node, 'alpha', 1))]);
    return b.op('Where', [above, dy, b.scalar(0)]);
  }),
  Sin: unary((ctx, dy) => ctx.b.mul(dy, ctx.b.op('Cos', [ctx.input(0)]))),
  Cos: unary((ctx, dy) => ctx.b.op('Neg', [ctx.b.mul(dy, ctx.b.op('Sin', [ctx.input(0)]))])),
  LpNormalization: lpNormalization,
  LRN: lrn,
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
