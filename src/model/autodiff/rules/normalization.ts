import type { GraphBuilder } from '../builder.ts';
import { attrFloat, attrInt } from '../proto.ts';
import { normalizeAxis, rankOf, type Rule, type RuleContext } from '../rule.ts';

/**
 * Normalisations and softmax.
 *  - BatchNormalization (inference): y = (x - mean) scale / sqrt(var + eps) + bias, a per-channel
 *    affine map, so dx = dy * scale / sqrt(var + eps).
 *  - LayerNormalization over axes [axis, rank): with xhat = (x - mu) / sigma and h = dy * scale,
 *    dx = (h - mean(h) - xhat * mean(h * xhat)) / sigma.
 *  - Softmax: dx = y (dy - sum(dy y)); LogSoftmax: dx = dy - exp(y) sum(dy). Before opset 13 both
 *    work on the input flattened to 2-D at `axis`, i.e. over all axes from `axis` on.
 */

function onlyInput0(ctx: RuleContext, inputs: number) {
  for (let i = 1; i < inputs; i++)
    if (ctx.needs(i)) ctx.unsupported(`input ${i} is computed from the input`);
}

const batchNorm: Rule = (ctx) => {
  const dy = ctx.dy();
  if (!dy || !ctx.needs(0)) return [undefined];
  onlyInput0(ctx, 5);
  if (attrInt(ctx.node, 'training_mode', 0) === 1) ctx.unsupported('training mode');
  const b = ctx.b;
  const r = rankOf(ctx, ctx.input(0));
  const eps = attrFloat(ctx.node, 'epsilon', 1e-5);
  const factor = b.div(ctx.input(1), b.op('Sqrt', [b.add(ctx.input(4), b.scalar(eps))]));
  const perChannel = b.op('Reshape', [factor, b.ints([-1, ...Array(Math.max(0, r - 2)).fill(1)])]);
  return [b.mul(dy, perChannel)];
};

const layerNorm: Rule = (ctx) => {
  const dy = ctx.dy();
  if (!dy || !ctx.needs(0)) return [undefined];
  onlyInput0(ctx, 3);
  if (ctx.dy(1) || ctx.dy(2))
    ctx.unsupported('gradient through the mean or inverse deviation outputs');
  const b = ctx.b;
  const x = ctx.input(0);
  const r = rankOf(ctx, x);
  const axis = normalizeAxis(attrInt(ctx.node, 'axis', -1), r);
  const axes = [...Array(r - axis).keys()].map((a) => a + axis);
  const eps = attrFloat(ctx.node, 'epsilon', 1e-5);
  return [standardizedBackward(b, x, b.mul(dy, ctx.input(1)), axes, eps)];
};

/**
 * The input's gradient through a standardisation over `axes` (LayerNormalization here,
 * InstanceNormalization in more.ts): with xhat = (x - mu) / sigma and h the gradient at xhat
 * (dy times the scale), dx = (h - mean(h) - xhat * mean(h * xhat)) / sigma.
 */
export function standardizedBackward(
  b: GraphBuilder,
  x: string,
  h: string,
  axes: number[],
  eps: number,
): string {
  const mean = (t: string) => b.reduce('ReduceMean', t, axes, true);
  const centred = b.sub(x, mean(x));
  const inverse = b.op('Reciprocal', [
    b.op('Sqrt', [b.add(mean(b.mul(centred, centred)), b.scalar(eps))]),
  ]);
  const xhat = b.mul(centred, inverse);
  const inner = b.sub(b.sub(h, mean(h)), b.mul(xhat, mean(b.mul(h, xhat))));
  return b.mul(inner, inverse);
}

function softmaxAxes(ctx: RuleContext): number[] {
  const r = rankOf(ctx, ctx.input(0));
  if (ctx.opset >= 13) return [normalizeAxis(attrInt(ctx.node, 'axis', -1), r)];
  const axis = normalizeAxis(attrInt(ctx.node, 'axis', 1), r);
  return [...Array(r - axis).keys()].map((a) => a + axis);
}

const softmax: Rule = (ctx) => {
  const dy = ctx.dy();
  if (!dy || !ctx.needs(0)) return [undefined];
  const b = ctx.b;
  const y = ctx.output(0);
  const dot = b.reduce('ReduceSum', b.mul(dy, y), softmaxAxes(ctx), true);
  return [b.mul(y, b.sub(dy, dot))];
};

const logSoftmax: Rule = (ctx) => {
  const dy = ctx.dy();
  if (!dy || !ctx.needs(0)) return [undefined];
  const b = ctx.b;
  const total = b.reduce('ReduceSum', dy, softmaxAxes(ctx), true);
  return [b.sub(dy, b.mul(b.op('Exp', [ctx.output(0)]), total))];
};

export const normalizationRules: Record<string, Rule> = {
  BatchNormalization: batchNorm,
  LayerNormalization: layerNorm,
  Softmax: softmax,
  LogSoftmax: logSoftmax,
};
