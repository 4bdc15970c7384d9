import { encodeModel, graphInputs, topologicalOrder, type ModelProto } from '../onnx.ts';
import { GraphBuilder } from './builder.ts';
import { probeTensors, type TensorInfo } from './probe.ts';
import { defaultOpset, DType } from './proto.ts';
import { NoGradientError, UnsupportedOpError, type RuleContext } from './rule.ts';
import { NO_GRADIENT, RULES } from './rules/index.ts';

/**
 * Reverse-mode differentiation of an ONNX graph into another ONNX graph.
 *
 * From a model with one input x and logits y (a classifier, or the head after a layer), build a
 * model with inputs (x, w) and outputs (y, dL/dx) where L = sum over rows and classes of w * y:
 * with w one-hot per row, dL/dx is the gradient of one chosen logit for each row. The forward
 * nodes are kept as they are; the backward nodes are appended, one rule per forward node in
 * reverse topological order (src/model/autodiff/rules), gradients of tensors used several times
 * summed. Everything runs in onnxruntime like the forward graph.
 *
 * Shapes come from probing the forward graph at two batch sizes (probe.ts): per-item sizes are
 * static, anything involving the batch uses run-time Shape ops. Only float32 tensors that depend
 * on x's values and lead to y carry gradients; shape computations (Shape, Gather of shapes...)
 * are constants, as in PyTorch.
 */

export const WEIGHTS_INPUT = 'concept_lens.weights';
export const GRADIENT_OUTPUT = 'concept_lens.gradient';

export interface GradientGraphOptions {
  /** Dims of one item of the input (batch excluded). */
  itemDims: number[];
  /** Batch sizes to probe with (default [2, 3]; one size for a model with a fixed batch). */
  batchSizes?: number[];
}

export interface GradientGraph {
  /** The encoded model: inputs (input, weights), outputs (logits, gradient). */
  model: Uint8Array;
  input: string;
  logits: string;
  weights: string;
  gradient: string;
  /** Number of backward nodes emitted. */
  backwardNodes: number;
}

export async function gradientGraph(
  model: ModelProto,
  options: GradientGraphOptions,
): Promise<GradientGraph> {
  const opset = defaultOpset(model);
  if (opset === undefined || opset < 11)
    throw new NoGradientError(
      `no exact gradients for ONNX opset ${opset ?? '(none)'} (needs 11 or later)`,
    );
  const graph = model.graph!;
  const inputs = graphInputs(model);
  if (inputs.length !== 1)
    throw new NoGradientError(`the graph has ${inputs.length} inputs, not 1`);
  const x = inputs[0].name!;
  const y = graph.output![0].name!;
  const order = topologicalOrder(
    graph.node ?? [],
    new Set([x, ...(graph.initializer ?? []).map((t) => t.name!)]),
    (node) => new NoGradientError(`the graph has a cycle or undefined tensors (at node ${node})`),
  );
  const batchSizes = options.batchSizes ?? [2, 3];
  const infos = await probeTensors(model, x, options.itemDims, batchSizes);

  // Which tensors carry gradients: float32, computed from x's values, and leading to y.
  const fromX = new Set([x]);
  const valueOfX = new Set([x]);
  for (const node of order) {
    const ins = (node.input ?? []).filter(Boolean);
    if (ins.some((t) => valueOfX.has(t)) && node.opType !== 'Shape' && node.opType !== 'Size')
      for (const o of node.output ?? []) if (o) valueOfX.add(o);
    if (NO_GRADIENT.has(node.opType ?? '') || !ins.some((t) => fromX.has(t))) continue;
    for (const o of node.output ?? []) {
      if (!o) continue;
      const dtype = infos.get(o)?.dtype;
      if (dtype === DType.FLOAT) fromX.add(o);
      else if (dtype === DType.DOUBLE || dtype === DType.FLOAT16 || dtype === DType.BFLOAT16)
        throw new UnsupportedOpError(
          node.opType ?? '?',
          node.name ?? '',
          'computes in a float type other than float32',
        );
    }
  }
  const toY = new Set([y]);
  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i];
    if ((node.output ?? []).some((o) => toY.has(o)))
      for (const t of node.input ?? []) if (t) toY.add(t);
  }
  const needs = (t: string) => !!t && fromX.has(t) && toY.has(t);

  for (const node of order) {
    const differentiable = (node.output ?? []).some(needs) && (node.input ?? []).some(needs);
    if (!differentiable) continue;
    if ((node.domain && node.domain !== 'ai.onnx') || !RULES[node.opType ?? ''])
      throw new UnsupportedOpError(
        node.domain && node.domain !== 'ai.onnx'
          ? `${node.domain}.${node.opType}`
          : (node.opType ?? '?'),
        node.name ?? '',
      );
  }

  const b = new GraphBuilder(opset);
  const forward = order.map((n) => ({ ...n, output: [...(n.output ?? [])] }));
  const grads = new Map<string, string[]>([[y, [WEIGHTS_INPUT]]]);
  const info = (t: string): TensorInfo => {
    const found = infos.get(t);
    if (!found) throw new Error(`autodiff: no probed shape for ${t}`);
    return found;
  };
  for (let i = forward.length - 1; i >= 0; i--) {
    const node = forward[i];
    const dys = node.output.map((o) =>
      needs(o) && grads.has(o) ? b.sum(grads.get(o)!) : undefined,
    );
    if (dys.every((g) => !g) || !(node.input ?? []).some(needs)) continue;
    const ctx: RuleContext = {
      node,
      b,
      opset,
      input: (k) => node.input?.[k] ?? '',
      output: (k) => node.output[k] ?? '',
      dy: (k = 0) => dys[k],
      needs: (k) => needs(node.input?.[k] ?? ''),
      info,
      constant: (t) => {
        if (valueOfX.has(t)) return undefined;
        const values = infos.get(t)?.values;
        if (!values) return undefined;
        return values.every(
          (v) => v.length === values[0].length && v.every((e, j) => e === values[0][j]),
        )
          ? values[0]
          : undefined;
      },
      forwardOutput: (k) => {
        if (!node.output[k]) {
          while (node.output.length <= k) node.output.push('');
          node.output[k] = b.fresh(`${node.opType}_output${k}`);
        }
        return node.output[k];
      },
      unsupported: (detail) => {
        throw new UnsupportedOpError(node.opType ?? '?', node.name ?? '', detail);
      },
    };
    const inputGrads = RULES[node.opType!](ctx);
    (node.input ?? []).forEach((t, k) => {
      const g = inputGrads[k];
      if (!g || !needs(t)) return;
      if (!grads.has(t)) grads.set(t, []);
      grads.get(t)!.push(g);
    });
  }
  const gx = grads.has(x) ? b.sum(grads.get(x)!) : b.zerosLike(x);
  b.nodes.push({ opType: 'Identity', name: 'grad/output', input: [gx], output: [GRADIENT_OUTPUT] });

  const yInfo = info(y);
  const dim = (values: number[], a: number, all: number[][]) =>
    all.every((d) => d[a] === values[a]) ? { dimValue: values[a] } : { dimParam: `batch_${a}` };
  const floatInfo = (name: string, all: number[][]) => ({
    name,
    type: {
      tensorType: {
        elemType: DType.FLOAT,
        shape: { dim: all[0].map((_, a) => dim(all[0], a, all)) },
      },
    },
  });
  const encoded = encodeModel({
    ...model,
    graph: {
      ...graph,
      node: [...forward, ...b.nodes],
      initializer: [...(graph.initializer ?? []), ...b.initializers],
      input: [...(graph.input ?? []), floatInfo(WEIGHTS_INPUT, yInfo.dims)],
      output: [graph.output![0], floatInfo(GRADIENT_OUTPUT, info(x).dims)],
    },
  });
  return {
    model: encoded,
    input: x,
    logits: y,
    weights: WEIGHTS_INPUT,
    gradient: GRADIENT_OUTPUT,
    backwardNodes: b.nodes.length,
  };
}
