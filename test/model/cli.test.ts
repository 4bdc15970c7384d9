import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import yargs from 'yargs';
import { formatInspection, inspectModel, modelCommand } from '../../src/cli/commands/model.ts';
import { UserError } from '../../src/util/errors.ts';
import { MLP_NOMETA, TINY_RESNET } from './fixtures.ts';

async function runCli(argv: string[]): Promise<string> {
  const out: string[] = [];
  const spy = vi
    .spyOn(process.stdout, 'write')
    .mockImplementation((chunk) => (out.push(String(chunk)), true));
  try {
    await yargs(argv)
      .command(modelCommand)
      .strict()
      .fail((msg, err) => {
        throw err ?? new UserError(msg);
      })
      .parseAsync();
  } finally {
    spy.mockRestore();
  }
  return out.join('');
}

describe('concept-lens model inspect', () => {
  it('prints labels, input spec and layers with shapes as JSON', async () => {
    const json = JSON.parse(await runCli(['model', 'inspect', TINY_RESNET, '--json']));
    expect(json.labels).toEqual(['Bach', 'Chopin', 'Mozart']);
    expect(json.input.layout).toBe('NCTP');
    expect(json.inputs).toEqual([{ name: 'pianoroll', dims: ['batch', 1, 64, 24] }]);
    expect(
      json.layers.map((l: { name: string; shape: number[] }) => [l.name, l.shape]),
    ).toContainEqual(['layer2', [8, 16, 6]]);
  });

  it('describes a model without metadata from flags', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cl-cli-'));
    const model = join(dir, 'm.onnx');
    copyFileSync(MLP_NOMETA, model);
    const argv = [
      'model',
      'inspect',
      model,
      '--labels',
      'A',
      'B',
      'C',
      '--fps',
      '20',
      '--window-frames',
      '16',
    ];
    const flags = [
      '--low-pitch',
      '60',
      '--high-pitch',
      '71',
      '--channels',
      'frame',
      'onset',
      '--values',
      'binary',
      '--layout',
      'NCPT',
    ];
    const text = await runCli([...argv, ...flags]);
    expect(text).toContain('labels  A, B, C');
    expect(text).toContain(
      'input spec: NCPT, frame+onset (binary), 16 frames at 20 fps, pitches 60..71',
    );
    expect(text).toMatch(/relu\s+\[16\]/);
    await expect(runCli(argv)).rejects.toThrow(
      /missing lowPitch, highPitch, channels, values, layout.*--low-pitch --high-pitch/,
    );
  });

  it('formats the text report', async () => {
    const text = formatInspection(await inspectModel(TINY_RESNET));
    expect(text).toContain('output  logits [batch, 3]');
    expect(text).toMatch(
      /layer1 +\[4, 32, 12\] +channel x time x pitch +>= 0 +\(also layer1\.0, layer1\.0\.relu_1\)/,
    );
    expect(text).toContain('batch   symbolic (batch)');
  });
});
