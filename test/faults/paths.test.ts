/**
 * Names from inputs never lead a write out of the output folder (or the cache): a layer tensor
 * named `../../../../x/pwned` inside an ONNX file, composers and pieces named like paths in a
 * manifest, a synthetic corpus spec named like a path (read by a read-only command).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { writeMidiFile } from '../../src/midi/write.ts';
import { Rng } from '../../src/util/random.ts';
import { REPO, tempDir } from '../helpers/cli.ts';
import { writeHostileModel } from '../helpers/onnx-build.ts';
import { allFiles, runCli } from './helpers.ts';

const sandbox = tempDir('cl-paths-');

const EVIL = '../../../../x/pwned';
const COMPOSERS = [`${EVIL}-composer`, 'Bach'];

/** A list manifest whose composers and pieces are named like paths, 3 one-minute pieces each. */
function hostileCorpus(dir: string): string {
  const rng = new Rng(5);
  const files = [];
  for (const [c, composer] of COMPOSERS.entries()) {
    for (let p = 0; p < 3; p++) {
      const file = `c${c}/p${p}.mid`;
      const notes = Array.from({ length: 240 }, (_, i) => ({
        pitch: rng.int(40 + 20 * c, 70 + 20 * c),
        onset: i * 0.25,
        offset: i * 0.25 + 0.2,
        velocity: 80,
        track: 0,
        channel: 0,
      }));
      writeMidiFile(join(dir, file), notes);
      files.push({ file, composer, piece: `${EVIL}/piece-${c}-${p}` });
    }
  }
  const manifest = join(dir, 'corpus.yaml');
  writeFileSync(manifest, stringify({ name: `${EVIL}-corpus`, layout: 'list', root: '.', files }));
  return manifest;
}

describe('names that become paths', () => {
  it('an ONNX layer, composers and pieces named like paths: explain writes only inside --out and the cache', () => {
    const inputs = join(sandbox, 'in');
    const work = join(sandbox, 'a', 'b', 'w');
    mkdirSync(inputs, { recursive: true });
    mkdirSync(work, { recursive: true });
    const model = writeHostileModel(join(inputs, 'evil.onnx'), {
      labels: COMPOSERS,
      convTensor: `${EVIL}-conv`,
      reluTensor: `${EVIL}-relu`,
      pooledTensor: EVIL,
    });
    const corpus = hostileCorpus(join(inputs, 'corpus'));
    const concept = join(inputs, 'concept.yaml');
    writeFileSync(concept, 'name: arpeggio\nexamples:\n  - pattern: arpeggio\n    count: 6\n');
    const r = runCli(
      [
        'explain',
        '--model',
        model,
        '--corpus',
        corpus,
        '--concepts',
        concept,
        '--out',
        'out',
        '--cache-dir',
        'cache',
        '--random-runs',
        '2',
        '--set-size',
        '4',
        '--target-excerpts',
        '4',
        '--discovery-excerpts',
        '6',
        '--concepts-count',
        '3',
        '--quiet',
      ],
      { cwd: work },
    );
    expect(r.code, r.stderr).toBe(0);
    const results = JSON.parse(readFileSync(join(work, 'out', 'results.json'), 'utf8'));
    // The layer (the default discovery layer of this graph) keeps its name in the results ...
    expect(results.concepts.length).toBeGreaterThan(0);
    expect(results.concepts[0].id).toContain(EVIL);
    // ... but every file written lies inside out/ or cache/ (inputs aside).
    const written = allFiles(sandbox).filter((f) => !f.startsWith('in/'));
    expect(written.length).toBeGreaterThan(10);
    expect(
      written.filter((f) => !f.startsWith('a/b/w/out/') && !f.startsWith('a/b/w/cache/')),
    ).toEqual([]);
    for (const c of results.concepts)
      for (const x of [...c.excerpts, ...c.leastTypical]) {
        expect(x.midi.split('/').filter((s: string) => s === '..' || s === '.')).toEqual([]);
        expect(x.midi).toMatch(/^excerpts\/nmf-_x_pwned(-conv|-relu)?-0\d\//);
        expect(readFileSync(join(work, 'out', x.midi)).length).toBeGreaterThan(14);
      }
  }, 120_000);

  it('a synthetic corpus spec named like a path: corpus info (read-only) writes only into the cache', () => {
    const work = join(sandbox, 'synth', 'w');
    mkdirSync(work, { recursive: true });
    const spec = readFileSync(join(REPO, 'corpora', 'synthetic.yaml'), 'utf8')
      .replace(/^name: .*$/m, `name: "${EVIL}"`)
      .replace(/^piecesPerComposer: .*$/m, 'piecesPerComposer: 2');
    writeFileSync(join(sandbox, 'synth', 'spec.yaml'), spec);
    const r = runCli(['corpus', 'info', '../spec.yaml', '--json'], { cwd: work });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).files).toBe(10);
    const written = allFiles(join(sandbox, 'synth')).filter((f) => f !== 'spec.yaml');
    expect(written.length).toBeGreaterThan(10);
    expect(written.filter((f) => !/^w\/\.cache\/corpora\/x_pwned-[0-9a-f]{12}\//.test(f))).toEqual(
      [],
    );
  }, 60_000);

  it('concept names cannot hold path separators', () => {
    const file = join(sandbox, 'path-concept.yaml');
    writeFileSync(file, `name: "${EVIL}"\nexamples:\n  - pattern: alberti\n`);
    const r = runCli(['concepts', 'validate', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/path-concept\.yaml:1: name: use letters/);
  }, 30_000);
});
