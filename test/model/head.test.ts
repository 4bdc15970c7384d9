import { describe, expect, it } from 'vitest';
import { ComposerClassifier } from '../../src/model/classifier.ts';
import type { DerivativeMethod } from '../../src/model/head.ts';
import { Rng } from '../../src/util/random.ts';
import { loadFixture, maxAbsDiff, MLP_NOMETA, TINY_RESNET } from './fixtures.ts';

const mlp = async (derivatives: DerivativeMethod = 'finite-difference') => {
  const c = await ComposerClassifier.load(MLP_NOMETA, {
    labels: ['A', 'B', 'C'],
    input: {
      fps: 20,
      windowFrames: 16,
      lowPitch: 60,
      highPitch: 71,
      channels: ['frame', 'onset'],
      values: 'binary',
      layout: 'NCPT',
    },
  });
  c.derivatives = derivatives;
  return c;
};

function gaussian(rng: Rng, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal() * scale);
}

/** Closed form of d/d eps (W (a + eps v^) + b) = W v^, optionally masked by ReLU'(a) (away from kinks). */
function closedForm(
  W: Float32Array,
  acts: Float32Array,
  n: number,
  dirs: Float32Array[],
  relu: boolean,
): number[] {
  const H = dirs[0].length;
  const out: number[] = [];
  for (let i = 0; i < n; i++)
    for (const v of dirs) {
      const norm = Math.hypot(...v);
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let j = 0; j < H; j++) if (!relu || acts[i * H + j] > 0) s += W[c * H + j] * v[j];
        out.push(s / norm);
      }
    }
  return out;
}

describe('directional derivatives by finite differences', () => {
  const w = loadFixture('mlp_nometa.json').fc2Weight.data; // fc2.weight [3, 16], saved by PyTorch

  it('equal W v^ through a linear (Gemm) head', async () => {
    const c = await mlp();
    const head = await c.head('relu');
    const rng = new Rng(7);
    const acts = gaussian(rng, 5 * 16, 2);
    const dirs = [0, 1, 2, 3].map(() => gaussian(rng, 16));
    const dd = await head.directionalDerivatives(acts, 5, dirs, undefined, { maxBatch: 6 });
    expect(dd).toHaveLength(5 * 4 * 3);
    expect(maxAbsDiff(dd, closedForm(w, acts, 5, dirs, false))).toBeLessThan(1e-4);
    expect(head.runCount).toBe(Math.ceil((5 * 4 * 2) / 6));
    await c.release();
  });

  it("equal W diag(ReLU'(a)) v^ through a ReLU head, inputs away from kinks; classes select columns", async () => {
    const c = await mlp();
    const head = await c.head('fc1');
    const rng = new Rng(8);
    // |a_j| >= 0.5 while the step is 1e-3 |a| ~ 0.01: no pre-activation crosses its kink.
    const acts = Float32Array.from(
      { length: 4 * 16 },
      () => (rng.next() < 0.5 ? -1 : 1) * (0.5 + 2 * rng.next()),
    );
    const dirs = [0, 1].map(() => gaussian(rng, 16));
    const expected = closedForm(w, acts, 4, dirs, true);
    const all = await head.directionalDerivatives(acts, 4, dirs);
    expect(maxAbsDiff(all, expected)).toBeLessThan(1e-4);
    const only2 = await head.directionalDerivatives(acts, 4, dirs, [2]);
    expect(
      maxAbsDiff(
        only2,
        expected.filter((_, k) => k % 3 === 2),
      ),
    ).toBeLessThan(1e-4);
    await c.release();
  });

  it('match PyTorch on a ResNet head with a downsampling skip connection', async () => {
    const f = loadFixture('tiny_resnet.json');
    const c = await ComposerClassifier.load(TINY_RESNET);
    c.derivatives = 'finite-difference';
    const head = await c.head('layer1');
    const D = head.size;
    const dirs = [0, 1, 2].map((d) => f.directions.data.slice(d * D, (d + 1) * D));
    const dd = await head.directionalDerivatives(f.layer1.data, 3, dirs);
    // Same step in float64 (PyTorch): what is left is our float32 rounding, ~1e-6 here.
    expect(maxAbsDiff(dd, f.finiteDifferences64.data)).toBeLessThan(5e-6);
    // Autograd: the step also smooths ReLU kinks within h of a pre-activation. Measured in float64
    // (make_model_fixtures.py) that costs 2.3e-5 at step 1e-3, against derivatives up to 1.1e-3.
    expect(maxAbsDiff(dd, f.directionalDerivatives.data)).toBeLessThan(3e-5);
    let agree = 0;
    dd.forEach(
      (x, k) => (agree += Math.sign(x) === Math.sign(f.directionalDerivatives.data[k]) ? 1 : 0),
    );
    expect(agree).toBeGreaterThanOrEqual(25); // of 27; the misses are derivatives near 0
    await c.release();
  });
});

describe('exact directional derivatives (gradients of the head)', () => {
  const w = loadFixture('mlp_nometa.json').fc2Weight.data;

  it('equal W v^ through a linear (Gemm) head, one gradient run per class, none per direction', async () => {
    const c = await mlp('exact');
    const head = await c.head('relu');
    expect(head.derivatives).toBe('exact');
    const rng = new Rng(7);
    const acts = gaussian(rng, 5 * 16, 2);
    const dirs = [0, 1, 2, 3].map(() => gaussian(rng, 16));
    const dd = await head.directionalDerivatives(acts, 5, dirs);
    expect(maxAbsDiff(dd, closedForm(w, acts, 5, dirs, false))).toBeLessThan(1e-6);
    expect(head.runCount).toBe(0);
    expect(head.gradientRunCount).toBe(3);
    // Same activations again (a copy): the gradients are reused.
    await head.directionalDerivatives(acts.slice(), 5, dirs.slice(0, 2));
    expect(head.gradientRunCount).toBe(3);
    await c.release();
  });

  it("equal W diag(ReLU'(a)) v^ through a ReLU head, exactly at any distance from the kinks", async () => {
    const c = await mlp('exact');
    const head = await c.head('fc1');
    const rng = new Rng(8);
    // Pre-activations as close to the kink as 1e-6: finite differences would straddle it.
    const acts = Float32Array.from(
      { length: 4 * 16 },
      () => (rng.next() < 0.5 ? -1 : 1) * (1e-6 + rng.next()),
    );
    const dirs = [0, 1].map(() => gaussian(rng, 16));
    const expected = closedForm(w, acts, 4, dirs, true);
    expect(maxAbsDiff(await head.directionalDerivatives(acts, 4, dirs), expected)).toBeLessThan(
      1e-6,
    );
    const only2 = await head.directionalDerivatives(acts, 4, dirs, [2]);
    expect(
      maxAbsDiff(
        only2,
        expected.filter((_, k) => k % 3 === 2),
      ),
    ).toBeLessThan(1e-6);
    await c.release();
  });

  it('match PyTorch autograd on a ResNet head with a downsampling skip connection', async () => {
    const f = loadFixture('tiny_resnet.json');
    const c = await ComposerClassifier.load(TINY_RESNET);
    const head = await c.head('layer1');
    const D = head.size;
    const dirs = [0, 1, 2].map((d) => f.directions.data.slice(d * D, (d + 1) * D));
    const dd = await head.directionalDerivatives(f.layer1.data, 3, dirs);
    // Derivatives up to 1.1e-3; finite differences were off by up to 2.3e-5 here.
    expect(maxAbsDiff(dd, f.directionalDerivatives.data)).toBeLessThan(2e-8);
    await c.release();
  });

  it("row derivatives: each activation's own class, as directionalDerivatives gives it, with either method", async () => {
    const f = loadFixture('tiny_resnet.json');
    for (const method of ['exact', 'finite-difference'] as const) {
      const c = await ComposerClassifier.load(TINY_RESNET);
      c.derivatives = method;
      const head = await c.head('layer1');
      const D = head.size;
      const dirs = [0, 1, 2].map((d) => f.directions.data.slice(d * D, (d + 1) * D));
      const all = await head.directionalDerivatives(f.layer1.data, 3, dirs);
      const rows = await head.rowDerivatives(f.layer1.data, 3, dirs, [2, 0, 1]);
      const picked = [0, 1, 2].flatMap((i) =>
        [0, 1, 2].map((r) => all[(i * 3 + r) * 3 + [2, 0, 1][i]]),
      );
      expect(maxAbsDiff(rows, picked), method).toBeLessThan(1e-7);
      await c.release();
    }
  });

  it('gradients with mixed class weights are the weighted sums of one-class gradients', async () => {
    const f = loadFixture('tiny_resnet.json');
    const c = await ComposerClassifier.load(TINY_RESNET);
    const head = await c.head('layer2');
    const { activations } = await c.run(f.inputs.data, 3, ['layer2']);
    const acts = activations.layer2;
    const weights = Float32Array.from([0.5, -1, 2, 0, 1, 0, 3, 0, -0.25]);
    const mixed = await head.gradients(acts, 3, weights);
    const D = head.size;
    const single = await Promise.all(
      [0, 1, 2].map((k) =>
        head.gradients(
          acts,
          3,
          Float32Array.from({ length: 9 }, (_, j) => (j % 3 === k ? 1 : 0)),
        ),
      ),
    );
    const expected = Float32Array.from({ length: 3 * D }, (_, e) => {
      const i = Math.floor(e / D);
      return [0, 1, 2].reduce((s, k) => s + weights[i * 3 + k] * single[k][e], 0);
    });
    expect(maxAbsDiff(mixed, expected)).toBeLessThan(1e-6);
    await expect(head.gradients(acts, 3, new Float32Array(4))).rejects.toThrow('class weights');
    await c.release();
  });

  it('by finite differences along each coordinate when a head cannot be differentiated (fallback)', async () => {
    const exact = await mlp('exact');
    const fd = await mlp('finite-difference');
    const rng = new Rng(9);
    const acts = Float32Array.from(
      { length: 2 * 16 },
      () => (rng.next() < 0.5 ? -1 : 1) * (0.5 + rng.next()),
    );
    const weights = gaussian(rng, 2 * 3);
    const a = await (await exact.head('fc1')).gradients(acts, 2, weights);
    const b = await (await fd.head('fc1')).gradients(acts, 2, weights);
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-4);
    await exact.release();
    await fd.release();
  });
});
