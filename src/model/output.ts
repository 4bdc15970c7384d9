import { UserError } from '../util/errors.ts';
import type { ModelProto, NodeProto } from './onnx.ts';
import type { OutputKind } from './spec.ts';

/**
 * What a classifier outputs (logits, probabilities or log-probabilities), and the one graph edit
 * that makes every derivative and score concept-lens takes a derivative of log-probabilities when
 * the model gives probabilities.
 *
 * Why not probabilities: a probability saturates. Where the model is confident, p_c is close to 1
 * and dp_c / da = p_c (g_c - sum_k p_k g_k) shrinks with 1 - p_c (g_k: the gradient of logit k at
 * the activation a), so TCAV effects, gradients and discovery weights shrink towards zero exactly
 * on the excerpts the model is surest of, and a concept's effect would depend on how confident the
 * model happens to be rather than on the direction. The log-probability does not saturate:
 *   d log p_c / da = g_c - sum_k p_k g_k,
 * the logit's gradient minus the probability-weighted mean of all logits' gradients, which stays of
 * the size of the logits' gradients however confident the model. It is the logit up to a term that
 * is the same for every class of one input (log sum_k exp logit_k), so it ranks the classes of an
 * input exactly as the logits do, and softmax of it gives back the model's probabilities.
 *
 * How: a trailing Softmax is replaced by LogSoftmax over the same axis (the numerically stable
 * route: no log of a rounded probability; the operator's semantics in each opset match Softmax's in
 * the same opset, so the edit is exact). A model declared to give probabilities without a Softmax
 * last gets a Log appended. A model that ends in LogSoftmax already gives log-probabilities.
 */

export interface OutputInfo {
  /** What the model file outputs. */
  kind: OutputKind;
  /** How that was decided: the graph's last op, or a sidecar, metadata or flag. */
  source: 'graph' | 'declared';
  /** The graph edit made, when the output is probabilities. */
  edit?: 'softmax-to-log-softmax' | 'log-appended';
}

/** What the graph's last op says the output is. */
export function graphOutputKind(model: ModelProto): OutputKind {
  const node = producer(model);
  if (node?.opType === 'Softmax' && !node.domain) return 'probabilities';
  if (node?.opType === 'LogSoftmax' && !node.domain) return 'log-probabilities';
  return 'logits';
}

/**
 * Decide the output kind (declared over the graph's last op) and rewrite `model` in place so that
 * its output is log-probabilities when the model gives probabilities.
 */
export function useLogProbabilities(
  modelPath: string,
  model: ModelProto,
  declared: OutputKind | undefined,
): OutputInfo {
  const fromGraph = graphOutputKind(model);
  const kind = declared ?? fromGraph;
  const source = declared ? 'declared' : 'graph';
  if (kind !== 'probabilities') return { kind, source };
  const graph = model.graph!;
  const outputName = graph.output![0].name!;
  const node = producer(model);
  if (node && fromGraph === 'probabilities') {
    node.opType = 'LogSoftmax';
    return { kind, source, edit: 'softmax-to-log-softmax' };
  }
  if (fromGraph === 'log-probabilities')
    throw new UserError(
      `${modelPath}: declared to output probabilities, but its last op is LogSoftmax (log-probabilities); fix the output kind`,
    );
  // Rename the probabilities tensor and take its log under the output's name.
  const renamed = `${outputName}__concept_lens_probabilities`;
  for (const n of graph.node ?? []) {
    n.input = (n.input ?? []).map((t) => (t === outputName ? renamed : t));
    n.output = (n.output ?? []).map((t) => (t === outputName ? renamed : t));
  }
  graph.node = [
    ...(graph.node ?? []),
    { opType: 'Log', input: [renamed], output: [outputName], name: 'concept_lens_log' },
  ];
  return { kind, source, edit: 'log-appended' };
}

/** One line for `model inspect`. */
export function describeOutput(info: OutputInfo): string {
  const why = (graph: string) => (info.source === 'graph' ? graph : 'as declared');
  switch (info.kind) {
    case 'logits':
      return `logits (${why('no Softmax or LogSoftmax last in the graph')}): derivatives and scores are of the logits`;
    case 'log-probabilities':
      return `log-probabilities (${why('LogSoftmax last in the graph')}): derivatives and scores are of the log-probabilities`;
    case 'probabilities':
      return `probabilities (${why('Softmax last in the graph')}): derivatives and scores are of the log-probabilities (${info.edit === 'softmax-to-log-softmax' ? 'the Softmax runs as LogSoftmax' : 'a Log is appended'}), which do not saturate where the model is confident`;
  }
}

function producer(model: ModelProto): NodeProto | undefined {
  const outputName = model.graph?.output?.[0]?.name;
  return (model.graph?.node ?? []).find((n) => (n.output ?? []).includes(outputName ?? ''));
}
