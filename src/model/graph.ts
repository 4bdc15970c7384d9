import { UserError } from '../util/errors.ts';
import type { AxisLabel } from './axes.ts';
import {
  encodeModel,
  floatValueInfo,
  graphInputs,
  topologicalOrder,
  type ModelProto,
  type NodeProto,
} from './onnx.ts';

/**
 * The decoded computation graph of a classifier: who produces and consumes each tensor, where the
 * model can be cut into "body up to layer L" and "head from L to the logits", and readable layer
 * names recovered from PyTorch's exported scopes (`/layer3/layer3.1/relu_1/Relu` -> `layer3.1`).
 *
 * A tensor T is a valid cut when the logits can be computed from T, initializers and constants
 * alone: walking back from the logits, every path stops at T or at an initializer before reaching
 * the graph input. Inside a residual block the skip connection still needs the block's input, so
 * only block outputs (and the stem, pooling, flatten...) are valid cuts.
 */

export interface LayerInfo {
  /** Readable name: the outermost module whose last valid cut this tensor is, e.g. `layer3`. */
  name: string;
  /** Other module paths denoting the same tensor, e.g. `layer3.1`, `layer3.1.relu_1`. */
  aliases: string[];
  /** ONNX tensor name. */
  tensor: string;
  /** Shape of one item (batch dimension excluded), e.g. [256, 25, 6]. */
  shape: number[];
  /**
   * What each axis of `shape` is (channel, time, pitch, hidden, mixed), propagated from the input
   * layout through the graph (src/model/axes.ts): [channel, time, pitch] for a CNN map,
   * [time, hidden] for a recurrent or attention layer, [channel, pitch, time] in an NCPT model.
   */
  axes: AxisLabel[];
  /** Values are >= 0 whatever the input (after a ReLU, pooling of one...): NMF can factorise them. */
  nonNegative: boolean;
  /**
   * The piano roll itself, rearranged (Transpose, Reshape, Gather of a channel...) with nothing
   * learnt on the way: a cut, but not a place where the model has features (default layers skip it).
   */
  inputView?: boolean;
}

/** A valid cut that is not offered as a layer, and why (for error messages). */
export interface UnlistedCut {
  tensor: string;
  modules: string[];
  reason: string;
}

/** Ops that move or select values without computing new ones. */
const DATA_MOVEMENT = new Set([
  'Transpose',
  'Reshape',
  'Flatten',
  'Squeeze',
  'Unsqueeze',
  'Gather',
  'Slice',
  'Identity',
  'Cast',
  'Expand',
]);

export class ModelGraph {
  /** Nodes in topological order. */
  readonly nodes: NodeProto[];
  readonly producer = new Map<string, number>();
  readonly consumers = new Map<string, number[]>();
  readonly initializers: Set<string>;
  readonly inputName: string;
  readonly outputName: string;

  constructor(readonly model: ModelProto) {
    const graph = model.graph!;
    this.initializers = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
    const inputs = graphInputs(model);
    if (inputs.length !== 1)
      throw new UserError(
        `model has ${inputs.length} inputs; a composer classifier has one piano-roll input`,
      );
    this.inputName = inputs[0].name!;
    this.outputName = graph.output![0].name!;
    this.nodes = topologicalOrder(
      graph.node ?? [],
      new Set([this.inputName, ...this.initializers]),
      (node) => new UserError(`model graph has a cycle or undefined tensors (at node ${node})`),
    );
    this.nodes.forEach((node, i) => {
      for (const out of node.output ?? []) this.producer.set(out, i);
      for (const inp of node.input ?? []) {
        if (!inp) continue;
        const list = this.consumers.get(inp) ?? [];
        list.push(i);
        this.consumers.set(inp, list);
      }
    });
  }

  /**
   * Indices (topological order) of the nodes that compute the logits from `tensor`, or null when
   * `tensor` is not a valid cut (the logits also need the graph input by another path, or do not
   * depend on `tensor` at all).
   */
  headNodes(tensor: string): number[] | null {
    const nodes = new Set<number>();
    const seen = new Set<string>();
    const stack = [this.outputName];
    let usesCut = false;
    while (stack.length > 0) {
      const t = stack.pop()!;
      if (seen.has(t)) continue;
      seen.add(t);
      if (t === tensor) {
        usesCut = true;
        continue;
      }
      if (this.initializers.has(t)) continue;
      const p = this.producer.get(t);
      if (p === undefined) return null; // reached the graph input around the cut
      nodes.add(p);
      for (const inp of this.nodes[p].input ?? []) if (inp) stack.push(inp);
    }
    return usesCut ? [...nodes].sort((a, b) => a - b) : null;
  }

  /** Tensors that are the graph input rearranged by data-movement ops only (no arithmetic). */
  inputViews(): Set<string> {
    const views = new Set([this.inputName]);
    for (const node of this.nodes) {
      const first = node.input?.[0];
      if (first && views.has(first) && DATA_MOVEMENT.has(node.opType ?? ''))
        for (const out of node.output ?? []) views.add(out);
    }
    views.delete(this.inputName);
    return views;
  }

  /** Every valid cut, in topological order (the logits themselves excluded). */
  validCuts(): string[] {
    const cuts: string[] = [];
    for (const node of this.nodes) {
      for (const out of node.output ?? []) {
        if (out && out !== this.outputName && this.headNodes(out) !== null) cuts.push(out);
      }
    }
    return cuts;
  }

  /** Full module paths of the node producing `tensor`, outermost first (`layer1`, `layer1.0`, ...). */
  modulePaths(tensor: string): string[] {
    const p = this.producer.get(tensor);
    return p === undefined ? [] : modulePaths(this.nodes[p].name ?? '');
  }

  /** The same model with extra graph outputs (intermediate tensors returned alongside the logits). */
  withOutputs(tensors: string[]): Uint8Array {
    const graph = this.model.graph!;
    const existing = new Set(graph.output!.map((o) => o.name));
    const extra = tensors.filter((t) => !existing.has(t)).map((t) => floatValueInfo(t));
    return encodeModel({
      ...this.model,
      graph: { ...graph, output: [...graph.output!, ...extra] },
    });
  }

  /** The head from a valid cut to the logits as a model of its own: input `tensor` [batch, ...itemDims]. */
  headModel(tensor: string, itemDims: number[]): Uint8Array {
    const indices = this.headNodes(tensor);
    if (!indices) throw new Error(`${tensor} is not a valid cut`);
    const graph = this.model.graph!;
    const nodes = indices.map((i) => this.nodes[i]);
    const used = new Set(nodes.flatMap((n) => n.input ?? []));
    const head = {
      ...graph,
      node: nodes,
      initializer: (graph.initializer ?? []).filter((t) => used.has(t.name ?? '')),
      input: [floatValueInfo(tensor, itemDims)],
      output: [graph.output![0]],
      valueInfo: [],
    };
    return encodeModel({ ...this.model, graph: head });
  }
}

/**
 * Readable layers from the useful cuts (feature maps and pooled vectors, with probed shapes). Each
 * module scope names the LAST cut produced inside it; a cut outside any module (e.g. a root-level
 * `torch.flatten`, or any node of a model exported without scopes) is named by its node (`Flatten`).
 * Cuts inside a module that are not its last (e.g. a block's Add before its final ReLU) are
 * `internal`: not listed, but still reachable by tensor name.
 */
export function nameLayers(
  graph: ModelGraph,
  cuts: Omit<LayerInfo, 'name' | 'aliases'>[],
): (LayerInfo & { internal: boolean })[] {
  const lastCut = new Map<string, string>();
  for (const { tensor } of cuts) for (const m of graph.modulePaths(tensor)) lastCut.set(m, tensor);
  const taken = new Set<string>();
  return cuts.map((cut) => {
    const { tensor } = cut;
    const modules = graph.modulePaths(tensor);
    const names = modules.filter((m) => lastCut.get(m) === tensor);
    let name = names[0];
    if (name === undefined) {
      const nodeName = (graph.nodes[graph.producer.get(tensor)!].name ?? '').replace(/^\//, '');
      name =
        modules.length === 0 && nodeName && !taken.has(nodeName) && !nodeName.includes('/')
          ? nodeName
          : tensor;
    }
    taken.add(name);
    return {
      ...cut,
      name,
      aliases: names.slice(1),
      internal: modules.length > 0 && names.length === 0,
    };
  });
}

/** Find a layer by readable name, alias or tensor name; UserError listing the listed ones. */
export function findLayer(
  layers: (LayerInfo & { internal: boolean })[],
  name: string,
  modelPath: string,
  unlisted: UnlistedCut[] = [],
): LayerInfo {
  const found = layers.find(
    (l) => l.name === name || l.tensor === name || l.aliases.includes(name),
  );
  if (!found) {
    const valid = layers.filter((l) => !l.internal).map((l) => l.name);
    const cut = [...unlisted].reverse().find((c) => c.tensor === name || c.modules.at(-1) === name);
    throw new UserError(
      cut
        ? `${modelPath}: "${name}" is a valid cut, but not one concept-lens can explain at: ${cut.reason}; valid layers: ${valid.join(', ')}`
        : `${modelPath}: no layer "${name}" where the model can be cut; valid layers: ${valid.join(', ')}`,
    );
  }
  const { internal: _internal, ...info } = found;
  return info;
}

/**
 * Module paths from a PyTorch node name. Scope segments are relative names, and children of a
 * Sequential repeat their parent's name (`/layer1/layer1.0/conv1/Conv` -> layer1, layer1.0,
 * layer1.0.conv1; `/downsample/downsample.0/` -> downsample, downsample.0).
 */
export function modulePaths(nodeName: string): string[] {
  if (!nodeName.startsWith('/')) return [];
  const segments = nodeName.split('/').slice(1, -1).filter(Boolean);
  const paths: string[] = [];
  let full = '';
  let last = '';
  for (const seg of segments) {
    if (last && seg.startsWith(`${last}.`)) full += seg.slice(last.length);
    else full = full ? `${full}.${seg}` : seg;
    last = seg;
    paths.push(full);
  }
  return paths;
}
