/**
 * What a default ASAP `tcav` run costs as a user meets it, for the design of this tree and for the
 * design before decided verdicts (commit `--old`, default c1b9902), in the same bench run: CPU time
 * (user + system, all threads) and peak resident memory of whole CLI processes, measured by
 * /usr/bin/time, so everything counts (reading MIDI, activations, mean gradients, nulls, tests).
 *
 *   npm run bench:tcav -- [--corpus /work/shared/corpora/asap] [--model models/asap.onnx]
 *        [--concepts concepts/asap] [--old c1b9902] [--skip-old]
 *
 * Runs, each a separate process with its own fresh cache folder per design:
 *   cold      no activation cache at all (first run on a corpus)
 *   warm      the same command again with --seed 2: activations (and, in this design, mean
 *             gradients) cached, every null computed afresh for the new seed
 *   one more  (this design) seed 1 again with the shipped concepts plus one new concept (an edited
 *             copy of the first shipped concept: its first example dropped), nulls of seed 1 cached
 * The old design is exported with `git archive` into a temporary folder (no worktree is touched)
 * and runs with this tree's node_modules. Timing on a shared machine: CPU time is the steadier
 * figure; wall time is printed too.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { opt, args } from './args.ts';

const corpus = resolve(opt('corpus', '../shared/corpora/asap'));
const model = resolve(opt('model', 'models/asap.onnx'));
const conceptDir = resolve(opt('concepts', 'concepts/asap'));
const oldCommit = opt('old', 'c1b9902');
const skipOld = args.includes('--skip-old');
const work = mkdtempSync(join(tmpdir(), 'tcav-cost-'));

interface Cost {
  cpu: number;
  wall: number;
  peakMb: number;
  significant: number;
  undecided: number;
}

function run(cli: string, cwd: string, extra: string[], cache: string, out: string): Cost {
  const argv = [
    '-f',
    '%U %S %e %M',
    '-o',
    join(work, 'time.txt'),
    'node',
    cli,
    'tcav',
    '--model',
    model,
    '--corpus',
    corpus,
    '--cache-dir',
    cache,
    '--out',
    out,
    '--quiet',
    ...extra,
  ];
  const r = spawnSync('/usr/bin/time', argv, { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`${cli} tcav failed (exit ${r.status})`);
  const [user, sys, wall, kb] = readFileSync(join(work, 'time.txt'), 'utf8')
    .trim()
    .split(/\s+/)
    .slice(-4)
    .map(Number);
  const cells = (
    JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as {
      tcav: { significant: boolean; outcome?: string }[];
    }
  ).tcav;
  return {
    cpu: user + sys,
    wall,
    peakMb: kb / 1024,
    significant: cells.filter((c) => c.significant).length,
    undecided: cells.filter((c) => c.outcome === 'undecided').length,
  };
}

const here = resolve('.');
const results: [string, Cost][] = [];
const show = (label: string, c: Cost) =>
  console.log(
    `${label.padEnd(44)} cpu ${c.cpu.toFixed(1).padStart(6)} s  wall ${c.wall.toFixed(1).padStart(6)} s  peak ${c.peakMb.toFixed(0).padStart(5)} MB  significant ${c.significant}, undecided ${c.undecided}`,
  );

// One new concept: the first shipped concept with its first example dropped, under a new name.
const first = readdirSync(conceptDir)
  .filter((f) => f.endsWith('.yaml'))
  .sort()[0];
const spec = parse(readFileSync(join(conceptDir, first), 'utf8')) as {
  name: string;
  examples: unknown[];
};
const edited = join(work, 'edited.yaml');
writeFileSync(
  edited,
  stringify({ ...spec, name: `${spec.name}-edited`, examples: spec.examples.slice(1) }),
);

const newCache = join(work, 'cache-new');
const c = (label: string, cost: Cost) => {
  results.push([label, cost]);
  show(label, cost);
};
c(
  'this design, cold (no cache)',
  run(join(here, 'bin/concept-lens'), here, ['--concepts', conceptDir], newCache, join(work, 'o1')),
);
c(
  'this design, warm activations, new seed',
  run(
    join(here, 'bin/concept-lens'),
    here,
    ['--concepts', conceptDir, '--seed', '2'],
    newCache,
    join(work, 'o2'),
  ),
);
c(
  'this design, one new concept, warm cache',
  run(
    join(here, 'bin/concept-lens'),
    here,
    ['--concepts', conceptDir, edited],
    newCache,
    join(work, 'o3'),
  ),
);

if (!skipOld) {
  const old = join(work, 'old');
  execFileSync('sh', ['-c', `mkdir -p ${old} && git archive ${oldCommit} | tar -x -C ${old}`]);
  symlinkSync(resolve('node_modules'), join(old, 'node_modules'));
  const oldCache = join(work, 'cache-old');
  c(
    `old design (${oldCommit}), cold`,
    run(join(old, 'bin/concept-lens'), old, ['--concepts', conceptDir], oldCache, join(work, 'p1')),
  );
  c(
    `old design (${oldCommit}), warm activations, new seed`,
    run(
      join(old, 'bin/concept-lens'),
      old,
      ['--concepts', conceptDir, '--seed', '2'],
      oldCache,
      join(work, 'p2'),
    ),
  );
  const get = (label: string) => results.find(([l]) => l.startsWith(label))![1];
  const ratio = (a: Cost, b: Cost) =>
    `cpu ${(a.cpu / b.cpu).toFixed(2)}x, peak memory ${(a.peakMb / b.peakMb).toFixed(2)}x`;
  console.log(
    `this design / old design: cold ${ratio(get('this design, cold'), get('old design (' + oldCommit + '), cold'))}; warm ${ratio(get('this design, warm'), get('old design (' + oldCommit + '), warm'))}`,
  );
}
rmSync(work, { recursive: true, force: true });
