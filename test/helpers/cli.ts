/**
 * Set-up shared by the tests that run the CLI: the repository's root, temporary folders removed
 * after the test file, and the CLI run in this process with what it prints captured.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll } from 'vitest';

export const REPO = resolve(import.meta.dirname, '..', '..');
export const BIN = join(REPO, 'bin', 'concept-lens');

/**
 * A new folder in the system's temporary folder (named `prefix` and random letters), removed with
 * everything in it after the tests of the file (or of the describe block it is called in).
 */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Run bin/concept-lens as a process (no time measured): the exit code, stdout, and every line of
 * stderr that starts with `concept-lens` (errors and warnings alike).
 */
export function runBin(...args: string[]): {
  code: number | null;
  stdout: string;
  errors: string[];
} {
  const r = spawnSync(BIN, args, { encoding: 'utf8' });
  return {
    code: r.status,
    stdout: r.stdout,
    errors: r.stderr.split('\n').filter((l) => l.startsWith('concept-lens')),
  };
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Lines the CLI printed as errors (`concept-lens: ...`, warnings excluded). */
  errors: string[];
  warnings: string[];
  /** Peak resident memory of the process in MB (GNU time), when available. */
  peakMb?: number;
  seconds: number;
}

/** The `concept-lens: ` lines of what the CLI wrote on stderr, errors and warnings apart. */
export function cliMessages(stderr: string): Pick<CliRun, 'errors' | 'warnings'> {
  const lines = stderr.split('\n').filter((l) => l.startsWith('concept-lens: '));
  return {
    errors: lines.filter((l) => !l.startsWith('concept-lens: warning: ')),
    warnings: lines.filter((l) => l.startsWith('concept-lens: warning: ')),
  };
}

export interface MainRun extends CliRun {
  code: number;
  /** stdout and stderr as written, interleaved. */
  output: string;
}

/**
 * Run the CLI in this process (fast: no start-up), capturing what it prints. Tests that measure
 * memory this way check the worker's peak (process.resourceUsage().maxRSS) at the end of the file.
 */
export async function runMain(args: string[]): Promise<MainRun> {
  const { main } = await import('../../src/cli/main.ts');
  const out: string[] = [];
  const err: string[] = [];
  const all: string[] = [];
  const stdout = process.stdout.write.bind(process.stdout);
  const stderr = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => (
    out.push(String(chunk)),
    all.push(String(chunk)),
    true
  )) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => (
    err.push(String(chunk)),
    all.push(String(chunk)),
    true
  )) as typeof process.stderr.write;
  const start = performance.now();
  let code: number;
  try {
    code = await main(args);
  } finally {
    process.stdout.write = stdout;
    process.stderr.write = stderr;
  }
  const text = err.join('');
  return {
    code,
    signal: null,
    stdout: out.join(''),
    stderr: text,
    ...cliMessages(text),
    output: all.join(''),
    seconds: (performance.now() - start) / 1000,
  };
}
