import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { gradientGraph } from '../../src/model/autodiff/index.ts';
import { makeAttribute } from '../../src/model/autodiff/proto.ts';
import { decodeModel, encodeModel } from '../../src/model/onnx.ts';

/** Fixtures written by training/fixtures/make_autodiff_fixtures.py (PyTorch 1.13 autograd). */
export const AUTODIFF = join(import.meta.dirname, '..', 'fixtures', 'autodiff');
export const REPO = join(import.meta.dirname, '..', '..');

/** A JSON fixture with {shape, f32|i32: base64} arrays decoded, at any depth. */
export function loadAutodiffFixture(name: string): Record<string, unknown> {
  return decode(JSON.parse(readFileSync(join(AUTODIFF, name), 'utf8'))) as Record<string, unknown>;
}

export interface Decoded<T> {
  shape: number[];
  data: T;
}

function decode(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decode);
  if (!value || typeof value !== 'object') return value;
  const v = value as Record<string, unknown>;
  if (typeof v.f32 === 'string' || typeof v.i32 === 'string') {
    const bytes = Buffer.from((v.f32 ?? v.i32) as string, 'base64');
    const data = v.f32 ? new Float32Array(bytes.length / 4) : new Int32Array(bytes.length / 4);
    Buffer.from(data.buffer).set(bytes);
    return { shape: v.shape, data };
  }
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decode(x)]));
}

/**
 * The measure: per element, |actual - expected| <= rel * max(|expected|, floor), with the
 * floor a fraction of the largest |expected| (gradients of ~0 from cancellations are compared in
 * absolute terms). Returns the worst ratio |actual - expected| / max(|expected|, floor).
 */
export function worstRelativeError(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  floorFraction = 1e-3,
): { worst: number; index: number } {
  if (actual.length !== expected.length)
    throw new Error(`length ${actual.length} vs ${expected.length}`);
  let max = 0;
  for (let i = 0; i < expected.length; i++) max = Math.max(max, Math.abs(expected[i]));
  const floor = floorFraction * max;
  let worst = 0;
  let index = -1;
  for (let i = 0; i < expected.length; i++) {
    const r = Math.abs(actual[i] - expected[i]) / Math.max(Math.abs(expected[i]), floor);
    if (r > worst) [worst, index] = [r, i];
  }
  return { worst, index };
}

/**
 * lstm_crnn.onnx with a cell clip on its LSTM: onnxruntime runs it, the LSTM rule refuses it
 * (an attribute combination without a backward rule), so heads through it fall back.
 */
export function clippedLstm(): Uint8Array {
  const model = decodeModel(readFileSync(join(AUTODIFF, 'lstm_crnn.onnx')));
  const lstm = model.graph!.node!.find((n) => n.opType === 'LSTM')!;
  lstm.attribute = [...(lstm.attribute ?? []), makeAttribute('clip', { float: 50 })];
  return encodeModel(model);
}

/**
 * Logits and gradient of the gradient graph of an ONNX file (a path) at a fixture's inputs and
 * weights: what the autodiff and model-matrix tests compare with PyTorch autograd.
 */
export async function runGradientGraph(path: string, f: Record<string, unknown>) {
  const inputs = f.inputs as Decoded<Float32Array>;
  const weights = f.weights as Decoded<Float32Array>;
  const graph = await gradientGraph(decodeModel(readFileSync(path)), {
    itemDims: inputs.shape.slice(1),
  });
  const session = await ort.InferenceSession.create(graph.model);
  try {
    const out = await session.run({
      [graph.input]: new ort.Tensor('float32', inputs.data, inputs.shape),
      [graph.weights]: new ort.Tensor('float32', weights.data, weights.shape),
    });
    return {
      logits: out[graph.logits].data as Float32Array,
      gradient: out[graph.gradient].data as Float32Array,
    };
  } finally {
    await session.release();
  }
}
