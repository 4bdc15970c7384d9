import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Fixtures written by training/fixtures/make_model_fixtures.py (PyTorch 1.13). */
export const MODELS = join(import.meta.dirname, '..', 'fixtures', 'models');
export const TINY_RESNET = join(MODELS, 'tiny_resnet.onnx');
export const MLP_NOMETA = join(MODELS, 'mlp_nometa.onnx');

export interface Array32 {
  shape: number[];
  data: Float32Array;
}

/** Load a fixture JSON (from `dir`, default test/fixtures/models); {shape, f32: base64} entries become Array32. */
export function loadFixture(name: string, dir = MODELS): Record<string, Array32> {
  const raw = JSON.parse(readFileSync(join(dir, name), 'utf8')) as Record<string, unknown>;
  const out: Record<string, Array32> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (value && typeof value === 'object' && 'f32' in value) {
      const v = value as { shape: number[]; f32: string };
      const bytes = Buffer.from(v.f32, 'base64');
      const data = new Float32Array(bytes.length / 4);
      Buffer.from(data.buffer).set(bytes);
      out[key] = { shape: v.shape, data };
    }
  }
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
