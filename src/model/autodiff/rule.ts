import type { NodeProto } from '../onnx.ts';
import type { GraphBuilder } from './builder.ts';
import { staticDims, type TensorInfo } from './probe.ts';

/** Why a graph cannot be differentiated exactly (an op outside the table, an old opset...). */
export class NoGradientError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoGradientError';
  }
}

/** An op without a backward rule (or in a configuration the rule does not cover). */
export class UnsupportedOpError extends NoGradientError {
  constructor(
    readonly op: string,
    readonly nodeName: string,
    detail?: string,
  ) {
    super(
      `no exact gradient for op ${op} (node ${nodeName || '(unnamed)'})${detail ? `: ${detail}` : ''}`,
    );
    this.name = 'UnsupportedOpError';
  }
}

/**
 * What a backward rule sees of one forward node: its tensors, the gradients flowing into its
 * outputs, which inputs need a gradient, and the probed shapes and static values of any tensor.
 */
export interface RuleContext {
  readonly node: NodeProto;
  readonly b: GraphBuilder;
  readonly opset: number;
  /** Name of input i ('' when absent). */
  input(i: number): string;
  output(i: number): string;
  /** Gradient flowing into output i, if any. */
  dy(i?: number): string | undefined;
  /** Whether input i needs a gradient (depends on the differentiated input). */
  needs(i: number): boolean;
  info(tensor: string): TensorInfo;
  /** The value of a tensor that is the same for every input (initializers, constant subgraphs). */
  constant(tensor: string): number[] | undefined;
  /** Name of forward output i, adding the output to the forward node when it has none (MaxPool indices). */
  forwardOutput(i: number): string;
  unsupported(detail: string): never;
}

/** A backward rule: the gradient for each input (undefined where none is needed or flows). */
export type Rule = (ctx: RuleContext) => (string | undefined)[];

/**
 * Static dims of a tensor's axes after the first (channels and spatial axes of a feature map);
 * throws (unsupported) where one depends on the batch. Axis 0 is returned as probed.
 */
export function fixedDims(ctx: RuleContext, tensor: string, what: string): number[] {
  const dims = staticDims(ctx.info(tensor));
  if (dims.slice(1).some((d) => d === null))
    ctx.unsupported(
      `${what} has a size that depends on the batch (shape [${ctx.info(tensor).dims[0]}])`,
    );
  return dims.map((d, a) => d ?? ctx.info(tensor).dims[0][a]);
}

export function rankOf(ctx: RuleContext, tensor: string): number {
  return ctx.info(tensor).dims[0].length;
}

/** A static integer input (axes, pads, starts...), required. */
export function constantInts(ctx: RuleContext, i: number, what: string): number[] {
  const v = ctx.constant(ctx.input(i));
  if (!v) ctx.unsupported(`${what} (input ${i}) is computed from the input's values`);
  return v;
}

export function normalizeAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/**
 * Sum a gradient `g` of a broadcast result back to the shape of the operand `x` (numpy
 * broadcasting: leading axes added, size-1 axes stretched). `full` is the tensor whose shape `g`
 * has. The axes to sum are read from the probes; the result takes x's run-time shape.
 */
export function unbroadcast(ctx: RuleContext, g: string, full: string, x: string): string {
  const fullDims = ctx.info(full).dims;
  const xDims = ctx.info(x).dims;
  const lead = fullDims[0].length - xDims[0].length;
  const axes: number[] = [];
  for (let a = 0; a < fullDims[0].length; a++) {
    if (a < lead) axes.push(a);
    else if (fullDims.some((f, p) => xDims[p][a - lead] === 1 && f[a] !== 1)) axes.push(a);
  }
  if (axes.length === 0 && lead === 0) return g;
  const summed = axes.length > 0 ? ctx.b.reduce('ReduceSum', g, axes, true) : g;
  return lead > 0 ? ctx.b.reshapeLike(summed, x) : summed;
}
