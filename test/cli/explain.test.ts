import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { REPO, tempDir } from '../helpers/cli.ts';

const tmp = tempDir('cl-explain-');

// A small but complete run of the embedded default (synthetic model and corpus), fast settings.
const SMALL = [
  '--concepts',
  join(REPO, 'concepts/textures/alberti.yaml'),
  join(REPO, 'concepts/textures/stride.yaml'),
  '--random-runs',
  '4',
  '--set-size',
  '10',
  '--target-excerpts',
  '10',
  '--discovery-excerpts',
  '10',
  '--concepts-count',
  '4',
  '--quiet',
];

describe('concept-lens explain', () => {
  it('writes results.json, report.html and excerpts, and nothing half-written', async () => {
    const out = join(tmp, 'run');
    expect(await main(['explain', '--out', out, ...SMALL])).toBe(0);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(results.run.command).toBe('explain');
    expect(results.model.labels).toEqual([
      'Albertini',
      'Canonici',
      'Joplinski',
      'Kantorius',
      'Lisztova',
    ]);
    expect(results.tcav).toHaveLength(2 * 5);
    // Hubness of every window at layer3 (the synthetic corpus has fewer than --hubness-windows).
    expect(results.hubness[0].layer).toBe('layer3');
    expect(results.hubness[0].windows).toBe(709);
    for (const e of results.tcav)
      for (const k of [
        'concept',
        'layer',
        'target',
        'score',
        'std',
        'pValue',
        'significant',
        'cavAccuracy',
      ])
        expect(e).toHaveProperty(k);
    expect(results.concepts.length).toBeGreaterThan(0);
    for (const c of results.concepts) {
      expect(Object.keys(c.importance).length).toBe(5);
      for (const x of c.excerpts) expect(existsSync(join(out, x.midi))).toBe(true);
    }
    // Exact gradients at every layer of the run, in results.json and in the report.
    expect(results.layers.map((l: { name: string }) => l.name)).toEqual(results.run.layers);
    for (const l of results.layers) expect(l.derivatives).toBe('exact');
    const report = readFileSync(join(out, 'report.html'), 'utf8');
    expect(report).toContain('<svg');
    expect(report).toContain('<dt>Derivatives</dt>');
    expect(report).toContain('exact gradients (reverse mode)');
    expect(readdirSync(tmp).filter((f) => /\.(new|old|partial)-\d+$/.test(f))).toEqual([]);
  }, 300_000);

  it('reports a bad concept file and goes on with the others', async () => {
    const dir = join(tmp, 'concepts');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'good.yaml'),
      readFileSync(join(REPO, 'concepts/textures/alberti.yaml')),
    );
    writeFileSync(
      join(dir, 'bad.yaml'),
      'name: bad\nexamples:\n  - pattern: alberti\n    count: -3\n',
    );
    const out = join(tmp, 'run-bad');
    const fast = ['--random-runs', '4', '--set-size', '10', '--target-excerpts', '10', '--quiet'];
    expect(
      await main(['explain', '--out', out, '--concepts', dir, '--skip-discovery', ...fast]),
    ).toBe(0);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(results.skipped).toEqual([
      expect.objectContaining({
        file: expect.stringContaining('bad.yaml'),
        reason: expect.stringMatching(/bad\.yaml:4: /),
      }),
    ]);
    expect(new Set(results.tcav.map((e: { concept: string }) => e.concept))).toEqual(
      new Set(['alberti']),
    );
  }, 300_000);

  it('exits 2 with one line naming the file for a missing model', async () => {
    const child = spawn(join(REPO, 'bin/concept-lens'), [
      'explain',
      '--model',
      join(tmp, 'nope.onnx'),
      '--out',
      join(tmp, 'x'),
    ]);
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise((r) => child.on('close', r));
    expect(code).toBe(2);
    const lines = stderr.split('\n').filter((l) => l.startsWith('concept-lens'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('nope.onnx');
  }, 60_000);

  it('leaves the previous results untouched when interrupted', async () => {
    const out = join(tmp, 'run');
    const before = readFileSync(join(out, 'results.json'), 'utf8');
    const args = ['explain', '--out', out, '--no-cache', ...SMALL.filter((a) => a !== '--quiet')];
    const child = spawn(join(REPO, 'bin/concept-lens'), args);
    let stderr = '';
    // Interrupt once the run is under way: the corpus has been read and the model is running.
    child.stderr.on('data', (d) => {
      stderr += d;
      if (/done in/.test(stderr) && child.exitCode === null && !child.killed) child.kill('SIGINT');
    });
    const code = await new Promise((r) => child.on('close', r));
    expect(code, stderr).toBe(130);
    expect(stderr).toContain('interrupted');
    expect(readFileSync(join(out, 'results.json'), 'utf8')).toBe(before);
    expect(readdirSync(tmp).filter((f) => /\.(new|old|partial)-\d+$/.test(f))).toEqual([]);
  }, 120_000);
});
