import { join, resolve } from 'node:path';
import { vi } from 'vitest';
import { main } from '../../src/cli/main.ts';

/** The foreign-model fixtures written by training/fixtures/make_foreign_fixtures.py. */
export const REPO = resolve(import.meta.dirname, '..', '..');
export const FOREIGN = join(REPO, 'test', 'fixtures', 'foreign');
export const CORPUS = join(FOREIGN, 'corpus.yaml');
export const model = (name: string) => join(FOREIGN, `${name}.onnx`);
export const CONCEPTS = [
  join(REPO, 'concepts/textures/alberti.yaml'),
  join(REPO, 'concepts/textures/chorale.yaml'),
];

/** Tiny TCAV settings: the matrix checks that runs complete and agree, not musical findings. */
export const FAST = [
  '--random-runs',
  '3',
  '--set-size',
  '6',
  '--target-excerpts',
  '6',
  '--no-cache',
  '--quiet',
];
export const FAST_DISCOVERY = ['--discovery-excerpts', '6', '--concepts-count', '4'];

/** Run the CLI in-process; stdout and stderr are captured, not printed. */
export async function runMain(
  argv: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi
    .spyOn(process.stdout, 'write')
    .mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const err = vi
    .spyOn(process.stderr, 'write')
    .mockImplementation((chunk) => ((stderr += String(chunk)), true));
  try {
    const code = await main(argv);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}
