import type { GraphBuilder } from '../builder.ts';
import { attrFloat, attrInt, attrString, attrStrings, hasAttr } from '../proto.ts';
import { staticDims } from '../probe.ts';
import type { Rule, RuleContext } from '../rule.ts';

/**
 * Backpropagation through time for ONNX's recurrent operators (LSTM, GRU, RNN), written as ONNX.
 *
 * Why this shape: the forward op hides every per-step value except Y (all hidden states), so the
 * rule rebuilds what the backward pass needs from Y and the input in a few large batched ops
 * (the gate pre-activations of all steps are X W^T + H_prev R^T + b, one MatMul each, with
 * H_prev read off Y shifted by one step), and only what is truly sequential runs in a Scan: the
 * LSTM's cell states (c_t = f_t c_{t-1} + i_t g_t: three element-wise ops a step) and the
 * backward recurrence itself (dh_{t-1} = da_t R + ..., one small MatMul a step). Every factor of
 * the backward step that does not depend on the carried gradient (o (1 - tanh^2 c), ...) is
 * computed for all steps at once before the Scan. The input gradient is then one MatMul of all
 * steps' gate gradients with W. T up to a few hundred costs one Scan iteration per step and
 * direction, no graph growth.
 *
 * Semantics followed (the ONNX operator definitions, as onnxruntime runs them):
 *  - directions forward, reverse, bidirectional (direction 1 of a bidirectional op is reverse);
 *  - sequence_lens: steps t >= len[b] leave the state unchanged and output zeros in Y; a reverse
 *    direction starts at t = len[b] - 1. Both are a mask on the steps taken in the direction's
 *    order; the gradient passes through masked steps unchanged;
 *  - initial_h / initial_c get gradients (the final backward states); Y, Y_h, Y_c may each be
 *    used or not;
 *  - layout 1 (batch first, opset 14) is transposed to layout 0 and back;
 *  - GRU's linear_before_reset 0 and 1;
 *  - activations Sigmoid, Tanh and Relu in any position (default f = Sigmoid, g = h = Tanh).
 * Refused (the head then falls back to finite differences and says why): weights, biases or
 * peepholes computed from the input, LSTM peepholes, `clip`, `input_forget`, other activations,
 * a sequence length that depends on the batch size.
 */

type Kind = 'LSTM' | 'GRU' | 'RNN';
const GATES: Record<Kind, number> = { LSTM: 4, GRU: 3, RNN: 1 };
const DEFAULT_ACTIVATIONS: Record<Kind, string[]> = {
  LSTM: ['Sigmoid', 'Tanh', 'Tanh'],
  GRU: ['Sigmoid', 'Tanh'],
  RNN: ['Tanh'],
};
const SUPPORTED = new Set(['Sigmoid', 'Tanh', 'Relu']);

/** Derivative of an activation written from its output y. */
function slope(b: GraphBuilder, act: string, y: string): string {
  if (act === 'Sigmoid') return b.mul(y, b.sub(b.scalar(1), y));
  if (act === 'Tanh') return b.sub(b.scalar(1), b.mul(y, y));
  return b.op('Cast', [b.op('Greater', [y, b.scalar(0)])], { to: 1 /* FLOAT */ });
}

/** Activation names per direction (the attribute lists them for each direction in turn). */
function activations(ctx: RuleContext, kind: Kind, directions: number): string[][] {
  const defaults = DEFAULT_ACTIVATIONS[kind];
  const given = attrStrings(ctx.node, 'activations');
  const per = defaults.length;
  const out = [...Array(directions).keys()].map((d) => {
    if (!given || given.length === 0) return defaults;
    if (given.length === per) return given;
    if (given.length === per * directions) return given.slice(d * per, (d + 1) * per);
    return ctx.unsupported(`${given.length} activations for ${directions} direction(s)`);
  });
  const unknown = out.flat().filter((a) => !SUPPORTED.has(a));
  if (unknown.length > 0) ctx.unsupported(`activation ${unknown[0]}`);
  return out;
}

/** Gate k ([.., H] slice of the last axis) of a tensor of G stacked gates. */
function gate(b: GraphBuilder, x: string, k: number, H: number, axis: number): string {
  return b.slice(x, [k * H], [(k + 1) * H], [axis]);
}

function recurrent(kind: Kind): Rule {
  return (ctx) => {
    const node = ctx.node;
    const inputs = node.input ?? [];
    const result: (string | undefined)[] = inputs.map(() => undefined);
    const dY = ctx.dy(0);
    const dYh = ctx.dy(1);
    const dYc = kind === 'LSTM' ? ctx.dy(2) : undefined;
    if (!dY && !dYh && !dYc) return result;
    const b = ctx.b;
    const present = (k: number) => !!ctx.input(k);
    for (const k of [1, 2, 3, 7])
      if (present(k) && ctx.needs(k)) ctx.unsupported('weights or biases computed from the input');
    if (kind === 'LSTM' && present(7)) ctx.unsupported('peephole connections');
    if (hasAttr(node, 'clip')) ctx.unsupported(`cell clip ${attrFloat(node, 'clip', 0)}`);
    if (kind === 'LSTM' && attrInt(node, 'input_forget', 0) !== 0)
      ctx.unsupported('coupled input and forget gates (input_forget)');
    const direction = attrString(node, 'direction', 'forward');
    if (!['forward', 'reverse', 'bidirectional'].includes(direction))
      ctx.unsupported(`direction ${direction}`);
    const D = direction === 'bidirectional' ? 2 : 1;
    const acts = activations(ctx, kind, D);
    const batchFirst = attrInt(node, 'layout', 0) === 1;
    const G = GATES[kind];
    const rDims = staticDims(ctx.info(ctx.input(2)));
    const H = rDims[2]!;
    const xDims = staticDims(ctx.info(ctx.input(0)));
    const T = xDims[batchFirst ? 1 : 0];
    if (T === null) return ctx.unsupported('a sequence length that depends on the batch size');
    const masked = present(4);

    // Everything in layout 0: X [T, B, I], Y [T, D, B, H], states [D, B, H].
    const x = batchFirst ? b.transpose(ctx.input(0), [1, 0, 2]) : ctx.input(0);
    const y4 = batchFirst ? b.transpose(ctx.forwardOutput(0), [1, 2, 0, 3]) : ctx.forwardOutput(0);
    const states = (t: string | undefined) => (t && batchFirst ? b.transpose(t, [1, 0, 2]) : t);
    const dy4 = dY && batchFirst ? b.transpose(dY, [1, 2, 0, 3]) : dY;
    const dYh3 = states(dYh);
    const dYc3 = states(dYc);
    const h0 = states(present(5) ? ctx.input(5) : undefined);
    const c0 = states(kind === 'LSTM' && present(6) ? ctx.input(6) : undefined);

    // Step masks [T, B, 1] (bool): step t of item b is taken when t < sequence_lens[b]; and
    // whether step t + 1 is (a reverse direction's state before step t comes from there).
    let mask: string | undefined;
    let maskNext: string | undefined;
    if (masked) {
      const lens = b.unsqueeze(b.op('Cast', [ctx.input(4)], { to: 7 /* INT64 */ }), [0]);
      const steps = (from: number) =>
        b.ints(
          [...Array(T).keys()].map((t) => t + from),
          [T, 1],
        );
      mask = b.unsqueeze(b.op('Less', [steps(0), lens]), [2]);
      maskNext = b.unsqueeze(b.op('Less', [steps(1), lens]), [2]);
    }
    const at = (t: string, index: number, axis: number) =>
      b.op('Gather', [t, b.ints([index], [])], { axis });
    const zerosBH = b.zerosLike(at(at(y4, 0, 1), 0, 0));
    const shiftIn = (seq: string, first: string, reverse: boolean) => {
      // The sequence of states before each step, in time order: [first, seq[0..T-2]] forward,
      // [seq[1..T-1], first] reverse.
      const edge = b.unsqueeze(first, [0]);
      if (T === 1) return edge;
      return reverse
        ? b.op('Concat', [b.slice(seq, [1], [T], [0]), edge], { axis: 0 })
        : b.op('Concat', [edge, b.slice(seq, [0], [T - 1], [0])], { axis: 0 });
    };

    const dxs: string[] = [];
    const dh0s: string[] = [];
    const dc0s: string[] = [];
    for (let d = 0; d < D; d++) {
      const reverse = direction === 'reverse' || d === 1;
      const [fAct, gAct, hAct] = acts[d];
      const W = at(ctx.input(1), d, 0); // [G H, I]
      const R = at(ctx.input(2), d, 0); // [G H, H]
      const bias = present(3) ? at(ctx.input(3), d, 0) : undefined; // [2 G H]
      const Wb = bias ? b.slice(bias, [0], [G * H], [0]) : undefined;
      const Rb = bias ? b.slice(bias, [G * H], [2 * G * H], [0]) : undefined;
      const Y = at(y4, d, 1); // [T, B, H]
      const h0d = h0 ? at(h0, d, 0) : zerosBH;
      // States before each step. Y is zero after a sequence's end, where a reverse direction
      // starts from initial_h instead.
      let Hp = shiftIn(Y, h0d, reverse);
      if (maskNext && reverse) Hp = b.op('Where', [maskNext, Hp, b.unsqueeze(h0d, [0])]);
      const AX = b.op('MatMul', [x, b.transpose(W, [1, 0])]); // [T, B, G H]
      const AH = b.op('MatMul', [Hp, b.transpose(R, [1, 0])]);
      const scanDir = reverse ? 0 : 1; // the backward pass runs against the forward's order
      const dYd = dy4 ? at(dy4, d, 1) : undefined;
      const dh = dYh3 ? at(dYh3, d, 0) : zerosBH;

      if (kind === 'LSTM') {
        const A = [AX, AH, ...(Wb ? [Wb, Rb!] : [])].reduce((p, q) => b.add(p, q));
        const i = b.op(fAct, [gate(b, A, 0, H, 2)]);
        const o = b.op(fAct, [gate(b, A, 1, H, 2)]);
        const f = b.op(fAct, [gate(b, A, 2, H, 2)]);
        const g = b.op(gAct, [gate(b, A, 3, H, 2)]);
        const c0d = c0 ? at(c0, d, 0) : zerosBH;
        // Cell states after each step, in time order (the state stays put at masked steps).
        const body = b.subgraph(
          [
            { hint: 'c', rank: 2 },
            { hint: 'f', rank: 2 },
            { hint: 'ig', rank: 2 },
            ...(mask ? [{ hint: 'm', rank: 2, bool: true }] : []),
          ],
          (s, [c, ft, igt, m]) => {
            let next = s.add(s.mul(ft, c), igt);
            if (m) next = s.op('Where', [m, next, c]);
            return [next, next];
          },
        );
        const [, C] = b.node(
          'Scan',
          [c0d, f, b.mul(i, g), ...(mask ? [mask] : [])],
          {
            body: { graph: body },
            num_scan_inputs: mask ? 3 : 2,
            scan_input_directions: Array(mask ? 3 : 2).fill(reverse ? 1 : 0),
            scan_output_directions: [reverse ? 1 : 0],
          },
          2,
        );
        const Cp = shiftIn(C, c0d, reverse);
        const tc = b.op(hAct, [C]);
        const Kc = b.mul(o, slope(b, hAct, tc));
        const Ko = b.mul(tc, slope(b, fAct, o));
        const Kifg = b.op(
          'Concat',
          [b.mul(g, slope(b, fAct, i)), b.mul(Cp, slope(b, fAct, f)), b.mul(i, slope(b, gAct, g))],
          { axis: 2 },
        );
        // Gate rows reordered o, i, f, c: the carried dh feeds o, the carried dc the others.
        const order = [1, 0, 2, 3].flatMap((k) => [...Array(H).keys()].map((j) => k * H + j));
        const reorder = (t: string) => b.op('Gather', [t, b.ints(order)], { axis: 0 });
        const Rr = reorder(R);
        const back = b.subgraph(
          [
            { hint: 'dh', rank: 2 },
            { hint: 'dc', rank: 2 },
            ...(dYd ? [{ hint: 'dy', rank: 2 }] : []),
            { hint: 'kc', rank: 2 },
            { hint: 'ko', rank: 2 },
            { hint: 'kifg', rank: 2 },
            { hint: 'f', rank: 2 },
            ...(mask ? [{ hint: 'm', rank: 2, bool: true }] : []),
          ],
          (s, names) => {
            const [dhIn, dcIn] = names;
            let k = 2;
            const dyt = dYd ? names[k++] : undefined;
            const [kc, ko, kifg, ft] = names.slice(k, k + 4);
            const m = mask ? names[k + 4] : undefined;
            let e = dyt ? s.add(dhIn, dyt) : dhIn;
            if (m) e = s.op('Where', [m, e, s.scalar(0)]);
            const dcKept = m ? s.op('Where', [m, dcIn, s.scalar(0)]) : dcIn;
            const dct = s.add(dcKept, s.mul(e, kc));
            const da = s.op(
              'Concat',
              [s.mul(e, ko), s.mul(s.op('Concat', [dct, dct, dct], { axis: 1 }), kifg)],
              { axis: 1 },
            );
            let dhOut = s.op('MatMul', [da, Rr]);
            let dcOut = s.mul(dct, ft);
            if (m) {
              dhOut = s.op('Where', [m, dhOut, dhIn]);
              dcOut = s.op('Where', [m, dcOut, dcIn]);
            }
            return [dhOut, dcOut, da];
          },
        );
        const scanned = [...(dYd ? [dYd] : []), Kc, Ko, Kifg, f, ...(mask ? [mask] : [])];
        const [dhFirst, dcFirst, DA] = b.node(
          'Scan',
          [dh, dYc3 ? at(dYc3, d, 0) : zerosBH, ...scanned],
          {
            body: { graph: back },
            num_scan_inputs: scanned.length,
            scan_input_directions: Array(scanned.length).fill(scanDir),
            scan_output_directions: [scanDir],
          },
          3,
        );
        dxs.push(b.op('MatMul', [DA, reorder(W)]));
        dh0s.push(dhFirst);
        dc0s.push(dcFirst);
      } else if (kind === 'GRU') {
        const lbr = attrInt(node, 'linear_before_reset', 0) === 1;
        const AXb = Wb ? b.add(AX, Wb) : AX;
        const AHb = Rb ? b.add(AH, Rb) : AH;
        const z = b.op(fAct, [b.add(gate(b, AXb, 0, H, 2), gate(b, AHb, 0, H, 2))]);
        const r = b.op(fAct, [b.add(gate(b, AXb, 1, H, 2), gate(b, AHb, 1, H, 2))]);
        const Rh = gate(b, R, 2, H, 0); // [H, H]
        let n: string;
        let q: string | undefined;
        if (lbr) {
          q = gate(b, AHb, 2, H, 2);
          n = b.op(gAct, [b.add(gate(b, AXb, 2, H, 2), b.mul(r, q))]);
        } else {
          const rh = b.op('MatMul', [b.mul(r, Hp), b.transpose(Rh, [1, 0])]);
          const inner = b.add(gate(b, AXb, 2, H, 2), rh);
          n = b.op(gAct, [Rb ? b.add(inner, gate(b, Rb, 2, H, 0)) : inner]);
        }
        const Kz = b.mul(b.sub(Hp, n), slope(b, fAct, z));
        const Kn = b.mul(b.sub(b.scalar(1), z), slope(b, gAct, n));
        const Rzr = b.slice(R, [0], [2 * H], [0]);
        const scanned = lbr
          ? [
              b.op('Concat', [Kz, b.mul(Kn, b.mul(q!, slope(b, fAct, r))), Kn], { axis: 2 }),
              b.op('Concat', [Kz, b.mul(Kn, b.mul(q!, slope(b, fAct, r))), b.mul(Kn, r)], {
                axis: 2,
              }),
              z,
            ]
          : [Kz, Kn, b.mul(Hp, slope(b, fAct, r)), r, z];
        const all = [...(dYd ? [dYd] : []), ...scanned, ...(mask ? [mask] : [])];
        const back = b.subgraph(
          [
            { hint: 'dh', rank: 2 },
            ...all.map((t) =>
              t === mask ? { hint: 'm', rank: 2, bool: true } : { hint: 'k', rank: 2 },
            ),
          ],
          (s, names) => {
            const dhIn = names[0];
            let k = 1;
            const dyt = dYd ? names[k++] : undefined;
            const ks = names.slice(k, k + scanned.length);
            const m = mask ? names[names.length - 1] : undefined;
            let e = dyt ? s.add(dhIn, dyt) : dhIn;
            if (m) e = s.op('Where', [m, e, s.scalar(0)]);
            let da: string;
            let dhOut: string;
            if (lbr) {
              const [kzrn, kzrq, zt] = ks;
              const eee = s.op('Concat', [e, e, e], { axis: 1 });
              da = s.mul(eee, kzrn);
              dhOut = s.add(s.mul(e, zt), s.op('MatMul', [s.mul(eee, kzrq), R]));
            } else {
              const [kz, kn, kr, rt, zt] = ks;
              const dan = s.mul(e, kn);
              const v = s.op('MatMul', [dan, Rh]); // gradient of r * h_prev
              const daz = s.mul(e, kz);
              const dar = s.mul(v, kr);
              da = s.op('Concat', [daz, dar, dan], { axis: 1 });
              const direct = s.add(s.mul(e, zt), s.mul(v, rt));
              dhOut = s.add(direct, s.op('MatMul', [s.op('Concat', [daz, dar], { axis: 1 }), Rzr]));
            }
            if (m) dhOut = s.op('Where', [m, dhOut, dhIn]);
            return [dhOut, da];
          },
        );
        const [dhFirst, DA] = b.node(
          'Scan',
          [dh, ...all],
          {
            body: { graph: back },
            num_scan_inputs: all.length,
            scan_input_directions: Array(all.length).fill(scanDir),
            scan_output_directions: [scanDir],
          },
          2,
        );
        dxs.push(b.op('MatMul', [DA, W]));
        dh0s.push(dhFirst);
      } else {
        const A = [AX, AH, ...(Wb ? [Wb, Rb!] : [])].reduce((p, q) => b.add(p, q));
        const K = slope(b, fAct, b.op(fAct, [A]));
        const all = [...(dYd ? [dYd] : []), K, ...(mask ? [mask] : [])];
        const back = b.subgraph(
          [
            { hint: 'dh', rank: 2 },
            ...all.map((t) =>
              t === mask ? { hint: 'm', rank: 2, bool: true } : { hint: 'k', rank: 2 },
            ),
          ],
          (s, names) => {
            const dhIn = names[0];
            const dyt = dYd ? names[1] : undefined;
            const kt = names[dYd ? 2 : 1];
            const m = mask ? names[names.length - 1] : undefined;
            let e = dyt ? s.add(dhIn, dyt) : dhIn;
            if (m) e = s.op('Where', [m, e, s.scalar(0)]);
            const da = s.mul(e, kt);
            let dhOut = s.op('MatMul', [da, R]);
            if (m) dhOut = s.op('Where', [m, dhOut, dhIn]);
            return [dhOut, da];
          },
        );
        const [dhFirst, DA] = b.node(
          'Scan',
          [dh, ...all],
          {
            body: { graph: back },
            num_scan_inputs: all.length,
            scan_input_directions: Array(all.length).fill(scanDir),
            scan_output_directions: [scanDir],
          },
          2,
        );
        dxs.push(b.op('MatMul', [DA, W]));
        dh0s.push(dhFirst);
      }
    }
    if (ctx.needs(0)) {
      const dx = b.sum(dxs);
      result[0] = batchFirst ? b.transpose(dx, [1, 0, 2]) : dx;
    }
    const stack = (parts: string[]) => {
      const s =
        parts.length === 1
          ? b.unsqueeze(parts[0], [0])
          : b.op(
              'Concat',
              parts.map((p) => b.unsqueeze(p, [0])),
              { axis: 0 },
            );
      return batchFirst ? b.transpose(s, [1, 0, 2]) : s;
    };
    if (present(5) && ctx.needs(5)) result[5] = stack(dh0s);
    if (kind === 'LSTM' && present(6) && ctx.needs(6)) result[6] = stack(dc0s);
    return result;
  };
}

export const recurrentRules: Record<string, Rule> = {
  LSTM: recurrent('LSTM'),
  GRU: recurrent('GRU'),
  RNN: recurrent('RNN'),
};
