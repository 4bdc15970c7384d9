import { attrFloat, attrString, DType } from '../proto.ts';
import type { Rule, RuleContext } from '../rule.ts';

/**
 * Element-wise functions y = f(x): dx = dy * f'(x), with f' written from x or, where cheaper, y.
 * At a kink the one-sided choice is PyTorch's: Relu'(0) = 0, LeakyRelu/Elu take the negative
 * branch at 0, Clip passes the gradient only strictly inside (min, max) as hardtanh/relu6 do.
 */

/** Gradient for input 0 only, from dy. */
function unary(f: (ctx: RuleContext, dy: string) => string): Rule {
  return (ctx) => {
    const dy = ctx.dy();
    return [dy && ctx.needs(0) ? f(ctx, dy) : undefined];
  };
}

/** dy where cond, else 0. */
function where(ctx: RuleContext, cond: string, dy: string, otherwise?: string): string {
  return ctx.b.op('Where', [cond, dy, otherwise ?? ctx.b.scalar(0)]);
}

export const elementwiseRules: Record<string, Rule> = {
  Identity: unary((_ctx, dy) => dy),
  // Inference: Dropout is the identity (a training-mode Dropout is refused below).
  Dropout: (ctx) => {
    const training = ctx.input(2) ? ctx.constant(ctx.input(2)) : [0];
    if (!training || training[0]) ctx.unsupported('Dropout in training mode');
    const dy = ctx.dy();
    return [dy && ctx.needs(0) ? dy : undefined];
  },
  Cast: unary((ctx, dy) => {
    const from = ctx.info(ctx.input(0)).dtype;
    if (from !== DType.FLOAT) ctx.unsupported('cast from a non-float32 tensor');
    const to = ctx.info(ctx.output(0)).dtype;
    return to === from ? dy : ctx.b.op('Cast', [dy], { to: from });
  }),
  Relu: unary((ctx, dy) => where(ctx, ctx.b.op('Greater', [ctx.output(0), ctx.b.scalar(0)]), dy)),
  LeakyRelu: unary((ctx, dy) => {
    const alpha = attrFloat(ctx.node, 'alpha', 0.01);
    const positive = ctx.b.op('Greater', [ctx.input(0), ctx.b.scalar(0)]);
    return where(ctx, positive, dy, ctx.b.mul(dy, ctx.b.scalar(alpha)));
  }),
  Elu: unary((ctx, dy) => {
    // x <= 0: y = alpha (e^x - 1), y' = y + alpha.
    const alpha = attrFloat(ctx.node, 'alpha', 1);
    const positive = ctx.b.op('Greater', [ctx.input(0), ctx.b.scalar(0)]);
    const slope = ctx.b.add(ctx.output(0), ctx.b.scalar(alpha));
    return where(ctx, positive, dy, ctx.b.mul(dy, slope));
  }),
  Sigmoid: unary((ctx, dy) => {
    const y = ctx.output(0);
    return ctx.b.mul(dy, ctx.b.mul(y, ctx.b.sub(ctx.b.scalar(1), y)));
  }),
  Tanh: unary((ctx, dy) => {
    const y = ctx.output(0);
    return ctx.b.mul(dy, ctx.b.sub(ctx.b.scalar(1), ctx.b.mul(y, y)));
  }),
  Softplus: unary((ctx, dy) => ctx.b.mul(dy, ctx.b.op('Sigmoid', [ctx.input(0)]))),
  Erf: unary((ctx, dy) => {
    const x = ctx.input(0);
    const gauss = ctx.b.op('Exp', [ctx.b.op('Neg', [ctx.b.mul(x, x)])]);
    return ctx.b.mul(dy, ctx.b.mul(gauss, ctx.b.scalar(2 / Math.sqrt(Math.PI))));
  }),
  Gelu: unary((ctx, dy) => {
    const b = ctx.b;
    const x = ctx.input(0);
    if (attrString(ctx.node, 'approximate', 'none') === 'tanh') {
      // y = x/2 (1 + tanh u), u = sqrt(2/pi) (x + 0.044715 x^3)
      // y' = (1 + tanh u)/2 + x/2 (1 - tanh^2 u) sqrt(2/pi) (1 + 3 * 0.044715 x^2)
      const k = Math.sqrt(2 / Math.PI);
      const x2 = b.mul(x, x);
      const u = b.mul(b.scalar(k), b.add(x, b.mul(b.scalar(0.044715), b.mul(x2, x))));
      const t = b.op('Tanh', [u]);
      const du = b.mul(b.scalar(k), b.add(b.scalar(1), b.mul(b.scalar(3 * 0.044715), x2)));
      const left = b.mul(b.scalar(0.5), b.add(b.scalar(1), t));
      const right = b.mul(b.mul(b.scalar(0.5), x), b.mul(b.sub(b.scalar(1), b.mul(t, t)), du));
      return b.mul(dy, b.add(left, right));
    }
    // y = x Phi(x): y' = Phi(x) + x phi(x).
    const cdf = b.mul(
      b.scalar(0.5),
      b.add(b.scalar(1), b.op('Erf', [b.mul(x, b.scalar(Math.SQRT1_2))])),
    );
    const pdf = b.mul(
      b.scalar(1 / Math.sqrt(2 * Math.PI)),
      b.op('Exp', [b.mul(b.scalar(-0.5), b.mul(x, x))]),
    );
    return b.mul(dy, b.add(cdf, b.mul(x, pdf)));
  }),
  Sqrt: unary((ctx, dy) => ctx.b.div(ctx.b.mul(dy, ctx.b.scalar(0.5)), ctx.output(0))),
  Neg: unary((ctx, dy) => ctx.b.op('Neg', [dy])),
  Exp: unary((ctx, dy) => ctx.b.mul(dy, ctx.output(0))),
  Log: unary((ctx, dy) => ctx.b.div(dy, ctx.input(0))),
  Abs: unary((ctx, dy) => ctx.b.mul(dy, ctx.b.op('Sign', [ctx.input(0)]))),
  Reciprocal: unary((ctx, dy) => {
    const y = ctx.output(0);
    return ctx.b.op('Neg', [ctx.b.mul(dy, ctx.b.mul(y, y))]);
  }),
  Clip: (ctx) => {
    const dy = ctx.dy();
    if (!dy || !ctx.needs(0)) return [undefined];
    if (ctx.needs(1) || ctx.needs(2)) ctx.unsupported('Clip bounds computed from the input');
    const b = ctx.b;
    const x = ctx.input(0);
    const inside: string[] = [];
    if (ctx.input(1)) inside.push(b.op('Greater', [x, ctx.input(1)]));
    if (ctx.input(2)) inside.push(b.op('Less', [x, ctx.input(2)]));
    if (inside.length === 0) return [dy];
    const cond = inside.length === 2 ? b.op('And', inside) : inside[0];
    return [where(ctx, cond, dy)];
  },
};
