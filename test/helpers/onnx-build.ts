/**
 * Small hostile ONNX classifiers built node by node with onnx-proto, for tests of bad models: a
 * layer tensor whose name is a path (`../../x/pwned`), logits that are NaN, an op onnxruntime does
 * not know. Independent of src/model: only the protobuf classes are shared.
 *
 * The graph: roll [N, 1, T, P] -> Conv 3x3 (4 channels, pad 1) -> Relu -> AveragePool (window
 * poolT x poolP) -> Flatten -> Gemm -> logits [N, labels]. Weights come from a seeded generator.
 */
import { writeFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';

const onnx = onnxProto.onnx;
type Attr = onnxProto.onnx.IAttributeProto;

export interface HostileModelOptions {
  labels: string[];
  /** Names of the Conv and Relu output tensors (the cuts); node names are empty. */
  convTensor?: string;
  reluTensor?: string;
  /** Name of the pooled map [C, 1, 1], the default discovery layer of this graph. */
  pooledTensor?: string;
  /** Bias of the last layer: NaN or Infinity make the logits non-finite. */
  logitBias?: number;
  /** Replace the Relu by a node of this op type (onnxruntime knows no `Frobnicate`). */
  reluOp?: string;
  /** Input spec in metadata_props (defaults to the synthetic model's). */
  input?: Record<string, unknown>;
  /** Declare a dynamic time axis (so a window flag is not checked against the graph). */
  dynamicTime?: boolean;
}

const SYNTHETIC_INPUT = {
  fps: 20,
  windowFrames: 400,
  lowPitch: 21,
  highPitch: 108,
  channels: ['frame'],
  values: 'binary',
  layout: 'NCTP',
};

function tensor(name: string, dims: number[], values: number[]): onnxProto.onnx.ITensorProto {
  return { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, floatData: values };
}

function ints(name: string, values: number[]): Attr {
  return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: values };
}

function seeded(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

export function hostileModel(options: HostileModelOptions): Uint8Array {
  const input = { ...SYNTHETIC_INPUT, ...options.input };
  const T = input.windowFrames as number;
  const P = (input.highPitch as number) - (input.lowPitch as number) + 1;
  const K = options.labels.length;
  const C = 4;
  const rand = seeded(7);
  const conv = options.convTensor ?? 'conv_out';
  const relu = options.reluTensor ?? 'relu_out';
  const pooled = options.pooledTensor ?? 'pooled';
  // Pool the whole map to [C, 1, 1] in one window (a global average over time and pitch).
  const graph: onnxProto.onnx.IGraphProto = {
    name: 'hostile',
    input: [
      {
        name: 'roll',
        type: {
          tensorType: {
            elemType: onnx.TensorProto.DataType.FLOAT,
            shape: {
              dim: [
                { dimParam: 'batch' },
                { dimValue: 1 },
                options.dynamicTime ? { dimParam: 'time' } : { dimValue: T },
                { dimValue: P },
              ],
            },
          },
        },
      },
    ],
    output: [
      {
        name: 'logits',
        type: {
          tensorType: {
            elemType: onnx.TensorProto.DataType.FLOAT,
            shape: { dim: [{ dimParam: 'batch' }, { dimValue: K }] },
          },
        },
      },
    ],
    initializer: [
      tensor(
        'w_conv',
        [C, 1, 3, 3],
        Array.from({ length: C * 9 }, () => rand()),
      ),
      tensor(
        'w_fc',
        [K, C],
        Array.from({ length: K * C }, () => rand()),
      ),
      tensor(
        'b_fc',
        [K],
        Array.from({ length: K }, () => options.logitBias ?? 0),
      ),
    ],
    node: [
      {
        opType: 'Conv',
        name: '',
        input: ['roll', 'w_conv'],
        output: [conv],
        attribute: [ints('pads', [1, 1, 1, 1]), ints('kernel_shape', [3, 3])],
      },
      { opType: options.reluOp ?? 'Relu', name: '', input: [conv], output: [relu] },
      { opType: 'GlobalAveragePool', name: '', input: [relu], output: [pooled] },
      { opType: 'Flatten', name: '', input: [pooled], output: ['flat'] },
      {
        opType: 'Gemm',
        name: '',
        input: ['flat', 'w_fc', 'b_fc'],
        output: ['logits'],
        attribute: [{ name: 'transB', type: onnx.AttributeProto.AttributeType.INT, i: 1 }],
      },
    ],
  };
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'concept-lens tests',
    graph,
    metadataProps: [
      { key: 'concept_lens.labels', value: JSON.stringify(options.labels) },
      { key: 'concept_lens.input', value: JSON.stringify(input) },
    ],
  }).finish();
}

export function writeHostileModel(path: string, options: HostileModelOptions): string {
  writeFileSync(path, hostileModel(options));
  return path;
}

/** The synthetic corpus's composers, so that hostile models run over `--corpus synthetic`. */
export const SYNTHETIC_LABELS = ['Albertini', 'Canonici', 'Joplinski', 'Kantorius', 'Lisztova'];
