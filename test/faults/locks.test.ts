/**
 * Runs at the same time, as separate processes. Four runs started at once on one --out: exactly
 * one writes it (a complete run by its manifest), the other three exit 2 with one line saying
 * another run holds the folder, and nothing is left beside it (no staging folder, no lock). The
 * lock holder pauses after taking the lock (CONCEPT_LENS_TEST_PAUSE=output-locked) so that the
 * four overlap whatever the machine's load (the command is `corpus synth`, the cheapest that
 * writes an output folder: every command writes it through the same RunOutput). Four runs at once sharing one fresh cache, each with
 * its own --out: all succeed, their results equal a run's alone, and the cache holds the same
 * entries, byte for byte, as one filled by that run alone (nothing torn, no temporary file left).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MANIFEST, type RunManifest } from '../../src/results/output.ts';
import { cliMessages, REPO, tempDir } from '../helpers/cli.ts';
import { leftovers, runCli, snapshot, startCli } from './helpers.ts';

const tmp = tempDir('cl-locks-');
const MODEL = join(REPO, 'models', 'synthetic.onnx');
const ALBERTI = join(REPO, 'concepts', 'textures', 'alberti.yaml');
// Small runs: one layer, few excerpts (the synthetic corpus materialised by earlier tests).
const TCAV = ['tcav', '--model', MODEL, '--corpus', 'synthetic', '--concepts', ALBERTI];
const FAST = [
  ...['--layers', 'layer3', '--random-runs', '2', '--set-size', '4', '--target-excerpts', '4'],
  '--quiet',
];
// The cheapest command writing an output folder: the synthetic corpus, one piece per composer.
const SYNTH = ['corpus', 'synth', '--pieces', '1', '--json'];

async function together(runs: string[][], env: NodeJS.ProcessEnv = {}) {
  const started = runs.map((args) => startCli(args, { env }));
  const ends = await Promise.all(started.map((s) => s.exited));
  return started.map((s, i) => ({
    code: ends[i].code,
    stderr: s.state.stderr,
    ...cliMessages(s.state.stderr),
  }));
}

/** Cache entries of every kind: activations, TCAV nulls and mean gradients, corpus windows (blobs). */
const ENTRY = /\.f32$|^(tcav|corpus)\/@[^/]+\/[0-9a-f]+\.bin$/;

function cacheFiles(dir: string): Record<string, string> {
  const all = snapshot(dir);
  return Object.fromEntries(Object.entries(all).filter(([k]) => ENTRY.test(k)));
}

describe('concurrent runs', () => {
  it('four runs at once on one --out: exactly one writes it, the others exit 2, nothing torn', async () => {
    const out = join(tmp, 'shared-out');
    const runs = await together(
      Array.from({ length: 4 }, () => [...SYNTH, '--out', out]),
      { CONCEPT_LENS_TEST_PAUSE: 'output-locked:5000' },
    );
    const codes = runs.map((r) => r.code).sort();
    expect(codes, runs.map((r) => r.stderr).join('\n---\n')).toEqual([0, 2, 2, 2]);
    for (const r of runs.filter((x) => x.code === 2))
      expect(r.errors).toEqual([
        expect.stringMatching(
          /shared-out: another concept-lens run \(process \d+, since .*\) is writing it; wait for that run to finish or give another folder/,
        ),
      ]);
    // The folder is one complete run: every product its manifest lists, with its sha256.
    const tree = snapshot(out);
    const manifest = JSON.parse(readFileSync(join(out, MANIFEST), 'utf8')) as RunManifest;
    const { [MANIFEST]: _, ...products } = tree;
    expect(products).toEqual(manifest.products);
    expect(leftovers(tmp)).toEqual([]);
    expect(readdirSync(tmp).filter((e) => e.includes('.lock'))).toEqual([]);
  }, 600_000);

  it('four runs at once sharing one cache, different outputs: all succeed, as a run alone', async () => {
    const alone = runCli([
      ...TCAV,
      ...FAST,
      '--cache-dir',
      join(tmp, 'cache-alone'),
      '--out',
      join(tmp, 'alone'),
    ]);
    expect(alone.code, alone.stderr).toBe(0);
    const expected = JSON.parse(readFileSync(join(tmp, 'alone', 'results.json'), 'utf8')).tcav;
    const shared = join(tmp, 'cache-shared');
    const runs = await together(
      [0, 1, 2, 3].map((i) => [
        ...TCAV,
        ...FAST,
        '--cache-dir',
        shared,
        '--out',
        join(tmp, `out-${i}`),
      ]),
    );
    for (const r of runs) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.errors).toEqual([]);
      expect(r.warnings).toEqual([]);
    }
    for (let i = 0; i < 4; i++)
      expect(JSON.parse(readFileSync(join(tmp, `out-${i}`, 'results.json'), 'utf8')).tcav).toEqual(
        expected,
      );
    const files = cacheFiles(shared);
    expect(Object.keys(files).length).toBeGreaterThan(10);
    expect(files).toEqual(cacheFiles(join(tmp, 'cache-alone')));
    // No temporary file of a writer left behind, no lock.
    const rest = Object.keys(snapshot(shared)).filter((f) => !ENTRY.test(f));
    expect(rest.map((f) => relative(shared, join(shared, f)))).toEqual([]);
  }, 900_000);
});
