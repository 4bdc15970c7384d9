import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { gradientGraph, UnsupportedOpError } from '../../src/model/autodiff/index.ts';
import { makeAttribute } from '../../src/model/autodiff/proto.ts';
import { ComposerClassifier } from '../../src/model/classifier.ts';
import { decodeModel, encodeModel } from '../../src/model/onnx.ts';
import { tempDir } from '../helpers/cli.ts';
import { Rng } from '../../src/util/random.ts';
import {
  loadAutodiffFixture,
  runGradientGraph,
  worstRelativeError,
  type Decoded,
} from './autodiff-fixtures.ts';

/**
 * Backward rules added for issue 22's "every op": Resize (nn.Upsample / F.interpolate) and the
 * ops a fresh export may still bring (training/fixtures/make_op_fixtures.py). PyTorch exports at
 * opsets 11, 13 and 17 and hand-written graphs at 14 and 18 are compared with PyTorch autograd,
 * whole gradients, 1e-4 relative per element (the floor of worstRelativeError: 1e-3 of the
 * largest). A graph being built at all is what `derivatives: 'exact'` means for a head; the
 * classifier-level check is the unet_upsample row of test/model/matrix.test.ts. Resize forms
 * PyTorch does not export are linear in the input, so their reference is onnxruntime's own
 * forward pass on the basis vectors (the Jacobian), independent of the rule's weights.
 */
const OPS = join(import.meta.dirname, '..', 'fixtures', 'ops');
type F32 = Decoded<Float32Array>;

/** max |a - e| / max |e|: the "within 1e-4 of the largest value". */
function ofLargest(actual: ArrayLike<number>, expected: ArrayLike<number>): string {
  let largest = 0;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    largest = Math.max(largest, Math.abs(expected[i]));
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  }
  return (worst / largest).toExponential(1);
}

function load(name: string): Record<string, unknown> {
  return loadAutodiffFixture(join('..', 'ops', name));
}

describe('new backward rules equal PyTorch autograd (whole input gradients)', () => {
  const cases: [string, string][] = [
    ...[11, 13, 17].map((o): [string, string] => [
      `resize_opset${o}`,
      'Resize as PyTorch exports it',
    ]),
    ...[11, 13, 17].map((o): [string, string] => [
      `ops_opset${o}`,
      'Sin, Cos, DepthToSpace, GatherElements, ReduceL1, ReduceProd, Celu, Trilu',
    ]),
    ...[14, 18].map((o): [string, string] => [
      `handmade_ops_opset${o}`,
      'hand-written: Softsign, ThresholdedRelu, Celu, ReduceSumSquare / L1 / Prod, LpNormalization, DepthToSpace, SpaceToDepth, GatherElements, Trilu, LRN, GatherND (+ Mish at 18)',
    ]),
  ];
  for (const [name, what] of cases)
    it(`${name}: ${what}`, async () => {
      const f = load(`${name}.json`);
      const { logits, gradient } = await runGradientGraph(join(OPS, `${name}.onnx`), f);
      expect(worstRelativeError(logits, (f.logits as F32).data).worst).toBeLessThan(1e-4);
      const err = worstRelativeError(gradient, (f.gradient as F32).data);
      const largest = ofLargest(gradient, (f.gradient as F32).data);
      console.log(
        `${name}: worst element ${err.worst.toExponential(1)} relative, ${largest} of the largest`,
      );
      expect(err.worst, `element ${err.index}`).toBeLessThan(1e-4);
    });
});

/** Outputs of a single-input model at a batch of inputs. */
async function forward(model: Uint8Array, x: Float32Array, dims: number[]) {
  const session = await ort.InferenceSession.create(model);
  try {
    const out = await session.run({ x: new ort.Tensor('float32', x, dims) });
    const y = out[session.outputNames[0]];
    return { data: y.data as Float32Array, dims: y.dims.map(Number) };
  } finally {
    await session.release();
  }
}

describe('Resize in the forms PyTorch does not export, against the Jacobian of onnxruntime', () => {
  const ITEM = [2, 5, 6];
  const D = 60;
  for (const opset of [13, 19])
    it(`every coordinate transformation and nearest mode (opset ${opset})`, async () => {
      const bytes = readFileSync(join(OPS, `resize_forms_opset${opset}.onnx`));
      // The Jacobian: row i is the output at the i-th basis vector (the map is linear).
      const basis = new Float32Array(D * D);
      for (let i = 0; i < D; i++) basis[i * D + i] = 1;
      const J = await forward(bytes, basis, [D, ...ITEM]);
      const F = J.dims[1];
      const rng = new Rng(opset);
      const random = () => rng.next();
      const N = 3;
      const x = Float32Array.from({ length: N * D }, () => random() * 2 - 1);
      const w = Float32Array.from({ length: N * F }, () => random() * 2 - 1);
      const graph = await gradientGraph(decodeModel(bytes), { itemDims: ITEM });
      const session = await ort.InferenceSession.create(graph.model);
      try {
        const out = await session.run({
          [graph.input]: new ort.Tensor('float32', x, [N, ...ITEM]),
          [graph.weights]: new ort.Tensor('float32', w, [N, F]),
        });
        const gradient = out[graph.gradient].data as Float32Array;
        const expected = new Float32Array(N * D);
        for (let n = 0; n < N; n++)
          for (let i = 0; i < D; i++) {
            let s = 0;
            for (let k = 0; k < F; k++) s += w[n * F + k] * J.data[i * F + k];
            expected[n * D + i] = s;
          }
        const err = worstRelativeError(gradient, expected);
        console.log(
          `resize_forms_opset${opset}: worst element ${err.worst.toExponential(1)} relative, ${ofLargest(gradient, expected)} of the largest`,
        );
        expect(err.worst, `element ${err.index}`).toBeLessThan(1e-4);
      } finally {
        await session.release();
      }
    });

  it('refuse cubic, antialias and tf_crop_and_resize, naming the form', async () => {
    for (const [attr, value, detail] of [
      ['mode', 'cubic', 'mode cubic'],
      ['coordinate_transformation_mode', 'tf_crop_and_resize', 'tf_crop_and_resize'],
      ['antialias', 1, 'antialias'],
    ] as const) {
      const model = decodeModel(readFileSync(join(OPS, 'resize_forms_opset19.onnx')));
      const node = model.graph!.node!.find((n) => n.opType === 'Resize' && n.output![0] === 'r6')!;
      node.attribute = (node.attribute ?? []).filter((a) => a.name !== attr);
      node.attribute.push(makeAttribute(attr, value));
      if (attr === 'coordinate_transformation_mode') {
        // tf_crop_and_resize needs a roi: the whole extent.
        model.graph!.initializer!.push({
          name: 'roi',
          dataType: 1,
          dims: [8],
          floatData: [0, 0, 0, 0, 1, 1, 1, 1],
        });
        node.input![1] = 'roi';
      }
      const error = await gradientGraph(decodeModel(encodeModel(model)), { itemDims: ITEM }).catch(
        (e: unknown) => e,
      );
      expect(error, detail).toBeInstanceOf(UnsupportedOpError);
      expect((error as Error).message).toContain(detail);
    }
  });
});

describe('a Resize form without a rule, in a fresh export', () => {
  const tmp = tempDir('cl-ops-');
  it('makes the layers before it fall back, saying why; layers after it stay exact', async () => {
    // unet_upsample with its bilinear Resize made cubic (onnxruntime runs it; no rule).
    const path = join(OPS, '..', 'matrix', 'unet_upsample.onnx');
    const model = decodeModel(readFileSync(path));
    const smooth = model.graph!.node!.find((n) => n.name === '/smooth/Resize')!;
    smooth.attribute = (smooth.attribute ?? []).filter((a) => a.name !== 'mode');
    smooth.attribute.push(makeAttribute('mode', 'cubic'));
    const cubic = join(tmp, 'unet_cubic.onnx');
    writeFileSync(cubic, encodeModel(model));
    const c = await ComposerClassifier.load(cubic);
    try {
      for (const layer of ['conv', 'fuse']) {
        const head = await c.head(layer);
        expect(head.derivatives, layer).toBe('finite-difference');
        expect(head.derivativesNote).toBe(
          'no exact gradient for op Resize (node /smooth/Resize): mode cubic; derivatives by finite differences',
        );
      }
      expect((await c.head('smooth')).derivatives).toBe('exact');
    } finally {
      await c.release();
    }
  });
});
