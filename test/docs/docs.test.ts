/**
 * The docs do not rot: every `concept-lens` command shown in the README and docs/ is validated by
 * the CLI's own parser (command, flags, types, choices, a --config file's schema), every `npm run`
 * script they name exists, every relative link points to a file, and the cheap commands that need
 * only the repository's own files (inspect, validate, corpus info, detect) are run for real.
 * The ones over ASAP run in test/shared/docs-asap.test.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkArgs, helpText } from '../../src/cli/main.ts';
import { REPO, runMain } from '../helpers/cli.ts';
import { docCommands, docFiles, type DocCommand } from './commands.ts';

const files = docFiles(REPO);
const commands: DocCommand[] = files.flatMap((f) => docCommands(REPO, f));
const cli = commands.filter((c) => c.kind === 'cli');
const where = (c: DocCommand) => `${c.file}:${c.line}: ${c.text}`;

describe('the docs', () => {
  it('show commands (a test that finds none would check nothing)', () => {
    expect(cli.length).toBeGreaterThan(30);
    expect(files.length).toBeGreaterThanOrEqual(6);
  });

  it('README is a front door of at most 400 lines', () => {
    expect(
      readFileSync(path.join(REPO, 'README.md'), 'utf8').split('\n').length,
    ).toBeLessThanOrEqual(400);
  });

  it('every concept-lens command parses with the CLI (command, flags, values)', async () => {
    const failures: string[] = [];
    for (const c of cli) {
      const error = await checkArgs(c.args);
      if (error) failures.push(`${where(c)}\n    -> ${error}`);
    }
    expect(failures).toEqual([]);
  });

  it('every npm script they name exists', () => {
    const scripts = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')).scripts;
    const missing = commands
      .filter((c) => c.kind === 'npm' && c.args[0] === 'run' && !(c.args[1] in scripts))
      .map(where);
    expect(missing).toEqual([]);
  });

  it('every relative link points to a file of the repository', () => {
    const broken: string[] = [];
    for (const file of files) {
      const text = readFileSync(path.join(REPO, file), 'utf8');
      for (const m of text.matchAll(/\]\(([^)#\s]+)(#[^)\s]*)?\)/g)) {
        if (/^[a-z]+:/.test(m[1])) continue;
        if (!existsSync(path.resolve(REPO, path.dirname(file), m[1])))
          broken.push(`${file}: ${m[1]}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('the checker refuses what a rotten example would hold', async () => {
    const tcav = ['tcav', '--model', 'm.onnx', '--corpus', 'c', '--concepts', 'k', '--out', 'o'];
    expect(await checkArgs(tcav)).toBeUndefined();
    expect(await checkArgs([...tcav, '--bogus-flag', '1'])).toMatch(/bogus-flag/);
    expect(await checkArgs(['no-such-command'])).toBeDefined();
    expect(
      await checkArgs([
        'discover',
        '--model',
        'm.onnx',
        '--corpus',
        'c',
        '--method',
        'pca',
        '--out',
        'o',
      ]),
    ).toMatch(/method/);
    expect(await checkArgs(['model', 'inspect', 'models/synthetic.onnx'])).toBeUndefined();
  });
});

/** The documented commands that need only files in the repository and run in seconds. */
const RUNNABLE = /^(model inspect|concepts validate|corpus info|detect)$/;
const runnable = cli.filter((c) => {
  const name = c.args
    .slice(0, c.args[0] === 'model' || c.args[0] === 'concepts' || c.args[0] === 'corpus' ? 2 : 1)
    .join(' ');
  if (!RUNNABLE.test(name)) return false;
  return (
    c.args.every(
      (a) =>
        a.startsWith('-') ||
        a === 'synthetic' ||
        !a.includes('/') ||
        existsSync(path.join(REPO, a)),
    ) && !c.args.some((a) => a.endsWith('.mid') && !existsSync(path.join(REPO, a)))
  );
});

describe('the cheap documented commands, run for real', () => {
  it('there are some', () => {
    expect(runnable.length).toBeGreaterThanOrEqual(3);
  });
  for (const c of runnable) {
    it(where(c), async () => {
      const run = await runMain(c.args);
      expect(run.errors).toEqual([]);
      expect(run.code).toBe(0);
    });
  }
});

describe('help', () => {
  const names = [
    ['tcav'],
    ['explain'],
    ['discover'],
    ['timeline'],
    ['attack'],
    ['similar'],
    ['model', 'inspect'],
    ['model', 'evaluate'],
    ['model', 'gradient'],
    ['corpus', 'info'],
    ['concepts', 'validate'],
  ];
  for (const name of names) {
    it(`${name.join(' ')} --help lists its own options before the global ones`, async () => {
      const run = { stdout: await helpText([...name, '--help']) };
      const own = run.stdout.indexOf('\nOptions:');
      const global = run.stdout.indexOf('\nGlobal options:');
      expect(own).toBeGreaterThan(0);
      expect(global).toBeGreaterThan(own);
      expect(run.stdout.slice(global)).toContain('--max-piece-minutes');
      expect(run.stdout.slice(own, global)).not.toContain('--max-piece-minutes');
    });
  }
});
