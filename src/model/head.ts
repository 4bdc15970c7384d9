import ort from 'onnxruntime-node';
import { BatchPolicy } from './batch.ts';
import type { LayerInfo } from './graph.ts';

/**
 * The part of a classifier after a layer: activations at the layer in, logits out. TCAV and
 * discovery ask it how the logits move when an activation moves along a concept direction.
 *
 * Directional derivatives are central finite differences of two head runs,
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
 * That is the derivative of the ReLU smoothed over [-h, h], a small, bounded error; the exact
 * one-sided derivative is not better defined there anyway.
 */
export const DEFAULT_RELATIVE_STEP = 1e-3;

export interface DerivativeOptions {
  /** Finite-difference step relative to |a| (default DEFAULT_RELATIVE_STEP). */
  relativeStep?: number;
  /** Rows per head run (each (input, direction) pair takes two rows). */
  maxBatch?: number;
}

export class HeadModel {
  /** Head runs so far (tests and benchmarks count them). */
  runCount = 0;
  /** Values per activation (product of the layer's shape). */
  readonly size: number;

  private constructor(
    readonly layer: LayerInfo,
    readonly classes: number,
    private readonly session: ort.InferenceSession,
    /** The classifier's batch policy: a head of a fixed-batch model runs in chunks too. */
    readonly batch: BatchPolicy,
  ) {
    this.size = layer.shape.reduce((a, b) => a * b, 1);
  }

  static async create(
    model: Uint8Array,
    layer: LayerInfo,
    classes: number,
    batch: BatchPolicy = BatchPolicy.dynamic(),
  ): Promise<HeadModel> {
    return new HeadModel(layer, classes, await ort.InferenceSession.create(model), batch);
  }

  /** Logits [n x classes] of n activations laid out one after another. */
  async logits(acts: Float32Array, n: number): Promise<Float32Array> {
    if (acts.length !== n * this.size) {
      throw new Error(
        `head(${this.layer.name}): got ${acts.length} values for ${n} activations of ${this.size}`,
      );
    }
    this.runCount++;
    const output = this.session.outputNames[0];
    const feed = { name: this.session.inputNames[0], data: acts, itemDims: this.layer.shape };
    return (await this.batch.run(this.session, [feed], n, [output]))[output];
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
    if (acts.length !== n * D)
      throw new Error(
        `head(${this.layer.name}): got ${acts.length} values for ${n} activations of ${D}`,
      );
    const units = directions.map((v, j) => {
      if (v.length !== D) throw new Error(`direction ${j} has ${v.length} values, the layer ${D}`);
      const norm = Math.sqrt(dot(v, v));
      if (!(norm > 0)) throw new Error(`direction ${j} is zero`);
      return v.map((x) => x / norm);
    });
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

  async release(): Promise<void> {
    await this.session.release();
  }
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
