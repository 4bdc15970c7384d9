import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeModel, encodeModel } from '../../src/model/onnx.ts';
import { runMain, tempDir } from '../helpers/cli.ts';
import { MLP_NOMETA, TINY_RESNET } from './fixtures.ts';

/**
 * Duplicate or empty class names, from a sidecar, from the model's metadata or from --labels: every
 * command that loads a model stops with exit 2 and one line naming the labels, and writes nothing.
 */
const tmp = tempDir('cl-labels-');

/** TINY_RESNET (Bach, Chopin, Mozart) with its metadata labels replaced. */
function withMetadataLabels(name: string, labels: string[]): string {
  const model = decodeModel(readFileSync(TINY_RESNET));
  for (const p of model.metadataProps ?? [])
    if (p.key === 'concept_lens.labels') p.value = JSON.stringify(labels);
  const path = join(tmp, `${name}.onnx`);
  writeFileSync(path, encodeModel(model));
  return path;
}

function withSidecarLabels(name: string, labels: string): string {
  const path = join(tmp, `${name}.onnx`);
  copyFileSync(MLP_NOMETA, path);
  writeFileSync(
    join(tmp, `${name}.concept-lens.yaml`),
    `labels: ${labels}\ninput:\n  fps: 20\n  windowFrames: 16\n  lowPitch: 60\n  highPitch: 71\n  channels: [frame, onset]\n  values: binary\n  layout: NCPT\n`,
  );
  return path;
}

describe('labels must be distinct and non-empty', () => {
  it('model inspect: a sidecar naming a composer twice', async () => {
    const model = withSidecarLabels('twice', '[Bach, Mozart, Bach]');
    const r = await runMain(['model', 'inspect', model]);
    expect(r.code).toBe(2);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toContain(join(tmp, 'twice.concept-lens.yaml'));
    expect(r.errors[0]).toContain('"Bach" (2 times) named more than once');
  });

  it('model inspect: an empty label in the sidecar, and in --labels', async () => {
    const model = withSidecarLabels('empty', '[Bach, "", Mozart]');
    const r = await runMain(['model', 'inspect', model]);
    expect(r.code).toBe(2);
    expect(r.errors[0]).toContain('label 2 empty');
    const flags = await runMain(['model', 'inspect', model, '--labels', 'A', ' ', 'A']);
    expect(flags.code).toBe(2);
    expect(flags.errors).toHaveLength(1);
    expect(flags.errors[0]).toContain('--labels');
    expect(flags.errors[0]).toContain('"A" (2 times) named more than once; label 2 empty');
    // Distinct labels over the same sidecar are fine.
    const fixed = await runMain(['model', 'inspect', model, '--labels', 'A', 'B', 'C']);
    expect(fixed.code, fixed.stderr).toBe(0);
  });

  it('every command that loads a model: duplicate labels in the model metadata', async () => {
    const model = withMetadataLabels('meta', ['Bach', 'Chopin', 'Bach']);
    const midi = join(import.meta.dirname, '..', 'fixtures', 'foreign', 'corpus.yaml');
    const out = (c: string) => join(tmp, `out-${c}`);
    const commands: string[][] = [
      ['model', 'inspect', model],
      ['model', 'evaluate', model, '--corpus', 'synthetic'],
      ['model', 'gradient', model, '--midi', midi, '--composer', 'Bach', '--out', out('g')],
      ['tcav', '--model', model, '--corpus', 'synthetic', '--concepts', midi, '--out', out('t')],
      ['discover', '--model', model, '--corpus', 'synthetic', '--out', out('d')],
      ['explain', '--model', model, '--corpus', 'synthetic', '--out', out('e')],
      ['similar', '--model', model, '--corpus', 'synthetic', '--hubness', '--out', out('s')],
      ['attack', '--model', model, '--corpus', 'synthetic', '--out', out('a')],
      ['timeline', midi, '--model', model, '--bank', tmp, '--out', out('l')],
    ];
    for (const args of commands) {
      const r = await runMain(args);
      expect(r.code, `${args.slice(0, 2).join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.errors, args[0]).toHaveLength(1);
      expect(r.errors[0]).toContain(`${model}: the labels from metadata_props concept_lens.labels`);
      expect(r.errors[0]).toContain('"Bach" (2 times) named more than once');
    }
    for (const c of ['g', 't', 'd', 'e', 's', 'a', 'l']) expect(existsSync(out(c))).toBe(false);
  }, 60_000);
});
