import ort from 'onnxruntime-node';
import { UserError } from '../util/errors.ts';
import { readUserFile } from '../util/files.ts';
import {
  axisLabel,
  describeAxes,
  isBatchAxis,
  layoutLabels,
  propagateAxes,
  type GraphAxes,
} from './axes.ts';
import { BatchPolicy, resolveBatch, type BatchInfo, type Probe } from './batch.ts';
import { inlineExternalData } from './external.ts';
import { findLayer, ModelGraph, nameLayers, type LayerInfo, type UnlistedCut } from './graph.ts';
import { HeadModel, type DerivativeMethod } from './head.ts';
import { chooseClassifierOutput, useLogits, type OutputInfo } from './output.ts';
import { createSession, ortMessage, WIDE_LAYER_VALUES } from './session.ts';
import {
  declaredDims,
  decodeModel,
  nanInitializer,
  encodeModel,
  graphInputs,
  metadata,
  type Dim,
  type ModelProto,
} from './onnx.ts';
import {
  checkInputShape,
  inputItemDims,
  resolveDescription,
  type InputSpec,
  type ModelOverrides,
} from './spec.ts';

/**
 * A composer classifier loaded from ONNX: labels, input spec, the layers it can be cut at, and
 * sessions that return logits plus activations at any of those layers. Sessions are built per set
 * of requested layers (graph outputs added by graph surgery) and kept for reuse.
 */

export interface RunResult {
  /** [n x classes], row-major. */
  logits: Float32Array;
  /** Per requested layer name: [n x layer size], row-major. */
  activations: Record<string, Float32Array>;
}

export interface ModelIo {
  name: string;
  dims: Dim[];
}

export class ComposerClassifier {
  /** Session runs so far (the activation cache tests count them). */
  runCount = 0;
  /** How heads take derivatives ('exact' falls back to finite differences per head when it must). */
  derivatives: DerivativeMethod = 'exact';
  private readonly sessions = new Map<string, Promise<ort.InferenceSession>>();
  private readonly heads = new Map<string, Promise<HeadModel>>();

  private constructor(
    readonly path: string,
    readonly labels: string[],
    readonly input: InputSpec,
    /**
     * The model's identity in caches and results: sha256 of the model file, followed by its
     * external data when it has any (src/model/external.ts).
     */
    readonly sha256: string,
    /** The graph that runs: the file's, or the file's with a symbolic batch (src/model/batch.ts). */
    readonly graph: ModelGraph,
    private readonly cuts: (LayerInfo & { internal: boolean })[],
    private readonly unlisted: UnlistedCut[],
    /** How sessions take batches; every session of this model runs through it. */
    readonly batch: BatchPolicy,
    /** Inputs and outputs as the file declares them. */
    private readonly declared: { inputs: ModelIo[]; outputs: ModelIo[] },
    /**
     * What the file outputs (logits, probabilities, log-probabilities); a trailing Softmax or
     * LogSoftmax is cut so that the model runs with its logits (src/model/output.ts).
     */
    readonly output: OutputInfo,
  ) {}

  static async load(path: string, overrides?: ModelOverrides): Promise<ComposerClassifier> {
    const bytes = readUserFile(path);
    let model: ModelProto;
    try {
      model = decodeModel(bytes);
    } catch {
      throw new UserError(`${path}: not an ONNX model (protobuf decoding failed)`);
    }
    if (!model.graph || (model.graph.output ?? []).length === 0)
      throw new UserError(`${path}: not an ONNX model (no graph)`);
    // Weights stored beside the model are read into it: every session is built from bytes.
    const { sha256: identity } = inlineExternalData(path, bytes, model);
    const nan = nanInitializer(model);
    if (nan)
      throw new UserError(
        `${path}: initializer ${nan.name} holds NaN at index ${nan.index}; the model's weights are damaged`,
      );
    const { labels, input, output } = resolveDescription(path, metadata(model), overrides);
    chooseClassifierOutput(model, labels.length);
    const inputs = graphInputs(model);
    if (inputs.length !== 1)
      throw new UserError(
        `${path}: model has ${inputs.length} inputs, expected one piano-roll input`,
      );
    checkInputShape(path, input, declaredDims(inputs[0]));
    const declared = {
      inputs: inputs.map((i) => ({ name: i.name!, dims: declaredDims(i) })),
      outputs: (model.graph.output ?? []).map((o) => ({ name: o.name!, dims: declaredDims(o) })),
    };
    // Before anything runs: the logits under a trailing (Log)Softmax (src/model/output.ts).
    const outputInfo = useLogits(path, model, output);
    let resolved;
    try {
      resolved = await resolveBatch(model, inputItemDims(input));
    } catch (err) {
      const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
      throw new UserError(
        `${path}: the model does not run on a piano roll of its input spec: ${message}`,
      );
    }
    const graph = new ModelGraph(resolved.model);
    const { probe } = resolved;
    const logits = probe.shapes.get(graph.outputName);
    const logitsShape = logits && logits[0] === probe.n ? logits.slice(1) : undefined;
    if (!logitsShape || logitsShape.length !== 1 || logitsShape[0] !== labels.length) {
      // Which other output would fit, so that the line says what to do.
      const others = (resolved.model.graph?.output ?? [])
        .slice(1)
        .map((o) => o.name ?? '')
        .filter((name) => {
          const shape = probe.shapes.get(name);
          return shape && shape[0] === probe.n && shape.length === 2 && shape[1] === labels.length;
        });
      const hint =
        others.length > 0
          ? `; its output ${others.map((o) => `"${o}"`).join(', ')} gives ${labels.length} values: make it the model's first output (or declare its shape [batch, ${labels.length}])`
          : '';
      throw new UserError(
        `${path}: the model's first output "${graph.outputName}" gives ${logitsShape ? `[${logitsShape}]` : 'no float tensor'} per input but the model has ${labels.length} labels (${labels.join(', ')})${hint}`,
      );
    }
    const axes = propagateAxes(graph, input.layout, probe.shapes);
    const { layers, unlisted } = layerCuts(graph, probe, axes);
    return new ComposerClassifier(
      path,
      labels,
      input,
      identity,
      graph,
      nameLayers(graph, layers),
      unlisted,
      resolved.policy,
      declared,
      outputInfo,
    );
  }

  /**
   * What, beyond the file and the input spec, derivatives of this model depend on, as a suffix of
   * the keys of results stored from them (TCAV nulls, mean gradients): the output edit, when there
   * is one (the logits under a cut Softmax are not the log-probabilities an appended Log gives).
   * Empty for a model that gives logits, so that the keys of such models do not change.
   */
  get outputKey(): string {
    return this.output.edit ? `/output:${this.output.edit}` : '';
  }

  /** onnxruntime's memory arena: off when a layer is wider than WIDE_LAYER_VALUES (session.ts). */
  get arena(): boolean {
    return !this.cuts.some((c) => c.shape.reduce((a, b) => a * b, 1) > WIDE_LAYER_VALUES);
  }

  /** Values per item of the model's widest intermediate tensor (what one item costs onnxruntime). */
  get widestLayerValues(): number {
    return Math.max(0, ...this.cuts.map((c) => c.shape.reduce((a, b) => a * b, 1)));
  }

  get classes(): number {
    return this.labels.length;
  }

  /** Values per input item (C x T x P). */
  get inputSize(): number {
    return inputItemDims(this.input).reduce((a, b) => a * b, 1);
  }

  /** Inputs as the file declares them. */
  inputs(): ModelIo[] {
    return this.declared.inputs;
  }

  /** Outputs as the file declares them. */
  outputs(): ModelIo[] {
    return this.declared.outputs;
  }

  /** How the model takes batches (fixed, rewritten to symbolic, or dynamic) and why. */
  get batchInfo(): BatchInfo {
    return this.batch.info;
  }

  /** The layers worth cutting at, in topological order (module outputs, pooled vectors). */
  layers(): LayerInfo[] {
    return this.cuts.filter((c) => !c.internal).map(({ internal: _internal, ...info }) => info);
  }

  /** A layer by readable name, alias or tensor name; UserError listing the valid ones. */
  layer(name: string): LayerInfo {
    return findLayer(this.cuts, name, this.path, this.unlisted);
  }

  /** Logits and activations at `layers` of n inputs laid out as the model's input tensor. */
  async run(batch: Float32Array, n: number, layers: string[] = []): Promise<RunResult> {
    if (batch.length !== n * this.inputSize) {
      throw new Error(
        `${this.path}: batch has ${batch.length} values, expected ${n} x ${this.inputSize}`,
      );
    }
    const infos = layers.map((l) => this.layer(l));
    const tensors = [...new Set(infos.map((l) => l.tensor))].sort();
    const key = tensors.join('\n');
    let session = this.sessions.get(key);
    if (!session) {
      session = createSession(this.graph.withOutputs(tensors), this.path, this.arena);
      this.sessions.set(key, session);
    }
    const s = await session;
    this.runCount++;
    let out: Record<string, Float32Array>;
    try {
      out = await this.batch.run(
        s,
        [{ name: this.graph.inputName, data: batch, itemDims: inputItemDims(this.input) }],
        n,
        [this.graph.outputName, ...tensors],
      );
    } catch (err) {
      if (err instanceof UserError) throw err;
      throw new UserError(`${this.path}: onnxruntime cannot run the model: ${ortMessage(err)}`);
    }
    const activations: Record<string, Float32Array> = {};
    layers.forEach((name, i) => (activations[name] = out[infos[i].tensor]));
    return { logits: out[this.graph.outputName], activations };
  }

  /** The head from `layer` to the logits, built once per layer. */
  head(layer: string): Promise<HeadModel> {
    const info = this.layer(layer);
    let head = this.heads.get(info.tensor);
    if (!head) {
      head = HeadModel.create(this.graph.headModel(info.tensor, info.shape), info, this.classes, {
        derivatives: this.derivatives,
        batch: this.batch,
        arena: this.arena,
      }).catch((err: unknown) => {
        throw new UserError(
          `${this.path}: onnxruntime cannot run the model from layer ${layer}: ${ortMessage(err)}`,
        );
      });
      this.heads.set(info.tensor, head);
    }
    return head;
  }

  /** The whole model as a head from its input (for input gradients), built once. */
  inputHead(): Promise<HeadModel> {
    let head = this.heads.get(this.graph.inputName);
    if (!head) {
      const dims = inputItemDims(this.input);
      const info: LayerInfo = {
        name: 'input',
        aliases: [],
        tensor: this.graph.inputName,
        shape: dims,
        axes: layoutLabels(this.input.layout).slice(1),
        nonNegative: true,
      };
      head = HeadModel.create(encodeModel(this.graph.model), info, this.classes, {
        derivatives: this.derivatives,
        batch: this.batch,
        arena: this.arena,
      }).catch((err: unknown) => {
        throw new UserError(`${this.path}: onnxruntime cannot run the model: ${ortMessage(err)}`);
      });
      this.heads.set(this.graph.inputName, head);
    }
    return head;
  }

  /**
   * Gradients [n x inputSize] of sum_c weights[i, c] logit_c with respect to n inputs laid out as
   * the model's input tensor (weights [n x classes]; one-hot rows: one logit per input).
   */
  async inputGradients(
    batch: Float32Array,
    n: number,
    weights: Float32Array,
  ): Promise<Float32Array> {
    return (await this.inputHead()).gradients(batch, n, weights);
  }

  async release(): Promise<void> {
    for (const s of this.sessions.values()) await (await s).release();
    for (const h of this.heads.values()) await (await h).release();
    this.sessions.clear();
    this.heads.clear();
  }
}

/** Most axes per item a layer may have (a [channel, time, pitch] map has 3). */
const MAX_LAYER_RANK = 3;

/**
 * The valid cuts worth explaining at: float tensors whose first axis is the batch (so that one
 * item's activations are one row), with 1 to 3 axes per item, e.g. [channel, time, pitch] maps,
 * [time, hidden] outputs of recurrent and attention layers, pooled vectors. A cut whose batch axis
 * is not first (a recurrent layer's [time, batch, hidden] output before its transpose) is kept
 * with the reason, for error messages.
 */
function layerCuts(
  graph: ModelGraph,
  probe: Probe,
  { axes, nonNegative }: GraphAxes,
): { layers: Omit<LayerInfo, 'name' | 'aliases'>[]; unlisted: UnlistedCut[] } {
  const layers: Omit<LayerInfo, 'name' | 'aliases'>[] = [];
  const unlisted: UnlistedCut[] = [];
  const views = graph.inputViews();
  for (const tensor of graph.validCuts()) {
    const full = probe.shapes.get(tensor);
    if (!full || probe.types.get(tensor) !== 'float32') continue;
    const tensorAxes = axes.get(tensor);
    const labels = full.map((_, i) => (tensorAxes?.[i] ? axisLabel(tensorAxes[i]) : 'mixed'));
    const perItem = probe.perItem
      ? probe.perItem.has(tensor)
      : full[0] === probe.n && (!tensorAxes || isBatchAxis(tensorAxes[0]));
    const modules = graph.modulePaths(tensor);
    let reason: string | undefined;
    if (!perItem) reason = `its first axis is not the batch ([${describeAxes(full, labels)}])`;
    else if (full.length < 2) reason = 'it has one value per excerpt';
    else if (full.length - 1 > MAX_LAYER_RANK)
      reason = `it has ${full.length - 1} axes per excerpt (${describeAxes(full.slice(1), labels.slice(1))}); at most ${MAX_LAYER_RANK} are supported`;
    if (reason) {
      unlisted.push({ tensor, modules, reason });
      continue;
    }
    layers.push({
      tensor,
      shape: full.slice(1),
      axes: labels.slice(1).map((l) => (l === 'batch' ? 'mixed' : l)),
      nonNegative: nonNegative.has(tensor),
      ...(views.has(tensor) ? { inputView: true } : {}),
    });
  }
  return { layers, unlisted };
}
