import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { ComposerClassifier } from '../../src/model/classifier.ts';
import { decodeModel, encodeModel } from '../../src/model/onnx.ts';
import { Rng } from '../../src/util/random.ts';
import { loadAutodiffFixture, REPO } from './autodiff-fixtures.ts';

/**
 * Directional derivatives from exact gradients against finite differences on the reference
 * models, wherever no ReLU kink lies within the step.
 *
 * A ReLU network is piecewise linear: along a segment [a - h v, a + h v] on which no ReLU
 * pre-activation changes sign and no MaxPool changes its pick, the head is linear. (The segment's
 * ends suffice: up to the first kink every pre-activation is linear along the segment, so equal
 * signs at both ends mean no crossing in between.) For each (activation, direction) pair the test
 * takes the largest step of a ladder whose segment is kink-free, evaluates the head at 13 points
 * along it, and fits a line: its slope is the finite-difference derivative. On a linear segment
 * the points' scatter about the line is float32 rounding of the head alone; exact and finite
 * differences must agree within what that rounding can do to the slope (every point off by at
 * most twice the largest residual), plus 1e-6 of the derivatives' scale. The rounding noise is
 * heavier-tailed than Gaussian (differences of 3-5 standard errors occur), hence this bound
 * rather than a t-test. At the `relu` layer no segment is kink-free: its head starts with a
 * MaxPool over many tied zeros, and any step changes some picks.
 */

const LADDER = [1e-3, 3e-4, 1e-4, 3e-5, 1e-5];
const POINTS = 13;

function norm2(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/** The head with every ReLU input and every MaxPool's indices as outputs (none: a linear head). */
async function kinkProbe(bytes: Uint8Array): Promise<ort.InferenceSession | undefined> {
  const model = decodeModel(bytes);
  const graph = model.graph!;
  const watched: string[] = [];
  for (const node of graph.node ?? []) {
    if (node.opType === 'Relu') watched.push(node.input![0]);
    if (node.opType === 'MaxPool') {
      const name = `${node.output![0]}/indices`;
      node.output = [node.output![0], name];
      watched.push(name);
    }
  }
  if (watched.length === 0) return undefined;
  return ort.InferenceSession.create(
    encodeModel({ ...model, graph: { ...graph, output: watched.map((name) => ({ name })) } }),
  );
}

/** Whether the head sees the same ReLU signs and MaxPool picks at two points. */
async function sameSide(
  probe: ort.InferenceSession | undefined,
  plus: Float32Array,
  minus: Float32Array,
  shape: number[],
): Promise<boolean> {
  if (!probe) return true;
  const rows = new Float32Array(2 * plus.length);
  rows.set(plus);
  rows.set(minus, plus.length);
  const out = await probe.run({
    [probe.inputNames[0]]: new ort.Tensor('float32', rows, [2, ...shape]),
  });
  for (const t of Object.values(out)) {
    const data = t.data as ArrayLike<number | bigint>;
    const per = data.length / 2;
    for (let e = 0; e < per; e++) {
      const p = data[e];
      const m = data[per + e];
      if (t.type === 'int64' ? p !== m : Math.sign(Number(p)) * Math.sign(Number(m)) !== 1)
        return false;
    }
  }
  return true;
}

describe('directional derivatives from gradients agree with finite differences away from kinks', () => {
  for (const name of ['synthetic', 'asap']) {
    it(`on models/${name}.onnx`, async () => {
      const f = loadAutodiffFixture(`reference_${name}.json`);
      const c = await ComposerClassifier.load(join(REPO, f.model as string));
      const D = c.inputSize;
      const x = new Float32Array(2 * D);
      (f.inputOnes as number[][]).forEach((ones, i) => ones.forEach((p) => (x[i * D + p] = 1)));
      const rng = new Rng(`derivatives/${name}`);
      const C = c.classes;
      const report: string[] = [];
      let compared = 0;
      for (const layer of ['relu', 'maxpool', 'layer1', 'layer2', 'layer3', 'layer4']) {
        const info = c.layer(layer);
        const size = info.shape.reduce((a, b) => a * b, 1);
        const acts = (await c.run(x, 2, [layer])).activations[layer];
        const directions = [...Array(3).keys()].map(() => {
          const v = Float32Array.from({ length: size }, () => rng.normal());
          const n = norm2(v);
          return v.map((e) => e / n);
        });
        const head = await c.head(layer);
        expect(head.derivatives).toBe('exact');
        const exact = await head.directionalDerivatives(acts, 2, directions);
        const probe = await kinkProbe(c.graph.headModel(info.tensor, info.shape));
        let scale = 0;
        for (const v of exact) scale = Math.max(scale, Math.abs(v));
        let smooth = 0;
        let worst = 0;
        let loosest = 0;
        const steps: number[] = [];
        for (let i = 0; i < 2; i++) {
          const a = acts.subarray(i * size, (i + 1) * size);
          for (const [d, v] of directions.entries()) {
            const at = (t: number) => a.map((e, k) => e + t * v[k]);
            let h = 0;
            for (const step of LADDER) {
              const s = step * norm2(a);
              if (await sameSide(probe, at(s), at(-s), info.shape)) {
                h = s;
                break;
              }
            }
            if (h === 0) continue;
            smooth++;
            steps.push(h / norm2(a));
            // 9 points along the segment; their actual positions along v after float32 rounding.
            const rows = new Float32Array(POINTS * size);
            const t: number[] = [];
            for (let k = 0; k < POINTS; k++) {
              const row = at(h * (-1 + (2 * k) / (POINTS - 1)));
              rows.set(row, k * size);
              let proj = 0;
              for (let e = 0; e < size; e++) proj += (row[e] - a[e]) * v[e];
              t.push(proj);
            }
            const logits = await head.logits(rows, POINTS);
            const tMean = t.reduce((p, q) => p + q, 0) / POINTS;
            const sxx = t.reduce((p, q) => p + (q - tMean) ** 2, 0);
            for (let cls = 0; cls < C; cls++) {
              const y = t.map((_, k) => logits[k * C + cls]);
              const yMean = y.reduce((p, q) => p + q, 0) / POINTS;
              const slope = t.reduce((p, q, k) => p + (q - tMean) * (y[k] - yMean), 0) / sxx;
              // Worst case for the fitted slope if no point's rounding error exceeds twice the
              // largest residual: |slope error| <= max|error| * sum|t - mean t| / sxx.
              let maxResidual = 0;
              y.forEach((q, k) => {
                maxResidual = Math.max(maxResidual, Math.abs(q - yMean - slope * (t[k] - tMean)));
              });
              const spread = t.reduce((p, q) => p + Math.abs(q - tMean), 0) / sxx;
              const bound = 2 * maxResidual * spread + 1e-6 * scale;
              const diff = Math.abs(exact[(i * directions.length + d) * C + cls] - slope);
              worst = Math.max(worst, diff / bound);
              loosest = Math.max(loosest, bound / scale);
              expect(diff, `${layer} pair ${i}/${d} class ${cls}`).toBeLessThanOrEqual(bound);
            }
          }
        }
        compared += smooth;
        await probe?.release();
        report.push(
          `${layer}: ${smooth}/${2 * directions.length} kink-free (steps ${steps.length ? `${Math.min(...steps).toExponential(0)}..${Math.max(...steps).toExponential(0)}` : '-'}), worst ${worst.toFixed(2)} of the bound (bound <= ${loosest.toExponential(0)} of the largest derivative)`,
        );
      }
      console.log(`${name}: ${report.join('; ')}`);
      expect(compared).toBeGreaterThan(15);
      await c.release();
    }, 180_000);
  }
});
