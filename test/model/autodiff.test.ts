import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  gradientGraph,
  NoGradientError,
  RULES,
  UnsupportedOpError,
} from '../../src/model/autodiff/index.ts';
import { ComposerClassifier } from '../../src/model/classifier.ts';
import { decodeModel } from '../../src/model/onnx.ts';
import { tempDir } from '../helpers/cli.ts';
import {
  AUTODIFF,
  clippedLstm,
  loadAutodiffFixture,
  runGradientGraph,
  REPO,
  worstRelativeError,
  type Decoded,
} from './autodiff-fixtures.ts';

type F32 = Decoded<Float32Array>;
const REL = 1e-4;

function opTypes(file: string): Set<string> {
  const model = decodeModel(readFileSync(join(AUTODIFF, file)));
  return new Set((model.graph!.node ?? []).map((n) => n.opType!));
}

describe('gradient graphs equal PyTorch autograd (1e-4 relative per element)', () => {
  const allops = loadAutodiffFixture('allops.json');

  for (const opset of [11, 13, 17]) {
    it(`on the all-ops model exported at opset ${opset}`, async () => {
      const { logits, gradient } = await runGradientGraph(
        join(AUTODIFF, `allops_opset${opset}.onnx`),
        allops,
      );
      expect(worstRelativeError(logits, (allops.logits as F32).data).worst).toBeLessThan(1e-5);
      const err = worstRelativeError(gradient, (allops.gradient as F32).data);
      console.log(
        `all-ops model, opset ${opset}: worst element ${err.worst.toExponential(1)} relative`,
      );
      expect(err.worst, `element ${err.index}`).toBeLessThan(REL);
    });
  }

  it('on the hand-written opset-20 graph (forms PyTorch 1.13 cannot export)', async () => {
    const f = loadAutodiffFixture('handmade.json');
    const { logits, gradient } = await runGradientGraph(join(AUTODIFF, 'handmade_opset20.onnx'), f);
    expect(worstRelativeError(logits, (f.logits as F32).data).worst).toBeLessThan(1e-5);
    const err = worstRelativeError(gradient, (f.gradient as F32).data);
    console.log(
      `hand-written opset-20 graph: worst element ${err.worst.toExponential(1)} relative`,
    );
    expect(err.worst, `element ${err.index}`).toBeLessThan(REL);
  });

  it('with fixture graphs that contain every op of the table', () => {
    const covered = new Set([
      ...opTypes('allops_opset17.onnx'),
      ...opTypes('allops_opset11.onnx'),
      ...opTypes('handmade_opset20.onnx'),
      // The recurrent and Einsum forms: test/model/matrix.test.ts.
      ...opTypes('../matrix/recurrent_opset17.onnx'),
      ...opTypes('../matrix/einsum_opset17.onnx'),
      ...opTypes('../matrix/extra_ops_opset17.onnx'),
      // Resize and the ops added after it: test/model/ops.test.ts.
      ...opTypes('../ops/resize_opset17.onnx'),
      ...opTypes('../ops/ops_opset17.onnx'),
      ...opTypes('../ops/handmade_ops_opset18.onnx'),
    ]);
    expect(Object.keys(RULES).filter((op) => !covered.has(op))).toEqual([]);
  });

  for (const name of ['synthetic', 'asap']) {
    describe(`on models/${name}.onnx`, () => {
      const f = loadAutodiffFixture(`reference_${name}.json`);
      const layers = f.layers as Record<
        string,
        {
          shape: number[];
          positions: Decoded<Int32Array>;
          values: F32;
          sum: number[];
          sumSquares: number[];
        }
      >;
      let classifier: ComposerClassifier;
      const worst: string[] = [];
      afterAll(() => classifier?.release());

      /** Check a [2 x size] gradient against the fixture's sampled elements and whole-tensor sums. */
      function check(layer: string, gradient: Float32Array) {
        const L = layers[layer];
        const size = gradient.length / 2;
        expect(size).toBe(L.shape.reduce((a, b) => a * b, 1));
        const sampled = new Float32Array(L.values.data.length);
        const P = L.positions.data.length;
        for (let i = 0; i < 2; i++)
          L.positions.data.forEach((p, j) => (sampled[i * P + j] = gradient[i * size + p]));
        const err = worstRelativeError(sampled, L.values.data);
        worst.push(`${layer} ${err.worst.toExponential(1)}`);
        expect(err.worst, `${layer}: sampled element ${err.index}`).toBeLessThan(REL);
        for (let i = 0; i < 2; i++) {
          let sum = 0;
          let squares = 0;
          for (let e = 0; e < size; e++) {
            const g = gradient[i * size + e];
            sum += g;
            squares += g * g;
          }
          expect(Math.abs(squares - L.sumSquares[i]) / L.sumSquares[i], layer).toBeLessThan(REL);
          const scale = Math.sqrt(L.sumSquares[i] * size);
          expect(Math.abs(sum - L.sum[i]) / scale, layer).toBeLessThan(REL);
        }
      }

      it('at the input and at every layer `model inspect` lists', async () => {
        classifier = await ComposerClassifier.load(join(REPO, f.model as string));
        expect(classifier.labels).toEqual(f.labels);
        const D = classifier.inputSize;
        const x = new Float32Array(2 * D);
        (f.inputOnes as number[][]).forEach((ones, i) => ones.forEach((p) => (x[i * D + p] = 1)));
        const w = (f.weights as F32).data;
        const names = classifier.layers().map((l) => l.name);
        expect(Object.keys(layers).sort()).toEqual(['input', ...names].sort());
        const run = await classifier.run(x, 2, names);
        // The loaded PyTorch model is the ONNX model: same logits.
        expect(worstRelativeError(run.logits, (f.logits as F32).data).worst).toBeLessThan(1e-5);
        check('input', await classifier.inputGradients(x, 2, w));
        for (const layer of names) {
          const head = await classifier.head(layer);
          expect(head.derivatives).toBe('exact');
          check(layer, await head.gradients(run.activations[layer], 2, w));
        }
        console.log(`models/${name}.onnx, worst element per layer (relative): ${worst.join(', ')}`);
      });
    });
  }
});

describe('graphs outside the op table', () => {
  const tmp = tempDir('cl-autodiff-');
  const LSTM = join(tmp, 'lstm_clip.onnx');
  writeFileSync(LSTM, clippedLstm());

  it('name the op, the node and the unsupported form', async () => {
    const model = decodeModel(readFileSync(LSTM));
    const error = await gradientGraph(model, { itemDims: [1, 80, 88] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedOpError);
    expect((error as Error).message).toBe(
      'no exact gradient for op LSTM (node /lstm/LSTM): cell clip 50',
    );
  });

  it('name an op without a rule', async () => {
    const model = decodeModel(readFileSync(join(AUTODIFF, 'lstm_crnn.onnx')));
    model.graph!.node!.find((n) => n.opType === 'Relu')!.opType = 'Asinh';
    const error = await gradientGraph(model, { itemDims: [1, 80, 88] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedOpError);
    expect((error as Error).message).toBe('no exact gradient for op Asinh (node /relu/Relu)');
  });

  it('refuse opsets before 11', async () => {
    const model = decodeModel(readFileSync(join(AUTODIFF, 'allops_opset11.onnx')));
    model.opsetImport = [{ domain: '', version: 9 }];
    const error = await gradientGraph(model, { itemDims: [1, 33, 21] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoGradientError);
    expect((error as Error).message).toContain('opset 9');
  });

  it('give heads that fall back to finite differences, saying why; heads after the op stay exact', async () => {
    const c = await ComposerClassifier.load(LSTM);
    try {
      const before = await c.head('relu');
      expect(before.derivatives).toBe('finite-difference');
      expect(before.derivativesNote).toBe(
        'no exact gradient for op LSTM (node /lstm/LSTM): cell clip 50; derivatives by finite differences',
      );
      const after = await c.head('Gather_2');
      expect(after.derivatives).toBe('exact');
      expect(after.derivativesNote).toBeUndefined();
    } finally {
      await c.release();
    }
  });

  it('the same LSTM without the clip is differentiated exactly', async () => {
    const c = await ComposerClassifier.load(join(AUTODIFF, 'lstm_crnn.onnx'));
    try {
      const before = await c.head('relu');
      expect(before.derivatives).toBe('exact');
    } finally {
      await c.release();
    }
  });
});
