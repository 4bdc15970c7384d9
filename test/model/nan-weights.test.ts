import { describe, expect, it } from 'vitest';
import { nanInitializer, onnx, type ModelProto } from '../../src/model/onnx.ts';

/**
 * Weights are checked for NaN when a model is opened (src/model/onnx.ts): initializers and the
 * tensors of Constant nodes (older exporters keep weights there), as raw bytes or as float lists.
 * Infinities pass (attention masks hold -inf); the logits they make are checked per batch.
 */
const { FLOAT, DOUBLE } = onnx.TensorProto.DataType;

function model(parts: { initializer?: object[]; node?: object[] }): ModelProto {
  return onnx.ModelProto.create({ graph: parts });
}

describe("NaN in a model's weights", () => {
  it('is found in an initializer, as raw bytes or as a float list', () => {
    const raw = new Uint8Array(new Float32Array([1, 2, NaN]).buffer);
    expect(
      nanInitializer(
        model({ initializer: [{ name: 'w', dataType: FLOAT, dims: [3], rawData: raw }] }),
      ),
    ).toEqual({ name: 'w', index: 2 });
    expect(
      nanInitializer(
        model({ initializer: [{ name: 'd', dataType: DOUBLE, dims: [2], doubleData: [NaN, 0] }] }),
      ),
    ).toEqual({ name: 'd', index: 0 });
  });

  it('is found in a Constant node, named by its output', () => {
    const node = {
      opType: 'Constant',
      output: ['bias'],
      attribute: [{ name: 'value', t: { dataType: FLOAT, dims: [2], floatData: [0.5, NaN] } }],
    };
    expect(nanInitializer(model({ node: [node] }))).toEqual({ name: 'bias', index: 1 });
  });

  it('lets finite weights and infinities pass', () => {
    const node = {
      opType: 'Constant',
      output: ['mask'],
      attribute: [{ name: 'value', t: { dataType: FLOAT, dims: [2], floatData: [0, -Infinity] } }],
    };
    const init = { name: 'w', dataType: FLOAT, dims: [2], floatData: [1, Infinity] };
    expect(nanInitializer(model({ initializer: [init], node: [node] }))).toBeUndefined();
  });
});
