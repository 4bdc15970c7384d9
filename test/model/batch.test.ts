import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { formatInspection, inspectModel } from '../../src/cli/commands/model.ts';
import { BatchPolicy, withSymbolicBatch } from '../../src/model/batch.ts';
import { ComposerClassifier } from '../../src/model/classifier.ts';
import { decodeModel, encodeModel } from '../../src/model/onnx.ts';
import { FOREIGN, model } from '../foreign/helpers.ts';
import { tempDir } from '../helpers/cli.ts';
import { loadFixture, maxAbsDiff } from './fixtures.ts';

const tmp = tempDir('cl-batch-');

describe('BatchPolicy.run at a fixed size', () => {
  it('cuts items into chunks of B, pads the last with zeros and drops the padding', async () => {
    const seen: number[][] = [];
    // A stand-in session that doubles its input and insists on batches of 2.
    const session = {
      run: async (feeds: Record<string, ort.Tensor>) => {
        const x = feeds.x;
        expect(x.dims).toEqual([2, 3]);
        seen.push(Array.from(x.data as Float32Array));
        const y = Float32Array.from(x.data as Float32Array, (v) => 2 * v);
        return { y: new ort.Tensor('float32', y, [2, 3]) };
      },
    } as unknown as ort.InferenceSession;
    const policy = new BatchPolicy({ mode: 'fixed', declared: 2, size: 2, reason: 'test' });
    const data = Float32Array.from({ length: 5 * 3 }, (_, i) => i + 1);
    const out = await policy.run(session, [{ name: 'x', data, itemDims: [3] }], 5, ['y']);
    expect(Array.from(out.y)).toEqual(Array.from(data, (v) => 2 * v));
    expect(seen).toHaveLength(3);
    expect(seen[2]).toEqual([13, 14, 15, 0, 0, 0]);
  });
});

describe('a model exported with a fixed batch of 1', () => {
  it('is given a symbolic batch when the graph allows, and still matches PyTorch', async () => {
    const f = loadFixture('cnn_fixed_b1.json', FOREIGN);
    const c = await ComposerClassifier.load(model('cnn_fixed_b1'));
    expect(c.batchInfo).toMatchObject({ mode: 'rewritten', declared: 1, reshapes: 1 });
    expect(c.batch.rows).toBe(Infinity);
    expect(c.inputs()[0].dims).toEqual([1, 1, 48, 88]); // as the file declares it
    const { logits, activations } = await c.run(f.inputs.data, 2, ['block2']);
    expect(maxAbsDiff(logits, f.logits.data)).toBeLessThan(1e-4);
    const head = await c.head('block2');
    expect(maxAbsDiff(await head.logits(activations.block2, 2), logits)).toBeLessThan(1e-5);
    await c.release();
  });

  it('runs one excerpt at a time when its reshapes freeze the batch, heads included', async () => {
    const f = loadFixture('attention_fixed_b1.json', FOREIGN);
    const c = await ComposerClassifier.load(model('attention_fixed_b1'));
    expect(c.batchInfo).toMatchObject({ mode: 'fixed', declared: 1, size: 1 });
    expect(c.batchInfo.reason).toMatch(/Reshape node \/attn\/Reshape(_\d)?: .*requested shape/);
    const { logits, activations } = await c.run(f.inputs.data, 2, ['norm']);
    expect(maxAbsDiff(logits, f.logits.data)).toBeLessThan(1e-4);
    expect(maxAbsDiff(activations.norm, f['layer:norm'].data)).toBeLessThan(1e-4);
    const head = await c.head('embed');
    const { activations: e } = await c.run(f.inputs.data, 2, ['embed']);
    expect(maxAbsDiff(await head.logits(e.embed, 2), logits)).toBeLessThan(1e-5);
    // Exact derivatives through the chunked head (its gradient graph runs one excerpt at a time
    // too) agree with the dynamic twin's, and with input gradients of the whole model.
    expect(head.derivatives).toBe('exact');
    const twin = await ComposerClassifier.load(model('attention'));
    const twinHead = await twin.head('embed');
    expect(twinHead.derivatives).toBe('exact');
    const dirs = [Float32Array.from({ length: head.size }, (_, i) => Math.sin(i))];
    const a = await head.directionalDerivatives(e.embed, 2, dirs);
    const b = await twinHead.directionalDerivatives(e.embed, 2, dirs);
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-4 * Math.max(...Array.from(b, Math.abs)) + 1e-7);
    const w = Float32Array.from([1, 0, 0, 0, 0, 1]);
    const ga = await c.inputGradients(f.inputs.data, 2, w);
    const gb = await twin.inputGradients(f.inputs.data, 2, w);
    expect(maxAbsDiff(ga, gb)).toBeLessThan(1e-4 * Math.max(...Array.from(gb, Math.abs)) + 1e-7);
    await twin.release();
    await c.release();
  });

  it('says which in model inspect', async () => {
    expect(formatInspection(await inspectModel(model('attention_fixed_b1')))).toMatch(
      /^batch {3}fixed at 1 in the file; runs 1 excerpt at a time: the graph cannot take another batch size \(a batch of 3 fails: /m,
    );
    expect(formatInspection(await inspectModel(model('cnn_fixed_b1')))).toContain(
      'batch   fixed at 1 in the file; rewritten: the graph was given a symbolic batch (1 Reshape shape that froze it now copies the batch), and a batch of 3 gives the same logits and activations as excerpts run one at a time',
    );
    expect(formatInspection(await inspectModel(model('cnn_dynamic')))).toContain(
      'batch   symbolic (batch)',
    );
  });

  it('is not trusted when it declares a symbolic batch its reshapes cannot take', async () => {
    // attention_fixed_b1 with only its input and output made symbolic: the reshapes still freeze 1.
    const fixed = decodeModel(readFileSync(model('attention_fixed_b1')));
    const lying = withSymbolicBatch(fixed, 'pianoroll', 1, false).model;
    const path = join(tmp, 'lying.onnx');
    writeFileSync(path, encodeModel(lying));
    const c = await ComposerClassifier.load(path);
    expect(c.inputs()[0].dims[0]).toBe('batch');
    expect(c.batchInfo).toMatchObject({ mode: 'fixed', size: 1 });
    expect(c.batchInfo.reason).toMatch(
      /^the graph declares a symbolic batch, but a batch of 3 fails/,
    );
    const f = loadFixture('attention_fixed_b1.json', FOREIGN);
    expect(maxAbsDiff((await c.run(f.inputs.data, 2)).logits, f.logits.data)).toBeLessThan(1e-4);
    await c.release();
  });
});
