import { describe, expect, it } from 'vitest';
import { PianoRoll } from '../../src/midi/roll.ts';
import { ComposerClassifier } from '../../src/model/classifier.ts';
import { rollLayoutOf, rollsToBatch } from '../../src/model/input.ts';
import type { InputSpec } from '../../src/model/spec.ts';
import { UserError } from '../../src/util/errors.ts';
import { loadFixture, maxAbsDiff, MLP_NOMETA, TINY_RESNET } from './fixtures.ts';

const MLP_SPEC: InputSpec = {
  fps: 20,
  windowFrames: 16,
  lowPitch: 60,
  highPitch: 71,
  channels: ['frame', 'onset'],
  values: 'binary',
  layout: 'NCPT',
};

describe('ComposerClassifier.run against PyTorch', () => {
  const f = loadFixture('tiny_resnet.json');

  it('returns the logits and layer activations PyTorch computed', async () => {
    const c = await ComposerClassifier.load(TINY_RESNET);
    const { logits, activations } = await c.run(f.inputs.data, 3, ['layer1', 'layer2.0']);
    expect(maxAbsDiff(logits, f.logits.data)).toBeLessThan(1e-5);
    expect(maxAbsDiff(activations.layer1, f.layer1.data)).toBeLessThan(1e-5);
    expect(maxAbsDiff(activations['layer2.0'], f.layer2.data)).toBeLessThan(1e-5);
    expect(c.runCount).toBe(1);
    await c.release();
  });

  it('has a head whose logits match the whole model', async () => {
    const c = await ComposerClassifier.load(TINY_RESNET);
    for (const layer of ['relu', 'layer1', 'layer2', 'avgpool', 'Flatten']) {
      const { logits, activations } = await c.run(f.inputs.data, 3, [layer]);
      const head = await c.head(layer);
      expect(maxAbsDiff(await head.logits(activations[layer], 3), logits)).toBeLessThan(1e-6);
    }
    await c.release();
  });
});

describe('rollsToBatch', () => {
  it('feeds NCPT models by transposing each channel of the [channel][frame][pitch] roll', async () => {
    const f = loadFixture('mlp_nometa.json');
    // The fixture input is [1, C=2, P=12, T=16]; build the roll frame by frame from it.
    const roll = new PianoRoll(rollLayoutOf(MLP_SPEC), 16);
    for (let c = 0; c < 2; c++)
      for (let p = 0; p < 12; p++)
        for (let t = 0; t < 16; t++)
          roll.data[roll.index(c, t, 60 + p)] = f.inputs.data[c * 192 + p * 16 + t];
    const batch = rollsToBatch([roll], MLP_SPEC);
    expect(Array.from(batch)).toEqual(Array.from(f.inputs.data));
    const c = await ComposerClassifier.load(MLP_NOMETA, {
      labels: ['A', 'B', 'C'],
      input: MLP_SPEC,
    });
    expect(maxAbsDiff((await c.run(batch, 1)).logits, f.logits.data)).toBeLessThan(1e-5);
    await c.release();
  });

  it('passes NCTP rolls through unchanged, item after item', () => {
    const spec: InputSpec = { ...MLP_SPEC, layout: 'NCTP' };
    const rolls = [0, 1].map((k) => {
      const r = new PianoRoll(rollLayoutOf(spec), 16);
      r.data.forEach((_, i) => (r.data[i] = k * 1000 + i));
      return r;
    });
    const batch = rollsToBatch(rolls, spec);
    expect(batch[0]).toBe(0);
    expect(batch[383]).toBe(383);
    expect(batch[384]).toBe(1000);
  });

  it('refuses rolls rendered differently from the model input', () => {
    const roll = new PianoRoll({ ...rollLayoutOf(MLP_SPEC), fps: 10 }, 8);
    expect(() => rollsToBatch([roll], MLP_SPEC)).toThrow(UserError);
    expect(() => rollsToBatch([roll], MLP_SPEC)).toThrow(
      'fps 10 (model: 20); 8 frames (model: 16)',
    );
  });
});
