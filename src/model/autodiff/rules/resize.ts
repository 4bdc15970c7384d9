import { attrInt, attrInts, attrString } from '../proto.ts';
import { staticDims } from '../probe.ts';
import { normalizeAxis, rankOf, type Rule, type RuleContext } from '../rule.ts';

/**
 * Resize (nn.Upsample, F.interpolate). Without antialiasing, nearest
 * and linear resizing are separable linear maps: along each resized axis, output position o is a
 * weighted sum of at most two input positions. The gradient is the transpose of that map, applied
 * axis by axis. The weights are computed here, once, from the probed sizes and the node's
 * attributes, following onnxruntime's kernel (the forward pass runs there) in float32: the
 * coordinate transformation, nearest_mode's rounding and clamping, linear's clamping of the
 * source coordinate to [0, n - 1]. The transpose is applied as a Gather of at most K output
 * positions per input position (K the largest number of outputs reading one input, padded with a
 * zero slot), weighted and summed: exact, and cheap even for long time axes (a dense [m x n]
 * matrix would cost m n per row).
 *
 * Refused (the layer falls back, saying which form): cubic mode, tf_crop_and_resize (roi and
 * extrapolation), antialias (opset 18), keep_aspect_ratio_policy other than stretch, resizing the
 * batch axis or an axis whose size depends on the batch, scales computed from the input's values.
 * The deprecated Upsample has no rule: it exists only up to opset 9 (onnxruntime rejects it in a
 * graph of opset 10 or later), and exact gradients need opset 11.
 */

const f = Math.fround;

/** The source coordinate of output position o along an axis (onnxruntime's float32 arithmetic). */
function sourceCoordinate(mode: string, o: number, scale: number, n: number, m: number): number {
  switch (mode) {
    case 'half_pixel':
      return f(f(f(o + 0.5) / scale) - 0.5);
    case 'half_pixel_symmetric': {
      const adjustment = f(m / f(scale * n));
      const center = f(n / 2);
      const offset = f(center * f(1 - adjustment));
      return f(offset + f(f(f(o + 0.5) / scale) - 0.5));
    }
    case 'pytorch_half_pixel':
      return m > 1 ? f(f(f(o + 0.5) / scale) - 0.5) : 0;
    case 'align_corners':
      return m === 1 ? 0 : f(f(o * (n - 1)) / (m - 1));
    case 'asymmetric':
      return f(o / scale);
    case 'tf_half_pixel_for_nn':
      return f(f(o + 0.5) / scale);
    default:
      throw new Error(`coordinate_transformation_mode ${mode}`);
  }
}

/** std::round: halves away from zero. */
function roundAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

function nearestIndex(mode: string, x: number): number {
  switch (mode) {
    case 'round_prefer_floor':
      return x === Math.trunc(x) + 0.5 ? Math.floor(x) : roundAway(x);
    case 'round_prefer_ceil':
      return roundAway(x);
    case 'floor':
      return Math.floor(x);
    case 'ceil':
      return Math.ceil(x);
    default:
      throw new Error(`nearest_mode ${mode}`);
  }
}

/** For each output position: the input positions it reads and their weights. */
export function resizeWeights(
  mode: 'nearest' | 'linear',
  coordinates: string,
  nearestMode: string,
  scale: number,
  n: number,
  m: number,
): [number, number][][] {
  const rows: [number, number][][] = [];
  for (let o = 0; o < m; o++) {
    const x = scale === 1 && m === n ? o : sourceCoordinate(coordinates, o, scale, n, m);
    if (mode === 'nearest') {
      rows.push([[Math.min(Math.max(nearestIndex(nearestMode, x), 0), n - 1), 1]]);
      continue;
    }
    const inX = Math.max(0, Math.min(x, n - 1));
    const x1 = Math.min(Math.trunc(inX), n - 1);
    const x2 = Math.min(x1 + 1, n - 1);
    if (x1 === x2) rows.push([[x1, 1]]);
    else
      rows.push([
        [x1, f(Math.abs(f(inX - x2)))],
        [x2, f(Math.abs(f(inX - x1)))],
      ]);
  }
  return rows;
}

/**
 * g' along `axis` (length m -> n): g'[i] = sum over outputs o reading i of weight * g[o], as a
 * Gather per slot (K slots per input, K the most outputs reading one input; a zero slot appended
 * to g fills the short lists), weighted, summed.
 */
function transposeAlongAxis(
  ctx: RuleContext,
  g: string,
  r: number,
  axis: number,
  rows: [number, number][][],
  n: number,
): string {
  const b = ctx.b;
  const m = rows.length;
  const readers: [number, number][][] = [...Array(n)].map(() => []);
  rows.forEach((row, o) => row.forEach(([i, w]) => readers[i].push([o, w])));
  const K = Math.max(1, ...readers.map((l) => l.length));
  const indices = new Array<number>(n * K).fill(m);
  const weights = new Float32Array(n * K);
  readers.forEach((list, i) =>
    list.forEach(([o, w], k) => {
      indices[i * K + k] = o;
      weights[i * K + k] = w;
    }),
  );
  const pads = Array(2 * r).fill(0);
  pads[axis + r] = 1;
  const padded = readers.some((l) => l.length < K) ? b.pad(g, pads) : g;
  // Weights broadcast along the axes after `axis`.
  const shape = [n, ...Array(r - 1 - axis).fill(1)];
  // Nearest: every weight is 1 (the zero slot gives 0 whatever its weight).
  const ones = readers.every((l) => l.every(([, w]) => w === 1));
  // K Gathers of n positions each, weighted and summed: no [.., n, K] intermediate.
  const terms = [...Array(K).keys()].map((k) => {
    const slot = (i: number) => i * K + k;
    const picked = b.op(
      'Gather',
      [padded, b.ints([...Array(n).keys()].map((i) => indices[slot(i)]))],
      {
        axis,
      },
    );
    return ones
      ? picked
      : b.mul(
          picked,
          b.floats(
            [...Array(n).keys()].map((i) => weights[slot(i)]),
            shape,
          ),
        );
  });
  return b.sum(terms);
}

const resize: Rule = (ctx) => {
  const dy = ctx.dy();
  const count = (ctx.node.input ?? []).length;
  const none = () => [...Array(count)].map(() => undefined);
  if (!dy || !ctx.needs(0)) return none();
  const mode = attrString(ctx.node, 'mode', 'nearest');
  if (mode !== 'nearest' && mode !== 'linear') ctx.unsupported(`mode ${mode}`);
  const coordinates = attrString(ctx.node, 'coordinate_transformation_mode', 'half_pixel');
  if (coordinates === 'tf_crop_and_resize')
    ctx.unsupported('coordinate_transformation_mode tf_crop_and_resize');
  const nearestMode = attrString(ctx.node, 'nearest_mode', 'round_prefer_floor');
  if (attrInt(ctx.node, 'antialias', 0) !== 0) ctx.unsupported('antialias');
  const policy = attrString(ctx.node, 'keep_aspect_ratio_policy', 'stretch');
  if (policy !== 'stretch') ctx.unsupported(`keep_aspect_ratio_policy ${policy}`);
  for (let i = 1; i < count; i++)
    if (ctx.needs(i)) ctx.unsupported('roi, scales or sizes computed from the input');

  const x = ctx.input(0);
  const y = ctx.output(0);
  const r = rankOf(ctx, x);
  const axes = (attrInts(ctx.node, 'axes') ?? [...Array(r).keys()]).map((a) => normalizeAxis(a, r));
  // Scales: input 2 (from opset 11), when given and not empty; otherwise sizes (the probed dims).
  const scalesName = ctx.input(2);
  let given: number[] | undefined;
  if (scalesName && ctx.info(scalesName).dims[0].reduce((p, d) => p * d, 1) > 0) {
    given = ctx.constant(scalesName);
    if (!given) ctx.unsupported('scales computed from the input');
  }
  const xDims = staticDims(ctx.info(x));
  const yDims = staticDims(ctx.info(y));
  const plans: { axis: number; rows: [number, number][][]; n: number; m: number }[] = [];
  for (let a = 0; a < r; a++) {
    const n = xDims[a];
    const m = yDims[a];
    const k = axes.indexOf(a);
    const scale = given && k >= 0 ? f(given[k]) : n !== null && m !== null ? f(m / n) : 1;
    if (n === m && scale === 1) continue;
    if (a === 0) ctx.unsupported('resizing the batch axis');
    if (n === null || m === null)
      return ctx.unsupported(`resizing an axis whose size depends on the batch (axis ${a})`);
    const rows = resizeWeights(mode as 'nearest' | 'linear', coordinates, nearestMode, scale, n, m);
    plans.push({ axis: a, rows, n, m });
  }
  // The axes commute; the one that shrinks the gradient most goes first, so that the others
  // gather from a smaller tensor.
  plans.sort((p, q) => p.n / p.m - q.n / q.m);
  let g = dy;
  for (const p of plans) g = transposeAlongAxis(ctx, g, r, p.axis, p.rows, p.n);
  return [g, ...none().slice(1)];
};

export const resizeRules: Record<string, Rule> = {
  Resize: resize,
};
