import { attrInt, attrInts, attrString } from '../proto.ts';
import { fixedDims, type Rule, type RuleContext } from '../rule.ts';

/**
 * Convolutions. The input gradient of a Conv is the transposed convolution of dy with the same
 * weights, strides, dilations and groups; `output_padding` restores the rows and columns that a
 * strided convolution of an odd size never reached. The input gradient of a ConvTranspose is the
 * plain convolution. Weights are the model's (initializers): gradients with respect to computed
 * weights are not supported.
 */

export interface WindowGeometry {
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** Begin pads per spatial axis, then end pads (ONNX order). */
  pads: number[];
  /** Spatial sizes of the input and of the output. */
  inSize: number[];
  outSize: number[];
}

/**
 * Resolve a Conv or pooling node's window geometry, turning auto_pad into explicit pads (ONNX's
 * rule: SAME_UPPER puts the odd padding at the end, SAME_LOWER at the beginning).
 */
export function windowGeometry(
  ctx: RuleContext,
  kernel: number[],
  x: string,
  y: string,
): WindowGeometry {
  const k = kernel.length;
  const inSize = fixedDims(ctx, x, 'the input').slice(2);
  const outSize = fixedDims(ctx, y, 'the output').slice(2);
  const strides = attrInts(ctx.node, 'strides') ?? Array(k).fill(1);
  const dilations = attrInts(ctx.node, 'dilations') ?? Array(k).fill(1);
  const autoPad = attrString(ctx.node, 'auto_pad', 'NOTSET');
  let pads = attrInts(ctx.node, 'pads') ?? Array(2 * k).fill(0);
  if (autoPad === 'VALID') pads = Array(2 * k).fill(0);
  else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    pads = Array(2 * k).fill(0);
    for (let d = 0; d < k; d++) {
      const span = (kernel[d] - 1) * dilations[d] + 1;
      const total = Math.max(0, (outSize[d] - 1) * strides[d] + span - inSize[d]);
      const small = Math.floor(total / 2);
      pads[d] = autoPad === 'SAME_UPPER' ? small : total - small;
      pads[d + k] = total - pads[d];
    }
  }
  return { kernel, strides, dilations, pads, inSize, outSize };
}

function kernelOf(ctx: RuleContext): number[] {
  return attrInts(ctx.node, 'kernel_shape') ?? fixedDims(ctx, ctx.input(1), 'the weights').slice(2);
}

/**
 * Weights [M, C/group, k...] of a Conv as the weights of the convolution that computes its input
 * gradient: [C, M/group, k...], each group's in/out channels swapped, kernels flipped in space.
 */
function flippedWeights(ctx: RuleContext, group: number): string {
  const b = ctx.b;
  const [M, Cg, ...kernel] = fixedDims(ctx, ctx.input(1), 'the weights');
  const perGroup = b.op('Reshape', [ctx.input(1), b.ints([group, M / group, Cg, ...kernel])]);
  const swapped = b.transpose(perGroup, [0, 2, 1, ...kernel.map((_, d) => d + 3)]);
  const merged = b.op('Reshape', [swapped, b.ints([group * Cg, M / group, ...kernel])]);
  const axes = kernel.map((_, d) => d + 2);
  return b.slice(
    merged,
    axes.map(() => -1),
    axes.map(() => -(2 ** 62)),
    axes,
    axes.map(() => -1),
  );
}

const conv: Rule = (ctx) => {
  const dy = ctx.dy();
  if (!dy) return [undefined, undefined, undefined];
  if (ctx.needs(1)) ctx.unsupported('weights computed from the input');
  const out: (string | undefined)[] = [undefined, undefined, undefined];
  if (ctx.needs(0)) {
    const g = windowGeometry(ctx, kernelOf(ctx), ctx.input(0), ctx.output(0));
    const k = g.kernel.length;
    // ConvTranspose output: s (out - 1) + output_padding + span - pads; make it the input size.
    const outputPadding = g.kernel.map((kd, d) => {
      const span = (kd - 1) * g.dilations[d] + 1;
      return g.inSize[d] + g.pads[d] + g.pads[d + k] - span - g.strides[d] * (g.outSize[d] - 1);
    });
    if (outputPadding.some((p, d) => p < 0 || p >= Math.max(g.strides[d], g.dilations[d])))
      ctx.unsupported(`unexpected output padding ${outputPadding}`);
    const group = attrInt(ctx.node, 'group', 1);
    const span = g.kernel.map((kd, d) => (kd - 1) * g.dilations[d] + 1);
    if (g.strides.every((st) => st === 1) && g.pads.every((p, i) => p <= span[i % k] - 1)) {
      // Stride 1: a plain convolution of dy with the kernels flipped and their in/out channels
      // swapped (onnxruntime's Conv is much faster than its ConvTranspose). The weight transform
      // involves initializers only, so onnxruntime folds it once when it loads the graph.
      out[0] = ctx.b.op('Conv', [dy, flippedWeights(ctx, group)], {
        kernel_shape: g.kernel,
        dilations: g.dilations,
        pads: [
          ...span.map((sd, d) => sd - 1 - g.pads[d]),
          ...span.map((sd, d) => sd - 1 - g.pads[d + k]),
        ],
        group,
      });
    } else {
      out[0] = ctx.b.op('ConvTranspose', [dy, ctx.input(1)], {
        kernel_shape: g.kernel,
        strides: g.strides,
        dilations: g.dilations,
        pads: g.pads,
        group,
        output_padding: outputPadding,
      });
    }
  }
  if (ctx.input(2) && ctx.needs(2)) {
    const r = ctx.info(ctx.output(0)).dims[0].length;
    const axes = [0, ...[...Array(r - 2).keys()].map((a) => a + 2)];
    out[2] = ctx.b.reduce('ReduceSum', dy, axes, false);
  }
  return out;
};

/**
 * ConvTranspose: y = s (x - 1) + output_padding + span - pads per axis; its input gradient is a
 * Conv of dy with the same weights and pads (pads derived from output_shape / auto_pad as ONNX
 * defines them when those are given).
 */
const convTranspose: Rule = (ctx) => {
  const dy = ctx.dy();
  if (!dy) return [undefined, undefined, undefined];
  if (ctx.needs(1)) ctx.unsupported('weights computed from the input');
  const out: (string | undefined)[] = [undefined, undefined, undefined];
  if (ctx.needs(0)) {
    const kernel = kernelOf(ctx);
    const k = kernel.length;
    const inSize = fixedDims(ctx, ctx.input(0), 'the input').slice(2);
    const outSize = fixedDims(ctx, ctx.output(0), 'the output').slice(2);
    const strides = attrInts(ctx.node, 'strides') ?? Array(k).fill(1);
    const dilations = attrInts(ctx.node, 'dilations') ?? Array(k).fill(1);
    const outputPadding = attrInts(ctx.node, 'output_padding') ?? Array(k).fill(0);
    const autoPad = attrString(ctx.node, 'auto_pad', 'NOTSET');
    let pads = attrInts(ctx.node, 'pads') ?? Array(2 * k).fill(0);
    if (
      attrInts(ctx.node, 'output_shape') ||
      autoPad === 'SAME_UPPER' ||
      autoPad === 'SAME_LOWER'
    ) {
      pads = Array(2 * k).fill(0);
      for (let d = 0; d < k; d++) {
        const span = (kernel[d] - 1) * dilations[d] + 1;
        const total = strides[d] * (inSize[d] - 1) + outputPadding[d] + span - outSize[d];
        const half = Math.floor(total / 2);
        pads[d] = autoPad === 'SAME_UPPER' ? half : total - half;
        pads[d + k] = total - pads[d];
      }
    } else if (autoPad === 'VALID') pads = Array(2 * k).fill(0);
    if (pads.some((p) => p < 0)) ctx.unsupported('negative padding');
    const grad = ctx.b.op('Conv', [dy, ctx.input(1)], {
      kernel_shape: kernel,
      strides,
      dilations,
      pads,
      group: attrInt(ctx.node, 'group', 1),
    });
    out[0] = grad;
  }
  if (ctx.input(2) && ctx.needs(2)) {
    const r = ctx.info(ctx.output(0)).dims[0].length;
    const axes = [0, ...[...Array(r - 2).keys()].map((a) => a + 2)];
    out[2] = ctx.b.reduce('ReduceSum', dy, axes, false);
  }
  return out;
};

export const convRules: Record<string, Rule> = { Conv: conv, ConvTranspose: convTranspose };
