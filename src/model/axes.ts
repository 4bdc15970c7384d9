import type { ModelGraph } from './graph.ts';
import { onnx, type NodeProto, type TensorProto } from './onnx.ts';

/**
 * What each axis of a classifier's tensors means: batch, channel, time, pitch, hidden (the feature
 * axis of a recurrent, attention or linear layer) or mixed (merged axes of different kinds, or an
 * op this module does not know). The labels start at the input, from the input spec's layout
 * (`NCTP` is batch, channel, time, pitch), and are propagated op by op through the graph:
 * convolutions and pooling keep the order of their spatial axes and make axis 1 `channel`,
 * Transpose permutes, Reshape/Flatten/Squeeze/Unsqueeze merge and split axes by their sizes,
 * MatMul/Gemm with weights make the last axis `hidden`, GRU/LSTM/RNN give [sequence, directions,
 * batch, hidden] with the sequence keeping its label (time, for a recurrent layer over time).
 *
 * Propagating labels is more trustworthy than guessing from sizes: a [64, 25, 6] map may be
 * channel x time x pitch or time x channel x pitch (a permuted view before a recurrent layer), and
 * only the ops that made it tell which. Sizes are used only to align axes through reshapes.
 *
 * An axis is a list of atoms (label, size), outermost first, whose sizes multiply to the axis size:
 * merging batch with attention heads gives [batch 3, hidden 4], which a later reshape splits
 * again, so the batch axis is found after multi-head attention. Tensor shapes (with the batch) come
 * from running the model once (src/model/batch.ts).
 */
export type AxisLabel = 'batch' | 'channel' | 'time' | 'pitch' | 'hidden' | 'mixed';

export interface Atom {
  label: AxisLabel;
  size: number;
}
export type Axis = Atom[];

/** Input layouts: N batch, C channels, T time frames, P pitches; without C the roll has one channel. */
export const LAYOUTS = ['NCTP', 'NCPT', 'NTPC', 'NPTC', 'NTP', 'NPT'] as const;
export type Layout = (typeof LAYOUTS)[number];

const LETTERS: Record<string, AxisLabel> = { N: 'batch', C: 'channel', T: 'time', P: 'pitch' };

/** Labels of the input tensor's axes, batch first. */
export function layoutLabels(layout: Layout): AxisLabel[] {
  return [...layout].map((l) => LETTERS[l]);
}

/** Per-item input dims in the layout's order, for C channels, T frames and P pitches. */
export function layoutItemDims(layout: Layout, C: number, T: number, P: number): number[] {
  const size: Record<string, number> = { C, T, P };
  return [...layout.slice(1)].map((l) => size[l]);
}

/** The one label standing for an axis: its non-unit atoms' common label, else `mixed`. */
export function axisLabel(axis: Axis): AxisLabel {
  const real = axis.filter((a) => a.size !== 1);
  if (real.length === 0) return axis[0]?.label ?? 'mixed';
  const first = real[0].label;
  return real.every((a) => a.label === first) ? first : 'mixed';
}

/** An axis that holds the batch and nothing else (unit atoms aside). */
export function isBatchAxis(axis: Axis | undefined): boolean {
  return (
    !!axis &&
    axis.some((a) => a.label === 'batch') &&
    axis.every((a) => a.label === 'batch' || a.size === 1)
  );
}

export interface GraphAxes {
  /** Axes of every tensor computed from the graph input (with a probed shape), batch included. */
  axes: Map<string, Axis[]>;
  /** Tensors known to be >= 0 for any piano roll (after a ReLU, pooling of one, ...): NMF needs them. */
  nonNegative: Set<string>;
}

/**
 * Axes of every tensor of the graph, from the input layout and the probed full shapes (batch
 * included). Tensors that do not depend on the input (weights, shape arithmetic) get none.
 */
export function propagateAxes(
  graph: ModelGraph,
  layout: Layout,
  shapes: Map<string, number[]>,
): GraphAxes {
  const axes = new Map<string, Axis[]>();
  const nonNegative = new Set<string>();
  const inputShape = shapes.get(graph.inputName);
  const labels = layoutLabels(layout);
  if (inputShape && inputShape.length === labels.length) {
    axes.set(
      graph.inputName,
      labels.map((label, i) => [{ label, size: inputShape[i] }]),
    );
  }
  nonNegative.add(graph.inputName); // piano rolls are binary or velocities
  const constants = new ConstantReader(graph);
  for (const node of graph.nodes) {
    const inputs = node.input ?? [];
    const inAxes = inputs.map((t) => (t ? axes.get(t) : undefined));
    if (inAxes.every((a) => a === undefined)) continue; // weights or shape arithmetic
    const outputs = (node.output ?? []).filter(Boolean);
    outputs.forEach((out, k) => {
      const shape = shapes.get(out);
      if (!shape) return;
      let result: Axis[] | undefined;
      try {
        result = outputAxes(node, k, inAxes, inputs, shapes, shape, constants);
      } catch {
        result = undefined;
      }
      axes.set(out, result ?? fallbackAxes(inAxes, inputs, shapes, shape));
      if (isNonNegative(node, inputs, nonNegative, axes, constants)) nonNegative.add(out);
    });
  }
  return { axes, nonNegative };
}

const SAME_RANK = new Set([
  'Relu',
  'LeakyRelu',
  'PRelu',
  'Elu',
  'Selu',
  'Celu',
  'Gelu',
  'Sigmoid',
  'HardSigmoid',
  'HardSwish',
  'Tanh',
  'Softplus',
  'Softsign',
  'Mish',
  'ThresholdedRelu',
  'Erf',
  'Abs',
  'Neg',
  'Exp',
  'Log',
  'Sqrt',
  'Reciprocal',
  'Floor',
  'Ceil',
  'Round',
  'Sign',
  'Sin',
  'Cos',
  'Not',
  'IsNaN',
  'Clip',
  'Cast',
  'CastLike',
  'Identity',
  'Dropout',
  'Softmax',
  'LogSoftmax',
  'Hardmax',
  'BatchNormalization',
  'InstanceNormalization',
  'LayerNormalization',
  'GroupNormalization',
  'MeanVarianceNormalization',
  'LpNormalization',
  'LRN',
  'MaxPool',
  'AveragePool',
  'LpPool',
  'GlobalAveragePool',
  'GlobalMaxPool',
  'GlobalLpPool',
  'Pad',
  'Resize',
  'Upsample',
  'Slice',
  'Split',
  'Concat',
  'CumSum',
  'TopK',
]);

const BROADCAST = new Set([
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Pow',
  'Max',
  'Min',
  'Sum',
  'Mean',
  'Where',
  'Equal',
  'Greater',
  'GreaterOrEqual',
  'Less',
  'LessOrEqual',
  'And',
  'Or',
  'Xor',
  'Mod',
  'Expand',
  'Tile',
]);

const RESHAPES = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze']);
const REDUCES = new Set([
  'ReduceMean',
  'ReduceSum',
  'ReduceMax',
  'ReduceMin',
  'ReduceProd',
  'ReduceL1',
  'ReduceL2',
  'ReduceLogSum',
  'ReduceLogSumExp',
  'ReduceSumSquare',
  'ArgMax',
  'ArgMin',
]);

function outputAxes(
  node: NodeProto,
  k: number,
  inAxes: (Axis[] | undefined)[],
  inputs: string[],
  shapes: Map<string, number[]>,
  out: number[],
  constants: ConstantReader,
): Axis[] | undefined {
  const op = node.opType ?? '';
  const x = inAxes[0];
  if (SAME_RANK.has(op)) {
    const source = op === 'Concat' ? inAxes.find((a) => a !== undefined) : x;
    return source && source.length === out.length ? sameRank(source, out) : undefined;
  }
  if (BROADCAST.has(op)) return broadcast(inAxes, inputs, shapes, out);
  if (op === 'Conv' || op === 'ConvTranspose' || op === 'ConvInteger') {
    if (!x || x.length !== out.length) return undefined;
    return out.map((size, i) =>
      i === 0
        ? resize(x[0], size)
        : i === 1
          ? [{ label: 'channel', size }]
          : [{ label: axisLabel(x[i]), size }],
    );
  }
  if (op === 'Transpose') {
    if (!x) return undefined;
    const perm = ints(node, 'perm') ?? x.map((_, i) => x.length - 1 - i);
    return perm.map((p) => x[p]);
  }
  if (RESHAPES.has(op)) {
    const inShape = shapes.get(inputs[0]);
    return x && inShape ? reshapeAxes(x, out) : undefined;
  }
  if (REDUCES.has(op)) {
    if (!x) return undefined;
    const keep = (int(node, 'keepdims') ?? 1) !== 0;
    if (keep) return sameRank(x, out);
    let reduced = ints(node, 'axes') ?? (inputs[1] ? constants.ints(inputs[1]) : undefined);
    if (op === 'ArgMax' || op === 'ArgMin') reduced = [int(node, 'axis') ?? 0];
    if (!reduced) reduced = x.map((_, i) => i);
    const drop = new Set(reduced.map((a) => (a < 0 ? a + x.length : a)));
    const kept = x.filter((_, i) => !drop.has(i));
    return kept.length === out.length ? sameRank(kept, out) : undefined;
  }
  if (op === 'Gather') {
    if (!x) return undefined;
    const axis = norm(int(node, 'axis') ?? 0, x.length);
    const indexRank = out.length - (x.length - 1);
    if (indexRank < 0) return undefined;
    const middle: Axis[] = Array.from({ length: indexRank }, (_, j) => [
      { label: indexRank === 1 ? axisLabel(x[axis]) : 'mixed', size: out[axis + j] },
    ]);
    return sameRank([...x.slice(0, axis), ...middle, ...x.slice(axis + 1)], out);
  }
  if (op === 'MatMul' || op === 'MatMulInteger') return matmul(inAxes, out);
  if (op === 'Gemm') {
    if (!x || x.length !== 2) return undefined;
    const row = x[int(node, 'transA') ? 1 : 0];
    const b = inAxes[1];
    const col = b ? b[int(node, 'transB') ? 0 : 1] : undefined;
    return [resize(row, out[0]), col ? resize(col, out[1]) : [{ label: 'hidden', size: out[1] }]];
  }
  if (op === 'GRU' || op === 'LSTM' || op === 'RNN') {
    if (!x || x.length !== 3) return undefined;
    const batchFirst = (int(node, 'layout') ?? 0) === 1;
    const [seq, batch] = batchFirst ? [x[1], x[0]] : [x[0], x[1]];
    const hidden = (size: number): Axis => [{ label: 'hidden', size }];
    if (k === 0) {
      // Y: [seq, directions, batch, hidden], or [batch, seq, directions, hidden] with layout 1.
      return batchFirst
        ? [resize(batch, out[0]), resize(seq, out[1]), hidden(out[2]), hidden(out[3])]
        : [resize(seq, out[0]), hidden(out[1]), resize(batch, out[2]), hidden(out[3])];
    }
    // Y_h, Y_c: [directions, batch, hidden], or [batch, directions, hidden].
    return batchFirst
      ? [resize(batch, out[0]), hidden(out[1]), hidden(out[2])]
      : [hidden(out[0]), resize(batch, out[1]), hidden(out[2])];
  }
  if (op === 'Einsum') return einsum(node, inAxes, out);
  return undefined;
}

/** Unknown ops: the input's axes when the shape is unchanged, else a reshape by sizes, else mixed. */
function fallbackAxes(
  inAxes: (Axis[] | undefined)[],
  inputs: string[],
  shapes: Map<string, number[]>,
  out: number[],
): Axis[] {
  const i = inAxes.findIndex((a) => a !== undefined);
  const x = inAxes[i];
  const inShape = shapes.get(inputs[i]);
  if (x && inShape) {
    if (sameDims(inShape, out)) return x;
    if (product(inShape) === product(out)) {
      const r = reshapeAxes(x, out);
      if (r) return r;
    }
    // Keep a leading batch when the op kept the first dimension.
    if (inShape[0] === out[0] && isBatchAxis(x[0]))
      return out.map((size, j) => (j === 0 ? x[0] : [{ label: 'mixed', size }]));
  }
  return out.map((size) => [{ label: 'mixed', size }]);
}

/** Same axes in the same order, sizes possibly changed (pooling, slicing, padding...). */
function sameRank(x: Axis[], out: number[]): Axis[] {
  return out.map((size, i) => resize(x[i], size));
}

function resize(axis: Axis, size: number): Axis {
  return product(axis.map((a) => a.size)) === size ? axis : [{ label: axisLabel(axis), size }];
}

/** Numpy broadcasting: axes come from the highest-rank input computed from the piano roll. */
function broadcast(
  inAxes: (Axis[] | undefined)[],
  inputs: string[],
  shapes: Map<string, number[]>,
  out: number[],
): Axis[] | undefined {
  const candidates = inAxes
    .map((a, i) => ({ a, shape: shapes.get(inputs[i]) }))
    .filter((c): c is { a: Axis[]; shape: number[] } => !!c.a && !!c.shape);
  if (candidates.length === 0) return undefined;
  return out.map((size, j) => {
    for (const c of candidates) {
      const i = j - (out.length - c.a.length);
      if (i >= 0 && c.shape[i] === size) return c.a[i];
    }
    return [{ label: 'mixed', size }];
  });
}

function matmul(inAxes: (Axis[] | undefined)[], out: number[]): Axis[] | undefined {
  const [a, b] = inAxes;
  if (!a && !b) return undefined;
  const lastOfB = (size: number): Axis =>
    b && b.length >= 2 ? resize(b[b.length - 1], size) : [{ label: 'hidden', size }];
  if (a && a.length >= 2) {
    const lead = out.length - 2;
    const batchDims = out.slice(0, lead).map((size, j) => {
      const i = j - (lead - (a.length - 2));
      return i >= 0 ? resize(a[i], size) : [{ label: 'mixed' as AxisLabel, size }];
    });
    return [...batchDims, resize(a[a.length - 2], out[lead]), lastOfB(out[lead + 1])];
  }
  if (a && a.length === 1) return out.map((size) => [{ label: 'hidden', size }]);
  // Weights times activations (W @ x): rows are hidden, the rest follows x.
  if (b && b.length >= 2) {
    const lead = out.length - 2;
    return [
      ...out.slice(0, lead).map((size, j) => resize(b[j] ?? [{ label: 'mixed', size }], size)),
      [{ label: 'hidden', size: out[lead] }],
      resize(b[b.length - 1], out[lead + 1]),
    ];
  }
  return undefined;
}

function einsum(
  node: NodeProto,
  inAxes: (Axis[] | undefined)[],
  out: number[],
): Axis[] | undefined {
  const equation = str(node, 'equation')?.replace(/\s+/g, '');
  if (!equation || !equation.includes('->') || equation.includes('...')) return undefined;
  const [lhs, rhs] = equation.split('->');
  const terms = lhs.split(',');
  if (rhs.length !== out.length) return undefined;
  return [...rhs].map((letter, j) => {
    for (let t = 0; t < terms.length; t++) {
      const i = terms[t].indexOf(letter);
      const a = inAxes[t];
      if (i >= 0 && a && a[i]) return resize(a[i], out[j]);
    }
    return [{ label: 'hidden', size: out[j] }];
  });
}

/**
 * Axes after a reshape: the input's atoms, in order, regrouped into the output dims by size. An
 * atom is split when a dim takes part of it (hidden 64 -> hidden 4 x hidden 16); unit atoms go
 * to a unit dim when the next dim is one, else they stay with the dim before. Undefined when the
 * sizes do not line up (then the caller falls back to mixed axes).
 */
export function reshapeAxes(x: Axis[], out: number[]): Axis[] | undefined {
  const queue: Atom[] = x.flat().map((a) => ({ ...a }));
  const result: Axis[] = [];
  for (let j = 0; j < out.length; j++) {
    const size = out[j];
    const atoms: Atom[] = [];
    if (size === 1) {
      atoms.push(queue[0]?.size === 1 ? queue.shift()! : { label: 'mixed', size: 1 });
    } else {
      let prod = 1;
      while (prod < size) {
        const a = queue.shift();
        if (!a) return undefined;
        if (a.size === 1) {
          atoms.push(a);
          continue;
        }
        if (size % (prod * a.size) === 0) {
          atoms.push(a);
          prod *= a.size;
        } else {
          const take = size / prod;
          if (!Number.isInteger(take) || a.size % take !== 0) return undefined;
          atoms.push({ label: a.label, size: take });
          queue.unshift({ label: a.label, size: a.size / take });
          prod = size;
        }
      }
      if (prod !== size) return undefined;
    }
    while (queue[0]?.size === 1 && (j === out.length - 1 || out[j + 1] !== 1))
      atoms.push(queue.shift()!);
    result.push(merge(atoms));
  }
  if (queue.some((a) => a.size !== 1)) return undefined;
  return result;
}

/** Neighbouring atoms of one label become one (hidden 4 x hidden 16 = hidden 64). */
function merge(atoms: Atom[]): Axis {
  const out: Atom[] = [];
  for (const a of atoms) {
    const last = out[out.length - 1];
    if (last && last.label === a.label && last.size !== 1 && a.size !== 1) last.size *= a.size;
    else out.push({ ...a });
  }
  return out;
}

/** Ops whose output is >= 0 whatever their input. */
const ALWAYS_NON_NEGATIVE = new Set([
  'Relu',
  'Sigmoid',
  'HardSigmoid',
  'Softmax',
  'Softplus',
  'Abs',
  'Exp',
  'Sqrt',
  'ReduceL1',
  'ReduceL2',
  'ReduceSumSquare',
]);
/** Ops whose output is >= 0 when every input is (constants included). */
const KEEPS_NON_NEGATIVE = new Set([
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
  'GlobalMaxPool',
  'Reshape',
  'Flatten',
  'Squeeze',
  'Unsqueeze',
  'Transpose',
  'Identity',
  'Dropout',
  'Cast',
  'Slice',
  'Gather',
  'Split',
  'Concat',
  'Resize',
  'Upsample',
  'Pad',
  'ReduceMean',
  'ReduceSum',
  'ReduceMax',
  'ReduceMin',
  'Expand',
  'Tile',
  'Add',
  'Mul',
  'Div',
  'Min',
  'Sum',
  'Mean',
]);

function isNonNegative(
  node: NodeProto,
  inputs: string[],
  nonNegative: Set<string>,
  axes: Map<string, Axis[]>,
  constants: ConstantReader,
): boolean {
  const op = node.opType ?? '';
  if (ALWAYS_NON_NEGATIVE.has(op)) return true;
  const ok = (t: string) =>
    nonNegative.has(t) || (!axes.has(t) && (constants.floats(t)?.every((v) => v >= 0) ?? false));
  if (op === 'Clip') {
    const min = inputs[1] ? constants.floats(inputs[1])?.[0] : float(node, 'min');
    return (min !== undefined && min >= 0) || ok(inputs[0]);
  }
  if (op === 'Max') return inputs.some((t) => t && ok(t));
  if (op === 'Gather' || op === 'Reshape' || op === 'Expand' || op === 'Tile' || op === 'Slice')
    return ok(inputs[0]); // the other inputs are indices or shapes
  if (op === 'Pad') return ok(inputs[0]) && (!inputs[2] || ok(inputs[2]));
  if (op === 'Resize' || op === 'Upsample' || op === 'Squeeze' || op === 'Unsqueeze')
    return ok(inputs[0]);
  if (KEEPS_NON_NEGATIVE.has(op)) return inputs.filter(Boolean).every(ok);
  return false;
}

/** Values of constant tensors (initializers and Constant nodes), read on demand. */
class ConstantReader {
  private readonly tensors = new Map<string, TensorProto>();

  constructor(graph: ModelGraph) {
    for (const t of graph.model.graph!.initializer ?? []) this.tensors.set(t.name ?? '', t);
    for (const node of graph.nodes) {
      if (node.opType !== 'Constant') continue;
      const value = node.attribute?.find((a) => a.name === 'value')?.t;
      if (value && node.output?.[0]) this.tensors.set(node.output[0], value);
    }
  }

  ints(name: string): number[] | undefined {
    const t = this.tensors.get(name);
    return t ? tensorInts(t) : undefined;
  }

  floats(name: string): number[] | undefined {
    const t = this.tensors.get(name);
    if (!t || t.dataType !== onnx.TensorProto.DataType.FLOAT) return undefined;
    if (t.floatData && t.floatData.length > 0) return t.floatData.map(Number);
    if (t.rawData && t.rawData.length > 0) {
      const raw = t.rawData;
      const copy = new Uint8Array(raw.length);
      copy.set(raw);
      return Array.from(new Float32Array(copy.buffer));
    }
    return [];
  }
}

/** Integers of an INT64 or INT32 tensor. */
export function tensorInts(t: TensorProto): number[] | undefined {
  const { INT64, INT32 } = onnx.TensorProto.DataType;
  if (t.dataType === INT64) {
    if (t.int64Data && t.int64Data.length > 0) return t.int64Data.map(Number);
    if (t.rawData) {
      const copy = new Uint8Array(t.rawData.length);
      copy.set(t.rawData);
      return Array.from(new BigInt64Array(copy.buffer), Number);
    }
    return [];
  }
  if (t.dataType === INT32) {
    if (t.int32Data && t.int32Data.length > 0) return t.int32Data.map(Number);
    if (t.rawData) {
      const copy = new Uint8Array(t.rawData.length);
      copy.set(t.rawData);
      return Array.from(new Int32Array(copy.buffer));
    }
    return [];
  }
  return undefined;
}

function attribute(node: NodeProto, name: string) {
  return node.attribute?.find((a) => a.name === name);
}
function int(node: NodeProto, name: string): number | undefined {
  const a = attribute(node, name);
  return a && a.i !== undefined && a.i !== null ? Number(a.i) : undefined;
}
function ints(node: NodeProto, name: string): number[] | undefined {
  const a = attribute(node, name);
  return a?.ints && a.ints.length > 0 ? a.ints.map(Number) : undefined;
}
function float(node: NodeProto, name: string): number | undefined {
  const a = attribute(node, name);
  return a && a.f !== undefined && a.f !== null ? Number(a.f) : undefined;
}
function str(node: NodeProto, name: string): string | undefined {
  const s = attribute(node, name)?.s;
  return s ? new TextDecoder().decode(s) : undefined;
}
function norm(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}
function product(xs: number[]): number {
  return xs.reduce((a, b) => a * b, 1);
}
function sameDims(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

// ---------------------------------------------------------------------------------------------
// What consumers need from a layer's axes.

/** Per-item axes of a layer, for display: `channel 64 x time 25 x pitch 6`. */
export function describeAxes(shape: number[], axes: readonly AxisLabel[]): string {
  return shape.map((d, i) => `${axes[i] ?? 'mixed'} ${d}`).join(' x ');
}

/**
 * A layer's activations seen as a map over the excerpt: rows are time, columns pitch (a layer with
 * only one of them has 1 column or 1 row), and at every position a feature vector made of all the
 * other axes (channels, hidden units). `index[q * features + f]` is the offset, within one item's
 * activations, of feature f at position q = row * cols + col, so consumers never depend on the
 * order of the layer's axes (NCPT models, channels-last maps, [hidden, time] layers).
 */
export interface LayerMap {
  rows: number;
  cols: number;
  positions: number;
  features: number;
  index: Int32Array;
  /** Rows or columns > 1: there is something to localise. */
  localised: boolean;
  /** Why there is no map, when there is none. */
  reason?: string;
}

export function layerMap(shape: readonly number[], axes: readonly AxisLabel[]): LayerMap {
  const find = (label: AxisLabel) => {
    const at = axes.flatMap((a, i) => (a === label ? [i] : []));
    return at.length === 1 ? at[0] : -1; // two time axes (e.g. attention weights) are no map
  };
  const t = find('time');
  const p = find('pitch');
  const rows = t >= 0 ? shape[t] : 1;
  const cols = p >= 0 ? shape[p] : 1;
  const strides = shape.map((_, i) => product(shape.slice(i + 1)));
  const featureAxes = shape.map((_, i) => i).filter((i) => i !== t && i !== p);
  const features = product(featureAxes.map((i) => shape[i]));
  const index = new Int32Array(rows * cols * features);
  // Feature offsets: the feature axes in their order, row-major.
  const featureOffset = new Int32Array(features);
  for (let f = 0; f < features; f++) {
    let rest = f;
    let offset = 0;
    for (let j = featureAxes.length - 1; j >= 0; j--) {
      const a = featureAxes[j];
      offset += (rest % shape[a]) * strides[a];
      rest = Math.floor(rest / shape[a]);
    }
    featureOffset[f] = offset;
  }
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const base = (t >= 0 ? r * strides[t] : 0) + (p >= 0 ? c * strides[p] : 0);
      const q = r * cols + c;
      for (let f = 0; f < features; f++) index[q * features + f] = base + featureOffset[f];
    }
  }
  const localised = rows > 1 || cols > 1;
  return {
    rows,
    cols,
    positions: rows * cols,
    features,
    index,
    localised,
    ...(localised
      ? {}
      : {
          reason:
            t < 0 && p < 0
              ? 'it has no time or pitch axis'
              : 'its time and pitch axes have length 1 (pooled away)',
        }),
  };
}
