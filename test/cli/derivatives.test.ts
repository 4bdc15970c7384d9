import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';

const repo = resolve(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'cl-derivatives-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Run the CLI in-process, collecting what it writes to stderr. */
async function cli(args: string[]): Promise<{ code: number; stderr: string }> {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    return { code: await main(args), stderr: lines.join('') };
  } finally {
    spy.mockRestore();
  }
}

// test/fixtures/autodiff/lstm_crnn.onnx: a CRNN whose LSTM has no backward rule. Layers before it
// (relu) fall back to finite differences; the layer after it (Gather_2) stays exact.
describe('a model with an op outside the table', () => {
  it('still runs TCAV end to end, saying which layers fell back and why', async () => {
    const out = join(tmp, 'lstm');
    const { code, stderr } = await cli([
      'tcav',
      '--model',
      join(repo, 'test/fixtures/autodiff/lstm_crnn.onnx'),
      '--corpus',
      'synthetic',
      '--concepts',
      join(repo, 'concepts/textures/alberti.yaml'),
      join(repo, 'concepts/textures/stride.yaml'),
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
      'no exact gradient for op LSTM (node /lstm/LSTM); derivatives by finite differences';
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
    const { code } = await cli([
      'tcav',
      '--model',
      join(repo, 'test/fixtures/autodiff/lstm_crnn.onnx'),
      '--corpus',
      'synthetic',
      '--concepts',
      join(repo, 'concepts/textures/alberti.yaml'),
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
