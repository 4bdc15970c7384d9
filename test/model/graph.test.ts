import { describe, expect, it } from 'vitest';
import { ComposerClassifier } from '../../src/model/classifier.ts';
import { modulePaths } from '../../src/model/graph.ts';
import { UserError } from '../../src/util/errors.ts';
import { MLP_NOMETA, TINY_RESNET } from './fixtures.ts';

describe('module paths from PyTorch scopes', () => {
  it('joins relative scope names and Sequential children', () => {
    expect(modulePaths('/layer3/layer3.1/relu_1/Relu')).toEqual([
      'layer3',
      'layer3.1',
      'layer3.1.relu_1',
    ]);
    expect(modulePaths('/layer3/Relu_1')).toEqual(['layer3']);
    expect(modulePaths('/layer2/layer2.0/downsample/downsample.0/Conv')).toEqual([
      'layer2',
      'layer2.0',
      'layer2.0.downsample',
      'layer2.0.downsample.0',
    ]);
    expect(modulePaths('/Flatten')).toEqual([]);
    expect(modulePaths('Conv_12')).toEqual([]);
  });
});

describe('layers of a ResNet', () => {
  it('lists the valid cuts with readable names and shapes (input 1x64x24, stride-2 stem and layer2)', async () => {
    const c = await ComposerClassifier.load(TINY_RESNET);
    expect(c.layers().map((l) => [l.name, l.shape])).toEqual([
      ['conv1', [4, 32, 12]],
      ['relu', [4, 32, 12]],
      ['layer1', [4, 32, 12]],
      ['layer2', [8, 16, 6]],
      ['avgpool', [8, 1, 1]],
      ['Flatten', [8]],
    ]);
    // The name denotes the last cut inside the module: the block's final ReLU, after the skip Add.
    expect(c.layer('layer1').tensor).toBe('/layer1/layer1.0/relu_1/Relu_output_0');
    expect(c.layer('layer1.0').tensor).toBe('/layer1/layer1.0/relu_1/Relu_output_0');
    await c.release();
  });

  it('never cuts inside a residual block, where the skip still needs the block input', async () => {
    const c = await ComposerClassifier.load(TINY_RESNET);
    for (const inside of [
      '/layer1/layer1.0/relu/Relu_output_0',
      '/layer1/layer1.0/conv2/Conv_output_0',
      '/layer2/layer2.0/conv1/Conv_output_0',
      '/layer2/layer2.0/downsample/downsample.0/Conv_output_0',
    ]) {
      expect(c.graph.headNodes(inside)).toBeNull();
    }
    // The head from layer1: all of layer2 (both branches), pooling, flatten, fc = 9 nodes.
    const head = c.graph.headNodes(c.layer('layer1').tensor)!.map((i) => c.graph.nodes[i].name);
    expect(head).toHaveLength(9);
    expect(head).toContain('/layer2/layer2.0/downsample/downsample.0/Conv');
    expect(head.at(-1)).toBe('/fc/Gemm');
    await c.release();
  });

  it('answers an unknown layer with the valid ones', async () => {
    const c = await ComposerClassifier.load(TINY_RESNET);
    expect(() => c.layer('layer3')).toThrow(UserError);
    expect(() => c.layer('layer3')).toThrow(
      `${TINY_RESNET}: no layer "layer3" where the model can be cut; valid layers: conv1, relu, layer1, layer2, avgpool, Flatten`,
    );
    // Internal cuts are not listed but reachable by tensor name.
    expect(c.layer('/layer1/layer1.0/Add_output_0').shape).toEqual([4, 32, 12]);
    await c.release();
  });

  it('lists vector layers of an MLP', async () => {
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
    expect(c.layers().map((l) => [l.name, l.shape])).toEqual([
      ['Flatten', [384]],
      ['fc1', [16]],
      ['relu', [16]],
    ]);
    await c.release();
  });
});
