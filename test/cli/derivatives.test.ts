import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, runMain, tempDir } from '../helpers/cli.ts';
import { clippedLstm } from '../model/autodiff-fixtures.ts';

const tmp = tempDir('cl-derivatives-');
const LSTM = join(tmp, 'lstm_clip.onnx');
writeFileSync(LSTM, clippedLstm());

// test/fixtures/autodiff/lstm_crnn.onnx with a cell clip: an LSTM form without a backward rule.
// Layers before it (relu) fall back to finite differences; the layer after it (Gather_2) stays exact.
describe('a model with an op outside the table', () => {
  it('still runs TCAV end to end, saying which layers fell back and why', async () => {
    const out = join(tmp, 'lstm');
    const { code, stderr } = await runMain([
      'tcav',
      '--model',
      LSTM,
      '--corpus',
      'synthetic',
      '--concepts',
      join(REPO, 'concepts/textures/alberti.yaml'),
      join(REPO, 'concepts/textures/stride.yaml'),
      '--layers',
      'relu',
      'Gather_2',
      '--random-runs',
      '3',
      '--set-size',
      '8',
      '--target-excerpts',
      '6',
      '--no-cache',
      '--quiet',
      '--out',
      out,
    ]);
    expect(code).toBe(0);
    const note =
      'no exact gradient for op LSTM (node /lstm/LSTM): cell clip 50; derivatives by finite differences';
    expect(stderr).toContain(`relu: ${note}\n`);
    expect(stderr.split(note)).toHaveLength(2); // said once
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(results.layers).toEqual([
      { name: 'relu', shape: [4, 40, 44], derivatives: 'finite-difference', note },
      { name: 'Gather_2', shape: [16], derivatives: 'exact' },
    ]);
    expect(results.tcav).toHaveLength(2 * 2 * 5);
    for (const e of results.tcav) expect(Number.isFinite(e.effect)).toBe(true);
  }, 300_000);

  it('and --derivatives finite-difference takes finite differences everywhere', async () => {
    const out = join(tmp, 'fd');
    const { code } = await runMain([
      'tcav',
      '--model',
      LSTM,
      '--corpus',
      'synthetic',
      '--concepts',
      join(REPO, 'concepts/textures/alberti.yaml'),
      '--layers',
      'Gather_2',
      '--random-runs',
      '3',
      '--set-size',
      '8',
      '--target-excerpts',
      '6',
      '--derivatives',
      'finite-difference',
      '--no-cache',
      '--quiet',
      '--out',
      out,
    ]);
    expect(code).toBe(0);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(results.layers).toEqual([
      { name: 'Gather_2', shape: [16], derivatives: 'finite-difference' },
    ]);
  }, 300_000);
});
