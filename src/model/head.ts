import { createHash } from 'node:crypto';
import ort from 'onnxruntime-node';
import { gradientGraph, type GradientGraph } from './autodiff/index.ts';
import { BatchPolicy } from './batch.ts';
import { rowDots } from './dots.ts';
import type { LayerInfo } from './graph.ts';
import { decodeModel } from './onnx.ts';

/**
 * The part of a classifier after a layer: activations at the layer in, logits out. TCAV and
 * discovery ask it how the logits move when an activation moves along a concept direction.
 *
 * Exact derivatives (the default): a second ONNX graph, built by reverse-mode differentiation of
 * the head (src/model/autodiff), returns the gradient of sum_c w_c logit_c at each activation.
 * A directional derivative along a unit direction v^ is then grad . v^: one backward pass per
 * (activation, class) serves every direction. Gradients are kept (bounded by
 * GRADIENT_CACHE_BYTES) by the content of the activations, so TCAV's many concepts tested on the
 * same target excerpts cost one backward pass per excerpt and class in all. At a ReLU kink the
 * derivative is PyTorch's one-sided choice (Relu'(0) = 0).
 *
 * Finite differences (the fallback when the head has an op without a backward rule, and a
 * cross-check with `derivatives: 'finite-difference'`): central differences of two head runs,
 *   S_c(a, v) = d logit_c(a + eps * v / |v|) / d eps  ~=  (f_c(a + h v^) - f_c(a - h v^)) / 2h,
 * i.e. directions are normalised to unit length (TCAV's CAVs are unit vectors; scale by |v| for
 * the derivative along the raw v). The step is relative to the activation's size, h = step * |a|
 * (per-element: step * RMS(a) in units of the direction's per-element RMS): truncation error grows
 * like h^2 f''' and float32 rounding like eps_machine * |f| / h, and step = 1e-3 balances them on
 * the fixtures (see test/model/head.test.ts). The effective step is measured after rounding
 * a +- h v^ to float32 (projected on v^), which removes most of the input-rounding error.
 *
 * ReLU networks are piecewise linear: if a ReLU pre-activation lies within about h of its kink
 * along v^, the difference quotient averages the two one-sided slopes instead of picking one.
 * That is the derivative of the ReLU smoothed over [-h, h], a small, bounded error.
 */
export const DEFAULT_RELATIVE_STEP = 1e-3;

/** How derivatives are taken: exact gradients (reverse mode) or central finite differences. */
export type DerivativeMethod = 'exact' | 'finite-difference';

export interface HeadOptions {
  /**
   * 'exact' (default): gradients by a reverse-mode graph, falling back to finite differences
   * (with `derivativesNote` saying why) when the head cannot be differentiated exactly;
   * 'finite-difference': always finite differences.
   */
  derivatives?: DerivativeMethod;
  /** The classifier's batch policy: heads of a fixed-batch model run in chunks too. */
  batch?: BatchPolicy;
  /** onnxruntime's memory arena (default on; off for models with wide layers, session.ts). */
  arena?: boolean;
}

export interface DerivativeOptions {
  /** Finite-difference step relative to |a| (default DEFAULT_RELATIVE_STEP). */
  relativeStep?: number;
  /** Rows per head run (finite differences: each (input, direction) pair takes two rows). */
  maxBatch?: number;
}

/** Memory for gradients kept between calls (TCAV reuses one layer's target gradients per concept). */
export const GRADIENT_CACHE_BYTES = 512 * 2 ** 20;

export class HeadModel {
  /** Head runs so far (tests and benchmarks count them). */
  runCount = 0;
  /** Runs of the gradient graph so far (rows of activations x class weights per run). */
  gradientRunCount = 0;
  /** Values per activation (product of the layer's shape). */
  readonly size: number;
  private readonly cache = new Map<string, Float32Array>();
  private cachedBytes = 0;

  private constructor(
    readonly layer: LayerInfo,
    readonly classes: number,
    private readonly session: ort.InferenceSession,
    private readonly gradientSession: ort.InferenceSession | undefined,
    /** Input and output names of the gradient graph. */
    private readonly gradientNames: Omit<GradientGraph, 'model' | 'backwardNodes'> | undefined,
    /** How directional derivatives and gradients are computed. */
    readonly derivatives: DerivativeMethod,
    /** How sessions take batches (chunks of the fixed size for a fixed-batch model). */
    readonly batch: BatchPolicy,
    /** Why derivatives are finite differences although exact ones were asked for. */
    readonly derivativesNote?: string,
  ) {
    this.size = layer.shape.reduce((a, b) => a * b, 1);
  }

  static async create(
    model: Uint8Array,
    layer: LayerInfo,
    classes: number,
    options: HeadOptions = {},
  ): Promise<HeadModel> {
    const arena = { enableCpuMemArena: options.arena ?? true };
    const session = await ort.InferenceSession.create(model, arena);
    const batch = options.batch ?? BatchPolicy.dynamic();
    const finiteDifferences = (note?: string) =>
      new HeadModel(
        layer,
        classes,
        session,
        undefined,
        undefined,
        'finite-difference',
        batch,
        note,
      );
    if (options.derivatives === 'finite-difference') return finiteDifferences();
    try {
      // A fixed-batch graph can only be probed at its own batch size.
      const {
        model: bytes,
        backwardNodes: _,
        ...names
      } = await gradientGraph(decodeModel(model), {
        itemDims: layer.shape,
        ...(batch.info.mode === 'fixed' ? { batchSizes: [batch.rows] } : {}),
      });
      const gradientSession = await ort.InferenceSession.create(bytes, arena);
      return new HeadModel(layer, classes, session, gradientSession, names, 'exact', batch);
    } catch (err) {
      return finiteDifferences(`${(err as Error).message}; derivatives by finite differences`);
    }
  }

  /** Logits [n x classes] of n activations laid out one after another. */
  async logits(acts: Float32Array, n: number): Promise<Float32Array> {
    this.checkActs(acts, n);
    this.runCount++;
    const output = this.session.outputNames[0];
    const feed = { name: this.session.inputNames[0], data: acts, itemDims: this.layer.shape };
    return (await this.batch.run(this.session, [feed], n, [output]))[output];
  }

  /**
   * Gradients [n x size] of sum_c weights[i, c] logit_c at each of the n activations (weights is
   * [n x classes], row-major; one-hot rows give one logit's gradient per activation). Exact when
   * `derivatives` is 'exact'; otherwise central differences along every coordinate (2 x size head
   * rows per activation: slow on large layers).
   */
  async gradients(
    acts: Float32Array,
    n: number,
    weights: Float32Array,
    options: DerivativeOptions = {},
  ): Promise<Float32Array> {
    this.checkActs(acts, n);
    if (weights.length !== n * this.classes)
      throw new Error(
        `head(${this.layer.name}): got ${weights.length} class weights for ${n} x ${this.classes}`,
      );
    if (!this.gradientSession || !this.gradientNames)
      return this.differenceGradients(acts, n, weights, options);
    const s = this.gradientSession;
    const names = this.gradientNames;
    const D = this.size;
    const C = this.classes;
    const out = new Float32Array(n * D);
    const rows = Math.max(1, options.maxBatch ?? 32);
    for (let first = 0; first < n; first += rows) {
      const count = Math.min(rows, n - first);
      this.gradientRunCount++;
      const result = await this.batch.run(
        s,
        [
          {
            name: names.input,
            data: acts.subarray(first * D, (first + count) * D),
            itemDims: this.layer.shape,
          },
          {
            name: names.weights,
            data: weights.subarray(first * C, (first + count) * C),
            itemDims: [C],
          },
        ],
        count,
        [names.gradient],
      );
      out.set(result[names.gradient], first * D);
    }
    return out;
  }

  /**
   * Directional derivatives [n, directions.length, classes.length] (row-major) of the chosen
   * logits (default: all) along each unit direction v / |v|, at each of the n activations.
   */
  async directionalDerivatives(
    acts: Float32Array,
    n: number,
    directions: Float32Array[],
    classes: number[] = [...Array(this.classes).keys()],
    options: DerivativeOptions = {},
  ): Promise<Float32Array> {
    const D = this.size;
    this.checkActs(acts, n);
    const units = directions.map((v, j) => {
      if (v.length !== D) throw new Error(`direction ${j} has ${v.length} values, the layer ${D}`);
      const norm = Math.sqrt(dot(v, v));
      if (!(norm > 0)) throw new Error(`direction ${j} is zero`);
      return v.map((x) => x / norm);
    });
    if (!this.gradientSession) return this.differences(acts, n, units, classes, options);
    const R = units.length;
    const T = classes.length;
    const packed = new Float32Array(R * D);
    units.forEach((u, r) => packed.set(u, r * D));
    const key = contentKey(acts, n);
    const out = new Float32Array(n * R * T);
    for (const [t, c] of classes.entries()) {
      const grads = await this.classGradients(acts, n, c, key, options);
      const dots = await rowDots(grads, n, packed, R, D);
      for (let i = 0; i < n; i++)
        for (let r = 0; r < R; r++) out[(i * R + r) * T + t] = dots[i * R + r];
    }
    return out;
  }

  /**
   * Directional derivatives [n x directions.length] (row-major) of one logit per activation,
   * `rowClasses[i]` at activation i, along each unit direction: what TCAV needs (each excerpt's
   * own composer), at one backward pass per activation instead of one per (activation, class).
   */
  async rowDerivatives(
    acts: Float32Array,
    n: number,
    directions: Float32Array[],
    rowClasses: number[],
    options: DerivativeOptions = {},
  ): Promise<Float32Array> {
    if (rowClasses.length !== n)
      throw new Error(`rowDerivatives: ${rowClasses.length} classes for ${n} activations`);
    const R = directions.length;
    if (!this.gradientSession) {
      const all = await this.directionalDerivatives(acts, n, directions, undefined, options);
      const C = this.classes;
      return Float32Array.from({ length: n * R }, (_, k) => {
        const i = Math.floor(k / R);
        return all[k * C + rowClasses[i]];
      });
    }
    this.checkActs(acts, n);
    const D = this.size;
    const packed = new Float32Array(R * D);
    directions.forEach((v, j) => {
      if (v.length !== D) throw new Error(`direction ${j} has ${v.length} values, the layer ${D}`);
      const norm = Math.sqrt(dot(v, v));
      if (!(norm > 0)) throw new Error(`direction ${j} is zero`);
      for (let e = 0; e < D; e++) packed[j * D + e] = v[e] / norm;
    });
    const id = `${contentKey(acts, n)}/rows:${rowClasses.join(',')}`;
    const grads = await this.cachedGradients(id, acts, n, rowClasses, options);
    return rowDots(grads, n, packed, R, D);
  }

  /** Gradients of one logit at n activations, reused while the activations are the same. */
  private classGradients(
    acts: Float32Array,
    n: number,
    c: number,
    key: string,
    options: DerivativeOptions,
  ): Promise<Float32Array> {
    return this.cachedGradients(`${key}/${c}`, acts, n, Array(n).fill(c), options);
  }

  /** Gradients [n x size] of one logit per activation, rowClasses[i] at activation i (one-hot weights). */
  logitGradients(
    acts: Float32Array,
    n: number,
    rowClasses: readonly number[],
    options: DerivativeOptions = {},
  ): Promise<Float32Array> {
    const weights = new Float32Array(n * this.classes);
    for (let i = 0; i < n; i++) weights[i * this.classes + rowClasses[i]] = 1;
    return this.gradients(acts, n, weights, options);
  }

  /** Gradients of logit rowClasses[i] at activation i, kept under `id` (bounded, least recently used out). */
  private async cachedGradients(
    id: string,
    acts: Float32Array,
    n: number,
    rowClasses: number[],
    options: DerivativeOptions,
  ): Promise<Float32Array> {
    const hit = this.cache.get(id);
    if (hit) {
      // Most recently used last: eviction takes the oldest.
      this.cache.delete(id);
      this.cache.set(id, hit);
      return hit;
    }
    const grads = await this.logitGradients(acts, n, rowClasses, options);
    if (grads.byteLength <= GRADIENT_CACHE_BYTES) {
      for (const [k, v] of this.cache) {
        if (this.cachedBytes + grads.byteLength <= GRADIENT_CACHE_BYTES) break;
        this.cache.delete(k);
        this.cachedBytes -= v.byteLength;
      }
      this.cache.set(id, grads);
      this.cachedBytes += grads.byteLength;
    }
    return grads;
  }

  /** Central differences along unit directions, many (activation, direction) pairs per head run. */
  private async differences(
    acts: Float32Array,
    n: number,
    units: Float32Array[],
    classes: number[],
    options: DerivativeOptions,
  ): Promise<Float32Array> {
    const D = this.size;
    const relStep = options.relativeStep ?? DEFAULT_RELATIVE_STEP;
    const pairsPerRun = Math.max(1, Math.floor((options.maxBatch ?? 64) / 2));
    const out = new Float32Array(n * units.length * classes.length);
    const total = n * units.length;
    for (let first = 0; first < total; first += pairsPerRun) {
      const count = Math.min(pairsPerRun, total - first);
      const rows = new Float32Array(2 * count * D);
      const steps = new Float64Array(count);
      for (let k = 0; k < count; k++) {
        const i = Math.floor((first + k) / units.length);
        const v = units[(first + k) % units.length];
        const a = acts.subarray(i * D, (i + 1) * D);
        const norm = Math.sqrt(dot(a, a));
        const h = relStep * (norm > 0 ? norm : 1);
        const plus = rows.subarray(2 * k * D, (2 * k + 1) * D);
        const minus = rows.subarray((2 * k + 1) * D, (2 * k + 2) * D);
        let projected = 0; // (fl(a + h v) - fl(a - h v)) . v: the step actually taken, after rounding
        for (let e = 0; e < D; e++) {
          plus[e] = a[e] + h * v[e];
          minus[e] = a[e] - h * v[e];
          projected += (plus[e] - minus[e]) * v[e];
        }
        steps[k] = projected;
      }
      const logits = await this.logits(rows, 2 * count);
      const C = this.classes;
      for (let k = 0; k < count; k++) {
        for (let c = 0; c < classes.length; c++) {
          const diff = logits[2 * k * C + classes[c]] - logits[(2 * k + 1) * C + classes[c]];
          out[(first + k) * classes.length + c] = diff / steps[k];
        }
      }
    }
    return out;
  }

  /** Gradients by central differences along each coordinate (the step as in `differences`). */
  private async differenceGradients(
    acts: Float32Array,
    n: number,
    weights: Float32Array,
    options: DerivativeOptions,
  ): Promise<Float32Array> {
    const D = this.size;
    const C = this.classes;
    const relStep = options.relativeStep ?? DEFAULT_RELATIVE_STEP;
    const coordsPerRun = Math.max(1, Math.floor((options.maxBatch ?? 64) / 2));
    const out = new Float32Array(n * D);
    for (let i = 0; i < n; i++) {
      const a = acts.subarray(i * D, (i + 1) * D);
      const norm = Math.sqrt(dot(a, a));
      const h = relStep * (norm > 0 ? norm : 1);
      for (let first = 0; first < D; first += coordsPerRun) {
        const count = Math.min(coordsPerRun, D - first);
        const rows = new Float32Array(2 * count * D);
        const steps = new Float64Array(count);
        for (let k = 0; k < count; k++) {
          const e = first + k;
          rows.set(a, 2 * k * D);
          rows.set(a, (2 * k + 1) * D);
          rows[2 * k * D + e] = a[e] + h;
          rows[(2 * k + 1) * D + e] = a[e] - h;
          steps[k] = rows[2 * k * D + e] - rows[(2 * k + 1) * D + e];
        }
        const logits = await this.logits(rows, 2 * count);
        for (let k = 0; k < count; k++) {
          let s = 0;
          for (let c = 0; c < C; c++)
            s += weights[i * C + c] * (logits[2 * k * C + c] - logits[(2 * k + 1) * C + c]);
          out[i * D + first + k] = s / steps[k];
        }
      }
    }
    return out;
  }

  private checkActs(acts: Float32Array, n: number): void {
    if (acts.length !== n * this.size)
      throw new Error(
        `head(${this.layer.name}): got ${acts.length} values for ${n} activations of ${this.size}`,
      );
  }

  async release(): Promise<void> {
    await this.session.release();
    await this.gradientSession?.release();
    this.cache.clear();
    this.cachedBytes = 0;
  }
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Identity of a block of activations by content (callers may pass equal copies). */
function contentKey(acts: Float32Array, n: number): string {
  const bytes = new Uint8Array(acts.buffer, acts.byteOffset, acts.byteLength);
  return `${n}:${createHash('sha256').update(bytes).digest('hex')}`;
}
