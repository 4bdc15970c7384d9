import { UserError } from '../util/errors.ts';
import { declaredDims, type ModelProto, type NodeProto } from './onnx.ts';
import type { OutputKind } from './spec.ts';

/**
 * What a classifier outputs (logits, probabilities or log-probabilities), and the one graph edit
 * that makes every derivative and score concept-lens takes one of logits (or, where the graph holds
 * no logits, of log-probabilities).
 *
 * A trailing Softmax or LogSoftmax is cut (run as Identity): concept-lens reads the logits the
 * model computes under it. That is TCAV's own definition (Kim et al. 2018 take the derivative of
 * the class's logit), and it makes a model with a Softmax last give exactly the derivatives, effects
 * and scores of the same network without it. Predictions do not change: softmax is monotone, and
 * every vote and displayed probability is a softmax or log-softmax of what the model outputs.
 *
 * Why not probabilities: a probability saturates. Where the model is confident, p_c is close to 1
 * and dp_c / da = p_c (g_c - sum_k p_k g_k) shrinks with 1 - p_c (g_k: the gradient of logit k at
 * the activation a), so TCAV effects, gradients and discovery weights shrink towards zero exactly
 * on the excerpts the model is surest of.
 *
 * A model declared to give probabilities whose graph does not end in Softmax (a softmax written by
 * hand, ending in Div) holds no logits concept-lens can find; it gets a Log appended, and is read
 * as log-probabilities: d log p_c / da = g_c - sum_k p_k g_k, the logit's gradient minus the
 * probability-weighted mean of all logits' gradients, which does not saturate either, but is not the
 * logit's gradient (log p_c is the logit up to log sum_k exp logit_k, a term that depends on the
 * input). Declared log-probabilities without a LogSoftmax last are read as they are, for the same
 * reason.
 */

export interface OutputInfo {
  /** What the model file outputs. */
  kind: OutputKind;
  /** How that was decided: the graph's last op, or a sidecar, metadata or flag. */
  source: 'graph' | 'declared';
  /** The graph edit made, when the output is probabilities. */
  edit?: 'softmax-cut' | 'log-softmax-cut' | 'log-appended';
}

/**
 * Which of a model's outputs is the classifier's: the first, as exporters put it, unless the first
 * is declared with a shape other than [batch, labels] and exactly one other output is declared
 * [batch, labels] (a model that also returns an embedding or a feature map, listed first). That
 * output is moved first in place, since everything downstream reads `graph.output[0]`; returns its
 * name when it was moved.
 */
export function chooseClassifierOutput(model: ModelProto, labels: number): string | undefined {
  const outputs = model.graph?.output ?? [];
  if (outputs.length < 2) return undefined;
  const isLogits = (i: number) => {
    const dims = declaredDims(outputs[i]);
    return dims.length === 2 && dims[1] === labels;
  };
  const firstDims = declaredDims(outputs[0]);
  if (firstDims.length === 0 || isLogits(0)) return undefined;
  const matching = outputs.map((_, i) => i).filter((i) => i > 0 && isLogits(i));
  if (matching.length !== 1) return undefined;
  const [chosen] = outputs.splice(matching[0], 1);
  outputs.unshift(chosen);
  return chosen.name ?? undefined;
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
 * its output is the logits under a trailing Softmax or LogSoftmax, or log-probabilities when the
 * model is declared to give probabilities without a Softmax last.
 */
export function useLogits(
  modelPath: string,
  model: ModelProto,
  declared: OutputKind | undefined,
): OutputInfo {
  const fromGraph = graphOutputKind(model);
  const kind = declared ?? fromGraph;
  const source = declared ? 'declared' : 'graph';
  if (kind === 'logits') return { kind, source };
  const node = producer(model);
  // The cut is safe when nothing else reads the (Log)Softmax's output; otherwise those readers would
  // get logits, and a Log appended (below) keeps them as they were.
  const graph = model.graph!;
  const outputName = graph.output![0].name!;
  const readers = (graph.node ?? []).filter((n) => (n.input ?? []).includes(outputName));
  if (node && fromGraph !== 'logits' && kind !== fromGraph)
    throw new UserError(
      `${modelPath}: declared to output ${kind}, but its last op is ${node.opType} (${fromGraph}); fix the output kind`,
    );
  if (node && fromGraph !== 'logits' && readers.length === 0) {
    const edit = node.opType === 'Softmax' ? 'softmax-cut' : 'log-softmax-cut';
    node.opType = 'Identity';
    node.attribute = [];
    return { kind, source, edit };
  }
  if (kind === 'log-probabilities') return { kind, source };
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
      return info.edit
        ? `log-probabilities (${why('LogSoftmax last in the graph')}): derivatives and scores are of the logits under the LogSoftmax (it is cut), as for the same network without it`
        : `log-probabilities (${why('LogSoftmax last in the graph, whose output other nodes read too')}): derivatives and scores are of the log-probabilities`;
    case 'probabilities':
      return info.edit === 'softmax-cut'
        ? `probabilities (${why('Softmax last in the graph')}): derivatives and scores are of the logits under the Softmax (it is cut), as for the same network without it; probabilities would saturate where the model is confident`
        : `probabilities (${why('Softmax last in the graph, whose output other nodes read too')}): derivatives and scores are of the log-probabilities (a Log is appended), which do not saturate where the model is confident`;
  }
}

function producer(model: ModelProto): NodeProto | undefined {
  const outputName = model.graph?.output?.[0]?.name;
  return (model.graph?.node ?? []).find((n) => (n.output ?? []).includes(outputName ?? ''));
}
