/**
 * Calibration as a user meets it: null concepts written as YAML files and run through the CLI.
 *
 * Per seed: `--yaml-null` concepts of each size (default 20 of 10 and 20 of 40 windows), each
 * made of random corpus windows of all composers mixed (spread over pieces), every window exported
 * as a MIDI file (its notes as the roll has them) and listed in the concept's YAML as `midi:`; and
 * one placebo concept, 20 random windows given as `corpus:` references with `seconds:` (the other
 * way a user names excerpts). All of a seed's concepts go through one `concept-lens tcav` process
 * with the default settings (one Holm family: (2 x 20 + 1) x 8 composers = 328 cells), sharing an
 * activation cache between seeds. Power: 8 one-composer concepts of 40 windows (exported the same
 * way) in a run of their own per seed (64 cells, the shipped run's family size).
 *
 * Printed: the share of null cells with p < 0.05 per composer and size with a 95% Wilson interval,
 * the significant and undecided cells (decided verdicts), the placebo's cells, and power.
 *
 *   npm run bench:calibration -- --yaml-only [--seeds 1,2,3] [--yaml-null 20] [--sizes 10,40]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import type { Excerpt } from '../src/corpus/types.ts';
import { ConceptLens } from '../src/lens/lens.ts';
import { rollToNotes, writeMidiFile } from '../src/midi/write.ts';
import type { TcavEntry } from '../src/results/results.ts';

export interface YamlCalibration {
  model: string;
  corpus: string;
  seeds: number[];
  sizes: number[];
  perSize: number;
  composerSize: number;
  cacheDir?: string;
}

/** Wilson 95% interval of a proportion. */
function wilson(k: number, n: number): [number, number] {
  if (n === 0) return [NaN, NaN];
  const z = 1.959964;
  const p = k / n;
  const centre = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / (1 + (z * z) / n);
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

export async function calibrateThroughYaml(o: YamlCalibration): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'calibration-yaml-'));
  const cacheDir = o.cacheDir ?? join(work, 'cache');
  const lens = await ConceptLens.open({ model: o.model, corpus: o.corpus, cacheDir: false });
  const targets = lens.targets();
  const cli = resolve('bin/concept-lens');
  // Windows drawn with a few spares: a silent window (a rest in the score) has no notes to write,
  // and a MIDI file without notes is an error for the CLI, so the first `size` with notes are kept.
  const exportConcept = (dir: string, name: string, windows: Excerpt[], size: number) => {
    const midiDir = join(dir, name);
    mkdirSync(midiDir, { recursive: true });
    const notes = lens.index
      .rolls(windows)
      .map((roll) => rollToNotes(roll))
      .filter((n) => n.length > 0)
      .slice(0, size);
    notes.forEach((n, i) => writeMidiFile(join(midiDir, `${String(i).padStart(3, '0')}.mid`), n));
    writeFileSync(
      join(dir, `${name}.yaml`),
      stringify({
        name,
        description: 'random corpus windows',
        examples: [{ midi: `${name}/*.mid` }],
      }),
    );
  };
  const tcav = (concepts: string, seed: number, out: string): TcavEntry[] => {
    const r = spawnSync(
      'node',
      [
        cli,
        'tcav',
        '--model',
        o.model,
        '--corpus',
        o.corpus,
        '--concepts',
        concepts,
        '--seed',
        String(seed),
        '--cache-dir',
        cacheDir,
        '--out',
        out,
        '--quiet',
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    if (r.status !== 0)
      throw new Error(`concept-lens tcav failed on ${concepts} (exit ${r.status})`);
    return (JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { tcav: TcavEntry[] })
      .tcav;
  };

  const nullCells: (TcavEntry & { size: number; seed: number })[] = [];
  const placebo: TcavEntry[] = [];
  const power: TcavEntry[] = [];
  const started = performance.now();
  for (const seed of o.seeds) {
    const dir = join(work, `seed-${seed}`, 'concepts');
    mkdirSync(dir, { recursive: true });
    const sizeOf = new Map<string, number>();
    for (const size of o.sizes)
      for (let k = 0; k < o.perSize; k++) {
        const name = `null-${size}-${k}`;
        sizeOf.set(name, size);
        exportConcept(
          dir,
          name,
          lens.index.sample(size + 5, `calibration-yaml/${seed}/${size}/${k}`, targets),
          size,
        );
      }
    const windows = lens.index.sample(20, `calibration-yaml/${seed}/placebo`, targets);
    writeFileSync(
      join(dir, 'placebo.yaml'),
      stringify({
        name: 'placebo',
        description: 'random corpus windows named by file and seconds',
        examples: windows.map((w) => ({
          corpus: w.file,
          seconds: [w.start, w.end],
        })),
      }),
    );
    const cells = tcav(dir, seed, join(work, `seed-${seed}`, 'out'));
    for (const c of cells) {
      if (c.concept === 'placebo') placebo.push(c);
      else nullCells.push({ ...c, size: sizeOf.get(c.concept)!, seed });
    }
    const powerDir = join(work, `seed-${seed}`, 'power');
    mkdirSync(powerDir, { recursive: true });
    for (const t of targets)
      exportConcept(
        powerDir,
        `only-${t}`,
        lens.index.sample(o.composerSize + 5, `calibration-yaml/${seed}/composer/${t}`, [t]),
        o.composerSize,
      );
    power.push(...tcav(powerDir, seed, join(work, `seed-${seed}`, 'power-out')));
    console.error(
      `seed ${seed}: ${cells.length} cells, ${cells.filter((c) => c.pValue < 0.05).length} with p < 0.05, ${cells.filter((c) => c.significant).length} significant`,
    );
  }
  await lens.close();

  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  console.log(
    `\nThrough YAML and the CLI (${o.seeds.length} seeds x ${o.perSize} null concepts per size, MIDI-exported random windows, all composers mixed): p < 0.05 with 95% Wilson intervals`,
  );
  console.log(`${'composer'.padEnd(12)}${o.sizes.map((s) => `size ${s}`.padStart(30)).join('')}`);
  for (const t of [...targets, 'all']) {
    const row = o.sizes.map((s) => {
      const cells = nullCells.filter((c) => c.size === s && (t === 'all' || c.target === t));
      const hits = cells.filter((c) => c.pValue < 0.05).length;
      const [lo, hi] = wilson(hits, cells.length);
      return `${pct(hits / cells.length)} (${hits}/${cells.length}; ${pct(lo)}-${pct(hi)})`.padStart(
        30,
      );
    });
    console.log(`${t.padEnd(12)}${row.join('')}`);
  }
  for (const s of o.sizes) {
    const cells = nullCells.filter((c) => c.size === s);
    console.log(
      `size ${s}: ${cells.length} null cells; significant ${cells.filter((c) => c.outcome === 'significant').length}, undecided ${cells.filter((c) => c.outcome === 'undecided').length} (Holm over each seed's run of ${(2 * o.perSize + 1) * targets.length} cells)`,
    );
  }
  console.log(
    `placebo (20 windows as corpus references): ${placebo.length} cells, significant ${placebo.filter((c) => c.significant).length}, undecided ${placebo.filter((c) => c.outcome === 'undecided').length}, p < 0.05 in ${placebo.filter((c) => c.pValue < 0.05).length}`,
  );
  const own = power.filter((c) => c.concept === `only-${c.target}`);
  const hit = own.filter((c) => c.significant && c.effect > c.randomEffect).length;
  console.log(
    `power (one-composer concepts of ${o.composerSize} MIDI-exported windows, own composer): ${hit}/${own.length} (${pct(hit / own.length)}) significant and positive; undecided ${own.filter((c) => c.outcome === 'undecided').length}`,
  );
  console.log(`time: ${((performance.now() - started) / 1000).toFixed(0)} s wall (shared machine)`);
  rmSync(work, { recursive: true, force: true });
}
