import ort from 'onnxruntime-node';
import { UserError } from '../util/errors.ts';
import { readUserFile, sha256 } from '../util/files.ts';
import { findLayer, ModelGraph, nameLayers, type LayerInfo } from './graph.ts';
import { HeadModel, type DerivativeMethod } from './head.ts';
import {
  declaredDims,
  decodeModel,
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
    /** sha256 of the model file: the model's identity in caches and results. */
    readonly sha256: string,
    readonly graph: ModelGraph,
    private readonly cuts: (LayerInfo & { internal: boolean })[],
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
    const { labels, input } = resolveDescription(path, metadata(model), overrides);
    const inputs = graphInputs(model);
    if (inputs.length !== 1)
      throw new UserError(
        `${path}: model has ${inputs.length} inputs, expected one piano-roll input`,
      );
    checkInputShape(path, input, declaredDims(inputs[0]));
    const graph = new ModelGraph(model);
    const shapes = await probeShapes(graph, input);
    const logitsShape = shapes.get(graph.outputName);
    if (!logitsShape || logitsShape.length !== 1 || logitsShape[0] !== labels.length) {
      throw new UserError(
        `${path}: the model outputs ${logitsShape ? `[${logitsShape}]` : 'no float tensor'} per input but has ${labels.length} labels (${labels.join(', ')})`,
      );
    }
    // Useful cuts: feature maps (C, T', P') and vectors (K); not scalars or odd intermediate shapes.
    const useful = graph
      .validCuts()
      .filter((t) => shapes.has(t) && [1, 3].includes(shapes.get(t)!.length))
      .map((t) => ({ tensor: t, shape: shapes.get(t)! }));
    return new ComposerClassifier(
      path,
      labels,
      input,
      sha256(bytes),
      graph,
      nameLayers(graph, useful),
    );
  }

  get classes(): number {
    return this.labels.length;
  }

  /** Values per input item (C x T x P). */
  get inputSize(): number {
    return inputItemDims(this.input).reduce((a, b) => a * b, 1);
  }

  inputs(): ModelIo[] {
    return graphInputs(this.graph.model).map((i) => ({ name: i.name!, dims: declaredDims(i) }));
  }

  outputs(): ModelIo[] {
    return (this.graph.model.graph!.output ?? []).map((o) => ({
      name: o.name!,
      dims: declaredDims(o),
    }));
  }

  /** The layers worth cutting at, in topological order (module outputs, pooled vectors). */
  layers(): LayerInfo[] {
    return this.cuts.filter((c) => !c.internal).map(({ internal: _internal, ...info }) => info);
  }

  /** A layer by readable name, alias or tensor name; UserError listing the valid ones. */
  layer(name: string): LayerInfo {
    return findLayer(this.cuts, name, this.path);
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
      session = ort.InferenceSession.create(this.graph.withOutputs(tensors));
      this.sessions.set(key, session);
    }
    const s = await session;
    this.runCount++;
    const feed = new ort.Tensor('float32', batch, [n, ...inputItemDims(this.input)]);
    const out = await s.run({ [this.graph.inputName]: feed }, [this.graph.outputName, ...tensors]);
    const activations: Record<string, Float32Array> = {};
    layers.forEach((name, i) => (activations[name] = out[infos[i].tensor].data as Float32Array));
    return { logits: out[this.graph.outputName].data as Float32Array, activations };
  }

  /** The head from `layer` to the logits, built once per layer. */
  head(layer: string): Promise<HeadModel> {
    const info = this.layer(layer);
    let head = this.heads.get(info.tensor);
    if (!head) {
      head = HeadModel.create(this.graph.headModel(info.tensor, info.shape), info, this.classes, {
        derivatives: this.derivatives,
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
      const info = { name: 'input', aliases: [], tensor: this.graph.inputName, shape: dims };
      head = HeadModel.create(encodeModel(this.graph.model), info, this.classes, {
        derivatives: this.derivatives,
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

/**
 * Shapes of the logits and of every valid cut, from one run on a batch of one zero input: ONNX
 * shape inference is not available in JS, and running the model is cheap and always right.
 */
async function probeShapes(graph: ModelGraph, spec: InputSpec): Promise<Map<string, number[]>> {
  const cuts = graph.validCuts();
  const session = await ort.InferenceSession.create(graph.withOutputs(cuts));
  try {
    const dims = inputItemDims(spec);
    const zero = new ort.Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b, 1)), [
      1,
      ...dims,
    ]);
    const out = await session.run({ [graph.inputName]: zero });
    const shapes = new Map<string, number[]>();
    for (const [name, tensor] of Object.entries(out)) {
      if (tensor.type === 'float32' && tensor.dims[0] === 1)
        shapes.set(name, tensor.dims.slice(1).map(Number));
    }
    return shapes;
  } finally {
    await session.release();
  }
}
