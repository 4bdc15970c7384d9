/**
 * How cost grows with the corpus: ASAP at 1x, 2x, 5x and 10x its size, the copies transposed (copy
 * k by k semitones, alternating up and down, so that every copy is new music to the caches and the
 * model), each a corpus of its own (a manifest listing every file with its composer and a piece
 * name per copy, so the split and the sampling see k times the pieces). Each stage runs as the CLI
 * a user runs, in a process of its own under GNU time, with a cache folder per size:
 *   read        corpus info (every file parsed)
 *   tcav        tcav with the shipped ASAP concepts (default settings)
 *   discover    discover (NMF, default settings)
 *   activations similar --hubness (the retrieval index: activations of every window)
 * It prints wall time, CPU time (user + system) and peak resident memory per stage and size, and
 * each stage's growth from the smallest size.
 *   npm run bench:scale -- [--corpus ../shared/corpora/asap] [--sizes 1,2,5,10] [--stages read,tcav,discover,activations] [--keep]
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { loadCorpus } from '../src/corpus/manifest.ts';
import { readMidiFile } from '../src/midi/read.ts';
import { writeMidiFile } from '../src/midi/write.ts';
import { opt, args } from './args.ts';

const REPO = resolve(import.meta.dirname, '..');
const BIN = join(REPO, 'bin', 'concept-lens');
const source = resolve(opt('corpus', join(REPO, '..', 'shared', 'corpora', 'asap')));
const sizes = opt('sizes', '1,2,5,10').split(',').map(Number);
const stages = opt('stages', 'read,tcav,discover,activations').split(',');
const work = mkdtempSync(join(tmpdir(), 'cl-scale-'));
const root = join(work, 'corpus');

const corpus = loadCorpus(source);
const entries = corpus.entries;
console.log(
  `source: ${entries.length} files of ${new Set(entries.map((e) => e.piece)).size} pieces`,
);

/** The transposed copy k of every file (k = 0: the files themselves), written once. */
const copies = new Map<number, { file: string; composer: string; piece: string }[]>();
function copy(k: number) {
  if (copies.has(k)) return copies.get(k)!;
  const shift = k === 0 ? 0 : (k % 2 === 1 ? 1 : -1) * Math.ceil(k / 2);
  // Copy 0 keeps the corpus's own relative paths (the shipped concepts cite them); copy k lies in
  // copy-k/ under the same root.
  const list = entries.map((e) => {
    const file = k === 0 ? e.file : join(`copy-${k}`, e.file);
    const path = join(root, file);
    mkdirSync(join(path, '..'), { recursive: true });
    if (k === 0) copyFileSync(e.path, path);
    else {
      const notes = readMidiFile(e.path).notes.map((n) => ({
        ...n,
        pitch: Math.min(108, Math.max(21, n.pitch + shift)),
      }));
      writeMidiFile(path, notes);
    }
    return { file, composer: e.composer, piece: k === 0 ? e.piece : `${e.piece} (copy ${k})` };
  });
  copies.set(k, list);
  return list;
}

interface Measure {
  wall: number;
  cpu: number;
  peakMb: number;
  ok: boolean;
}

function run(argv: string[]): Measure {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', BIN, ...argv], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  const last = r.stderr.trim().split('\n').pop()!.split(' ').map(Number);
  if (r.status !== 0) process.stderr.write(r.stderr.split('\n').slice(-5).join('\n') + '\n');
  return { wall: last[0], cpu: last[1] + last[2], peakMb: last[3] / 1024, ok: r.status === 0 };
}

const table: Record<string, Record<number, Measure>> = {};
for (const size of sizes) {
  const t0 = Date.now();
  const files = Array.from({ length: size }, (_, k) => copy(k)).flat();
  const manifest = join(work, `asap-x${size}.yaml`);
  writeFileSync(
    manifest,
    stringify({
      name: `asap-x${size}`,
      license: 'CC BY-NC-SA 4.0',
      root,
      layout: 'list',
      files,
    }),
  );
  console.log(
    `x${size}: ${files.length} files (copies written in ${((Date.now() - t0) / 1000).toFixed(0)} s)`,
  );
  const cache = join(work, `cache-x${size}`);
  const common = [
    '--model',
    join(REPO, 'models', 'asap.onnx'),
    '--corpus',
    manifest,
    '--cache-dir',
    cache,
  ];
  const out = (name: string) => join(work, `out-${name}-x${size}`);
  const commands: Record<string, string[]> = {
    read: ['corpus', 'info', manifest],
    tcav: [
      'tcav',
      ...common,
      '--quiet',
      '--concepts',
      join(REPO, 'concepts', 'asap'),
      '--out',
      out('tcav'),
    ],
    discover: ['discover', ...common, '--quiet', '--method', 'nmf', '--out', out('discover')],
    activations: ['similar', ...common, '--quiet', '--hubness'],
  };
  for (const stage of stages) {
    const m = run(commands[stage]);
    (table[stage] ??= {})[size] = m;
    console.log(
      `  ${stage.padEnd(12)} ${m.ok ? '' : 'FAILED '}${m.wall.toFixed(1)} s wall, ${m.cpu.toFixed(1)} s CPU, peak ${m.peakMb.toFixed(0)} MB`,
    );
  }
}

console.log('\nstage         ' + sizes.map((s) => `x${s}`.padStart(26)).join(''));
for (const stage of stages) {
  const row = sizes.map((s) => {
    const m = table[stage][s];
    const base = table[stage][sizes[0]];
    return `${m.cpu.toFixed(1)} s ${m.peakMb.toFixed(0)} MB (${(m.cpu / base.cpu).toFixed(1)}x)`.padStart(
      26,
    );
  });
  console.log(`${stage.padEnd(14)}${row.join('')}`);
}
console.log('(CPU time user + system, peak resident memory, CPU growth from the smallest size)');
if (!args.includes('--keep')) rmSync(work, { recursive: true, force: true });
