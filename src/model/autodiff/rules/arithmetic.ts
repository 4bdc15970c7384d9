import { unbroadcast, type Rule, type RuleContext } from '../rule.ts';

/**
 * Binary arithmetic with numpy broadcasting: each operand's gradient is computed at the output's
 * shape and summed back over the axes the operand was stretched along (`unbroadcast`).
 */

function binary(grads: (ctx: RuleContext, dy: string) => [() => string, () => string]): Rule {
  return (ctx) => {
    const dy = ctx.dy();
    if (!dy) return [undefined, undefined];
    const [ga, gb] = grads(ctx, dy);
    const y = ctx.output(0);
    return [
      ctx.needs(0) ? unbroadcast(ctx, ga(), y, ctx.input(0)) : undefined,
      ctx.needs(1) ? unbroadcast(ctx, gb(), y, ctx.input(1)) : undefined,
    ];
  };
}

export const arithmeticRules: Record<string, Rule> = {
  Add: binary((_ctx, dy) => [() => dy, () => dy]),
  Sub: binary((ctx, dy) => [() => dy, () => ctx.b.op('Neg', [dy])]),
  Mul: binary((ctx, dy) => [() => ctx.b.mul(dy, ctx.input(1)), () => ctx.b.mul(dy, ctx.input(0))]),
  // y = a / b: da = dy / b, db = -dy a / b^2 = -dy y / b.
  Div: binary((ctx, dy) => [
    () => ctx.b.div(dy, ctx.input(1)),
    () => ctx.b.op('Neg', [ctx.b.div(ctx.b.mul(dy, ctx.output(0)), ctx.input(1))]),
  ]),
  // y = a^b: da = dy b a^(b-1), db = dy y ln a.
  Pow: binary((ctx, dy) => {
    const b = ctx.b;
    const [base, exponent] = [ctx.input(0), ctx.input(1)];
    return [
      () => {
        const e = b.op('Cast', [exponent], { to: ctx.info(base).dtype });
        return b.mul(dy, b.mul(e, b.op('Pow', [base, b.sub(e, b.scalar(1))])));
      },
      () => b.mul(dy, b.mul(ctx.output(0), b.op('Log', [base]))),
    ];
  }),
  // Sum of n tensors: every operand gets dy (summed back over its broadcast axes).
  Sum: (ctx) => {
    const dy = ctx.dy();
    const inputs = ctx.node.input ?? [];
    return inputs.map((x, i) =>
      dy && ctx.needs(i) ? unbroadcast(ctx, dy, ctx.output(0), x) : undefined,
    );
  },
  // Where(cond, a, b): dy goes to a where cond holds, to b elsewhere.
  Where: (ctx) => {
    const dy = ctx.dy();
    if (!dy) return [undefined, undefined, undefined];
    const zero = ctx.b.scalar(0);
    const y = ctx.output(0);
    const cond = ctx.input(0);
    return [
      undefined,
      ctx.needs(1)
        ? unbroadcast(ctx, ctx.b.op('Where', [cond, dy, zero]), y, ctx.input(1))
        : undefined,
      ctx.needs(2)
        ? unbroadcast(ctx, ctx.b.op('Where', [cond, zero, dy]), y, ctx.input(2))
        : undefined,
    ];
  },
};
