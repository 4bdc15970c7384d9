import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ComposerClassifier } from '../../src/model/classifier.ts';
import {
  loadAutodiffFixture,
  runGradientGraph,
  worstRelativeError,
  type Decoded,
} from './autodiff-fixtures.ts';

/**
 * The model matrix (issue 22): exact derivatives of recurrent (LSTM, GRU, RNN), Einsum,
 * attention, transformer, ResNet, depthwise channels-last and U-Net-like (nn.Upsample, Resize)
 * models against PyTorch autograd (training/fixtures/make_model_matrix.py; unet_upsample from
 * make_op_fixtures.py). The measure is the issue's: every element within 1e-4 of the largest
 * |value|, at the input and at two layers of each exported model (one before the recurrent,
 * Einsum, attention or Resize part); the hand-written graphs, which cover the
 * operator forms PyTorch does not export, are held to 1e-4 relative per element.
 */
const MATRIX = join(import.meta.dirname, '..', 'fixtures', 'matrix');
type F32 = Decoded<Float32Array>;

function load(name: string): Record<string, unknown> {
  return loadAutodiffFixture(join('..', 'matrix', name));
}

/** max |a - e| / max |e|: the "within 1e-4 of the largest value". */
function errorOfLargest(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let largest = 0;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    largest = Math.max(largest, Math.abs(expected[i]));
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  }
  return worst / largest;
}

describe('hand-written graphs: operator forms PyTorch does not export', () => {
  for (const [file, fixture, what] of [
    [
      'recurrent_opset17.onnx',
      'recurrent.json',
      'LSTM, GRU, RNN: directions, sequence_lens, initial states, activations',
    ],
    [
      'einsum_opset17.onnx',
      'einsum_handmade.json',
      'Einsum: ellipsis, implicit output, diagonal, lone letters, three operands',
    ],
    [
      'extra_ops_opset17.onnx',
      'extra_ops.json',
      'GroupNorm, InstanceNorm, PReLU, Hardswish, Hardsigmoid, SELU, normalize, maximum, minimum, repeat, cumsum, logsumexp',
    ],
  ])
    it(`${what}`, async () => {
      const f = load(fixture);
      const { logits, gradient } = await runGradientGraph(join(MATRIX, file), f);
      expect(worstRelativeError(logits, (f.logits as F32).data).worst).toBeLessThan(1e-4);
      const err = worstRelativeError(gradient, (f.gradient as F32).data);
      console.log(`${file}: worst element ${err.worst.toExponential(1)} relative`);
      expect(err.worst, `element ${err.index}`).toBeLessThan(1e-4);
    });
});

interface Sampled {
  shape: number[];
  size: number;
  positions: Decoded<Int32Array>;
  values: F32;
  sum: number[];
  sumSquares: number[];
}

const EXPORTED: { name: string; what: string }[] = [
  { name: 'conv_bilstm', what: 'conv + bidirectional LSTM' },
  { name: 'conv_bigru', what: 'conv + bidirectional GRU' },
  { name: 'einsum', what: 'conv + Einsum contractions and attention' },
  { name: 'conv_attention', what: 'conv + nn.MultiheadAttention' },
  { name: 'transformer', what: 'conv + nn.TransformerEncoderLayer (GELU, opset 17)' },
  { name: 'resnet2ch', what: 'ResNet over onset + frame' },
  { name: 'depthwise_last', what: 'depthwise-separable convolutions over NTPC input' },
  { name: 'unet_upsample', what: 'U-Net-like: nn.Upsample nearest and bilinear, a skip' },
];

describe.each(EXPORTED)('exported model $name ($what)', ({ name }) => {
  it('has exact derivatives at the input and at two layers, equal to autograd', async () => {
    const f = load(`${name}.json`);
    const layers = f.layers as Record<string, Sampled>;
    const classifier = await ComposerClassifier.load(join(MATRIX, f.model as string));
    try {
      const D = classifier.inputSize;
      const x = new Float32Array(2 * D);
      (f.inputOnes as number[][]).forEach((ones, i) => ones.forEach((p) => (x[i * D + p] = 1)));
      const w = (f.weights as F32).data;
      const names = Object.keys(layers).filter((l) => l !== 'input');
      expect(names).toHaveLength(2);
      const run = await classifier.run(x, 2, names);
      expect(errorOfLargest(run.logits, (f.logits as F32).data)).toBeLessThan(1e-5);
      const figures: string[] = [];
      const check = (layer: string, gradient: Float32Array) => {
        const L = layers[layer];
        expect(gradient.length, layer).toBe(2 * L.size);
        const P = L.positions.data.length;
        const sampled = new Float32Array(2 * P);
        for (let i = 0; i < 2; i++)
          L.positions.data.forEach((p, j) => (sampled[i * P + j] = gradient[i * L.size + p]));
        const err = errorOfLargest(sampled, L.values.data);
        figures.push(`${layer} ${err.toExponential(1)}`);
        expect(err, `${name} at ${layer}`).toBeLessThan(1e-4);
        for (let i = 0; i < 2; i++) {
          let sum = 0;
          let squares = 0;
          for (let e = 0; e < L.size; e++) {
            const g = gradient[i * L.size + e];
            sum += g;
            squares += g * g;
          }
          expect(Math.abs(squares - L.sumSquares[i]) / L.sumSquares[i], layer).toBeLessThan(1e-4);
          expect(
            Math.abs(sum - L.sum[i]) / Math.sqrt(L.sumSquares[i] * L.size),
            layer,
          ).toBeLessThan(1e-4);
        }
      };
      const inputHead = await classifier.inputHead();
      expect(inputHead.derivatives, inputHead.derivativesNote).toBe('exact');
      check('input', await classifier.inputGradients(x, 2, w));
      for (const layer of names) {
        const head = await classifier.head(layer);
        expect(head.derivatives, head.derivativesNote).toBe('exact');
        check(layer, await head.gradients(run.activations[layer], 2, w));
      }
      console.log(`${name}: worst element / largest: ${figures.join(', ')}`);
    } finally {
      await classifier.release();
    }
  });
});
