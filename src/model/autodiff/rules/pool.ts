import { DType, attrInt, attrInts } from '../proto.ts';
import { fixedDims, rankOf, type Rule } from '../rule.ts';
import { windowGeometry } from './conv.ts';

/**
 * Pooling. MaxPool sends each output's gradient to the element its window picked: the forward
 * node is asked for its Indices output (flat positions in the whole input tensor) and the gradient
 * is scattered there, adding where overlapping windows picked the same element. ScatterElements
 * adds duplicates only from opset 16; before, the windows are split into classes that do not
 * overlap (every m-th window along each axis, m = ceil(span / stride)) and each class scattered
 * on its own. AveragePool spreads each output's gradient evenly over its window: a depthwise
 * transposed convolution with a kernel of ones, after dividing by each window's divisor.
 */

const maxPool: Rule = (ctx) => {
  const dy = ctx.dy();
  if (!dy || !ctx.needs(0)) return [undefined];
  if (attrInt(ctx.node, 'storage_order', 0) !== 0)
    ctx.unsupported('column-major indices (storage_order 1)');
  const b = ctx.b;
  const x = ctx.input(0);
  const indices = ctx.forwardOutput(1);
  const flat = b.ints([-1]);
  const zeros = b.op('ConstantOfShape', [b.op('Reshape', [b.op('Size', [x]), b.ints([1])])]);
  if (ctx.opset >= 16) {
    const scattered = b.op(
      'ScatterElements',
      [zeros, b.op('Reshape', [indices, flat]), b.op('Reshape', [dy, flat])],
      { axis: 0, reduction: 'add' },
    );
    return [b.reshapeLike(scattered, x)];
  }
  const kernel = attrInts(ctx.node, 'kernel_shape')!;
  const g = windowGeometry(ctx, kernel, x, ctx.output(0));
  const every = kernel.map((k, d) =>
    Math.min(g.outSize[d], Math.ceil(((k - 1) * g.dilations[d] + 1) / g.strides[d])),
  );
  const axes = kernel.map((_, d) => d + 2);
  const parts: string[] = [];
  for (const offsets of cartesian(every)) {
    const take = (t: string) =>
      every.every((m) => m === 1)
        ? t
        : b.slice(
            t,
            offsets,
            offsets.map(() => 2 ** 31 - 1),
            axes,
            every,
          );
    parts.push(
      b.op(
        'ScatterElements',
        [zeros, b.op('Reshape', [take(indices), flat]), b.op('Reshape', [take(dy), flat])],
        { axis: 0 },
      ),
    );
  }
  return [b.reshapeLike(b.sum(parts), x)];
};

/** All tuples (o_0, ..., o_k) with 0 <= o_d < counts[d]. */
function cartesian(counts: number[]): number[][] {
  let out: number[][] = [[]];
  for (const c of counts) out = out.flatMap((t) => [...Array(c).keys()].map((o) => [...t, o]));
  return out;
}

const averagePool: Rule = (ctx) => {
  const dy = ctx.dy();
  if (!dy || !ctx.needs(0)) return [undefined];
  const b = ctx.b;
  const x = ctx.input(0);
  const kernel = attrInts(ctx.node, 'kernel_shape')!;
  const g = windowGeometry(ctx, kernel, x, ctx.output(0));
  const k = kernel.length;
  const includePad = attrInt(ctx.node, 'count_include_pad', 0) === 1;
  const channels = fixedDims(ctx, x, 'the input')[1];
  // Each window's divisor: its elements inside the input (or inside the padded input).
  const perAxis = kernel.map((kd, d) =>
    [...Array(g.outSize[d]).keys()].map((o) => {
      let count = 0;
      for (let j = 0; j < kd; j++) {
        const at = o * g.strides[d] - g.pads[d] + j * g.dilations[d];
        const low = includePad ? -g.pads[d] : 0;
        const high = includePad ? g.inSize[d] + g.pads[d + k] : g.inSize[d];
        if (at >= low && at < high) count++;
      }
      return count;
    }),
  );
  const inverse = cartesian(g.outSize).map(
    (o) => 1 / o.reduce((p, od, d) => p * perAxis[d][od], 1),
  );
  const scaled = b.mul(dy, b.floats(inverse, [1, 1, ...g.outSize]));
  const ones = b.floats(Array(channels * kernel.reduce((p, q) => p * q, 1)).fill(1), [
    channels,
    1,
    ...kernel,
  ]);
  const spread = b.op('ConvTranspose', [scaled, ones], {
    kernel_shape: kernel,
    strides: g.strides,
    dilations: g.dilations,
    group: channels,
  });
  // `spread` covers the padded input from -pad_begin; keep the input's part, zero-fill a tail
  // that no window reached.
  const full = kernel.map(
    (kd, d) => g.strides[d] * (g.outSize[d] - 1) + (kd - 1) * g.dilations[d] + 1,
  );
  const ends = full.map((f, d) => Math.min(f, g.pads[d] + g.inSize[d]));
  const cropped = b.slice(
    spread,
    g.pads.slice(0, k),
    ends,
    kernel.map((_, d) => d + 2),
  );
  const tail = ends.map((e, d) => g.inSize[d] - (e - g.pads[d]));
  return [b.pad(cropped, [0, 0, ...Array(k).fill(0), 0, 0, ...tail])];
};

const globalAveragePool: Rule = (ctx) => {
  const dy = ctx.dy();
  if (!dy || !ctx.needs(0)) return [undefined];
  const x = ctx.input(0);
  const positions = fixedDims(ctx, x, 'the input')
    .slice(2)
    .reduce((a, b) => a * b, 1);
  return [ctx.b.op('Expand', [ctx.b.mul(dy, ctx.b.scalar(1 / positions)), ctx.b.shape(x)])];
};

/** The gradient goes to the maximum, split evenly between tied maxima (as torch.amax does). */
const globalMaxPool: Rule = (ctx) => {
  const dy = ctx.dy();
  if (!dy || !ctx.needs(0)) return [undefined];
  const b = ctx.b;
  const x = ctx.input(0);
  const mask = b.op('Equal', [x, ctx.output(0)]);
  const axes = [...Array(rankOf(ctx, x) - 2).keys()].map((a) => a + 2);
  const count = b.reduce('ReduceSum', b.op('Cast', [mask], { to: DType.FLOAT }), axes, true);
  return [b.op('Where', [mask, b.div(dy, count), b.scalar(0)])];
};

export const poolRules: Record<string, Rule> = {
  MaxPool: maxPool,
  AveragePool: averagePool,
  GlobalAveragePool: globalAveragePool,
  GlobalMaxPool: globalMaxPool,
};
