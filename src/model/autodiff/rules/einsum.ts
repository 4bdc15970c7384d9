import type { GraphBuilder } from '../builder.ts';
import { attrString } from '../proto.ts';
import type { Rule, RuleContext } from '../rule.ts';

/**
 * Einsum, the general contraction y[out] = sum over the other letters of prod_j A_j[s_j].
 *
 * The derivative of operand k is again a contraction: dA_k[s_k] = sum of dy[out] prod_{j != k}
 * A_j[s_j] over every letter not in s_k, i.e. Einsum("out,s_1,..->s_k") without A_k. Two cases
 * need more than that one Einsum, and both are handled with a second Einsum that places the
 * result:
 *  - a letter of s_k found nowhere else (summed over A_k alone in the forward pass): the
 *    gradient is constant along it, so it is multiplied by a vector of ones of that length;
 *  - a letter repeated within s_k (a diagonal, "ii->i"): the gradient lives on the diagonal, so
 *    the repeated positions get letters of their own tied to the first by an identity matrix.
 * Ellipses are expanded into explicit letters from the probed ranks (right-aligned, numpy's
 * rule); an implicit output ("ij,jk") is the ellipsis then the letters used once, sorted.
 * Refused: broadcasting under an ellipsis (an axis of length 1 against a longer one), which
 * would need a sum over the stretched axis.
 */

interface Parsed {
  operands: string[][];
  output: string[];
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Letters of an Einsum equation with ellipses expanded; `ranks` are the operands' ranks. */
export function parseEinsum(equation: string, ranks: number[]): Parsed {
  const eq = equation.replace(/\s+/g, '');
  const [lhs, rhs] = eq.includes('->') ? eq.split('->') : [eq, undefined];
  const terms = lhs.split(',');
  if (terms.length !== ranks.length)
    throw new Error(`equation ${equation} has ${terms.length} operands, not ${ranks.length}`);
  const used = new Set(eq.replace(/[^a-zA-Z]/g, ''));
  const spare = [...LETTERS].filter((l) => !used.has(l));
  const ellipsisLength = terms.map((t, k) =>
    t.includes('...') ? ranks[k] - t.replace('...', '').length : 0,
  );
  const E = Math.max(0, ...ellipsisLength);
  if (E > spare.length) throw new Error(`equation ${equation}: too many axes`);
  const ellipsis = spare.slice(0, E);
  const expand = (t: string, e: number) => {
    const at = t.indexOf('...');
    if (at < 0) return [...t];
    return [...t.slice(0, at), ...ellipsis.slice(E - e), ...t.slice(at + 3)];
  };
  const operands = terms.map((t, k) => expand(t, ellipsisLength[k]));
  operands.forEach((s, k) => {
    if (s.length !== ranks[k])
      throw new Error(`equation ${equation}: operand ${k} has rank ${ranks[k]}`);
  });
  let output: string[];
  if (rhs !== undefined) output = expand(rhs, E);
  else {
    const counts = new Map<string, number>();
    for (const l of operands.flat()) counts.set(l, (counts.get(l) ?? 0) + 1);
    const once = [...counts]
      .filter(([l, c]) => c === 1 && !ellipsis.includes(l))
      .map(([l]) => l)
      .sort();
    output = [...ellipsis, ...once];
  }
  return { operands, output };
}

/** The run-time length of axis `axis` of x, as a 1-element int64 tensor. */
function length(b: GraphBuilder, x: string, axis: number): string {
  return b.op('Gather', [b.shape(x), b.ints([axis])], { axis: 0 });
}

const einsum: Rule = (ctx: RuleContext) => {
  const inputs = ctx.node.input ?? [];
  const dy = ctx.dy();
  if (!dy) return inputs.map(() => undefined);
  const b = ctx.b;
  const ranks = inputs.map((t) => ctx.info(t).dims[0].length);
  let parsed: Parsed;
  try {
    parsed = parseEinsum(attrString(ctx.node, 'equation', ''), ranks);
  } catch (err) {
    return ctx.unsupported((err as Error).message);
  }
  const { operands, output } = parsed;
  // Broadcasting: a letter whose length differs between operands (1 against n) at some probe.
  const letters = new Set(operands.flat());
  ctx.info(inputs[0]).dims.forEach((_, p) => {
    const lengths = new Map<string, Set<number>>();
    operands.forEach((s, k) =>
      s.forEach((l, a) => {
        if (!lengths.has(l)) lengths.set(l, new Set());
        lengths.get(l)!.add(ctx.info(inputs[k]).dims[p][a]);
      }),
    );
    for (const [l, set] of lengths)
      if (set.size > 1)
        ctx.unsupported(`broadcasting along axis ${l} (lengths ${[...set].join(', ')})`);
  });
  return inputs.map((A, k) => {
    if (!ctx.needs(k)) return undefined;
    const s = operands[k];
    const others = operands.filter((_, j) => j !== k);
    const elsewhere = new Set([...output, ...others.flat()]);
    const distinct = [...new Set(s)];
    const kept = distinct.filter((l) => elsewhere.has(l));
    const eq = [output, ...others].map((t) => t.join('')).join(',') + '->' + kept.join('');
    const g = b.op('Einsum', [dy, ...inputs.filter((_, j) => j !== k)], { equation: eq });
    const repeated = s.length !== distinct.length;
    if (!repeated && kept.length === s.length) {
      // Same letters, maybe another order (Einsum already wrote them in s's order).
      return g;
    }
    // Place g: ones along letters found only in A_k, identities tying repeated positions.
    const spare = [...LETTERS].filter((l) => !letters.has(l));
    const target: string[] = [];
    const terms = [kept.join('')];
    const extra: string[] = [];
    const firstAxis = new Set<string>();
    s.forEach((l, a) => {
      if (!firstAxis.has(l)) {
        firstAxis.add(l);
        target.push(l);
        if (!elsewhere.has(l)) {
          terms.push(l);
          extra.push(
            b.op('ConstantOfShape', [length(b, A, a)], {
              value: { tensor: onesTensor() },
            }),
          );
        }
        return;
      }
      const fresh = spare.shift();
      if (!fresh) ctx.unsupported('too many axes');
      target.push(fresh!);
      terms.push(l + fresh!);
      const n = length(b, A, a);
      const square = b.op('ConstantOfShape', [b.op('Concat', [n, n], { axis: 0 })]);
      extra.push(b.op('EyeLike', [square]));
    });
    return b.op('Einsum', [g, ...extra], { equation: `${terms.join(',')}->${target.join('')}` });
  });
};

function onesTensor() {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setFloat32(0, 1, true);
  return { name: 'one', dims: [1], dataType: 1 /* FLOAT */, rawData: bytes };
}

export const einsumRules: Record<string, Rule> = { Einsum: einsum };
