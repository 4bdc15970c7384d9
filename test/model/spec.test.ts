import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ComposerClassifier } from '../../src/model/classifier.ts';
import { checkInputShape, type InputSpec } from '../../src/model/spec.ts';
import { UserError } from '../../src/util/errors.ts';
import { MLP_NOMETA, TINY_RESNET } from './fixtures.ts';

const MLP_SPEC: InputSpec = {
  fps: 20,
  windowFrames: 16,
  lowPitch: 60,
  highPitch: 71,
  channels: ['frame', 'onset'],
  values: 'binary',
  layout: 'NCPT',
};

describe('model description', () => {
  it('reads labels and input spec from metadata_props', async () => {
    const c = await ComposerClassifier.load(TINY_RESNET);
    expect(c.labels).toEqual(['Bach', 'Chopin', 'Mozart']);
    expect(c.input).toEqual({
      fps: 20,
      windowFrames: 64,
      lowPitch: 48,
      highPitch: 71,
      channels: ['frame'],
      values: 'binary',
      layout: 'NCTP',
    });
    expect(c.sha256).toMatch(/^[0-9a-f]{64}$/);
    await c.release();
  });

  it('names every missing piece and how to provide it when a model has no metadata', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cl-spec-'));
    const model = join(dir, 'foreign.onnx');
    copyFileSync(MLP_NOMETA, model);
    const err = await ComposerClassifier.load(model).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    const msg = (err as Error).message;
    expect(msg).toContain(
      `${model}: missing labels, fps, windowFrames, lowPitch, highPitch, channels, values, layout`,
    );
    expect(msg).toContain(join(dir, 'foreign.concept-lens.yaml'));
    expect(msg).toContain('--labels --fps --window-frames');
  });

  it('takes a sidecar next to the model, and flags over the sidecar', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cl-spec-'));
    const model = join(dir, 'foreign.onnx');
    copyFileSync(MLP_NOMETA, model);
    writeFileSync(
      join(dir, 'foreign.concept-lens.yaml'),
      'labels: [A, B, C]\ninput:\n  fps: 20\n  windowFrames: 16\n  lowPitch: 60\n  highPitch: 71\n  channels: [frame, onset]\n  values: binary\n  layout: NCPT\n',
    );
    const c = await ComposerClassifier.load(model);
    expect(c.labels).toEqual(['A', 'B', 'C']);
    expect(c.input).toEqual(MLP_SPEC);
    const d = await ComposerClassifier.load(model, {
      labels: ['X', 'Y', 'Z'],
      input: { values: 'velocity' },
    });
    expect(d.labels).toEqual(['X', 'Y', 'Z']);
    expect(d.input.values).toBe('velocity');
    await c.release();
    await d.release();
  });

  it('checks the spec against the static input dims and the label count against the logits', async () => {
    await expect(
      ComposerClassifier.load(MLP_NOMETA, {
        labels: ['A', 'B', 'C'],
        input: { ...MLP_SPEC, layout: 'NCTP' },
      }),
    ).rejects.toThrow(
      "input spec gives windowFrames = 16 (layout NCTP) but the model's input dimension 2 is 12",
    );
    await expect(
      ComposerClassifier.load(MLP_NOMETA, { labels: ['A', 'B'], input: MLP_SPEC }),
    ).rejects.toThrow(/gives \[3\] per input but the model has 2 labels/);
    expect(() => checkInputShape('m.onnx', MLP_SPEC, ['batch', 2, 12, 16])).not.toThrow();
    expect(() => checkInputShape('m.onnx', MLP_SPEC, ['batch', 1, 12, 16])).toThrow(/channels = 2/);
    expect(() => checkInputShape('m.onnx', MLP_SPEC, ['batch', 2, 'P', 'T'])).not.toThrow();
  });

  it('rejects an invalid sidecar with its file and line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cl-spec-'));
    const model = join(dir, 'foreign.onnx');
    copyFileSync(MLP_NOMETA, model);
    writeFileSync(
      join(dir, 'foreign.concept-lens.yaml'),
      'labels: [A, B, C]\ninput:\n  fps: fast\n',
    );
    await expect(ComposerClassifier.load(model)).rejects.toThrow(
      /foreign\.concept-lens\.yaml:3: input\.fps/,
    );
  });
});
