/**
 * The fuzz suite at scale: 10,000 mutated MIDI files (test/fuzz/generate.ts), each read strictly
 * and leniently and compared with the independent decoder (test/fuzz/reference.ts), every file
 * that is read rendered to a 20 fps roll; then the same files through the CLI (`corpus info`),
 * with the peak memory of that process.
 *
 *   npm run bench:fuzz -- [--count 10000] [--seed 1] [--no-cli]
 *
 * Prints outcomes, disagreements with the reference (must be 0), crashes (an exception other than
 * a MidiReadError: must be 0), hangs (a file taking over a second: must be 0), files holding more
 * track chunks than their header counts (all read, each with a notice) and silent losses (a file
 * read with fewer notes than the reference finds in it, or extra chunks without a notice: must be
 * 0), the slowest file, and the peak resident memory of this process and of the CLI run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MidiReadError, parseMidi } from '../src/midi/read.ts';
import { renderRoll } from '../src/midi/render.ts';
import { DEFAULT_LAYOUT } from '../src/midi/roll.ts';
import type { MidiContent } from '../src/midi/types.ts';
import { fuzzFiles } from '../test/fuzz/generate.ts';
import { referenceDecode } from '../test/fuzz/reference.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const count = Number(arg('count', '10000'));
const seed = Number(arg('seed', '1'));
const repo = resolve(import.meta.dirname, '..');

const t0 = performance.now();
const files = fuzzFiles(count, seed);
const generated = performance.now() - t0;

const outcomes: Record<string, number> = {};
const reasons: Record<string, number> = {};
const disagreements: string[] = [];
let read = 0;
let lenientRecovered = 0;
let lenientKnownLoss = 0;
let lenientLostNotes = 0;
let lossOver10 = 0;
let slowest = { ms: 0, name: '' };
let totalMs = 0;
let maxRoll = 0;
let crashes = 0;
let hangs = 0;
let extraChunkFiles = 0;
let extraChunkNotices = 0;
let silentLosses = 0;
const HANG_MS = 1000;

const attempt = (bytes: Uint8Array, lenient: boolean): MidiContent | MidiReadError => {
  try {
    return parseMidi(bytes, { lenient, maxSeconds: 7200 });
  } catch (err) {
    if (err instanceof MidiReadError) return err;
    crashes++;
    process.stdout.write(`crash: ${err instanceof Error ? err.stack : String(err)}\n`);
    return new MidiReadError('crash');
  }
};

for (const f of files) {
  const verdict = referenceDecode(f.bytes, 7200);
  outcomes[verdict.kind] = (outcomes[verdict.kind] ?? 0) + 1;
  const start = performance.now();
  const strict = attempt(f.bytes, false);
  const ms = performance.now() - start;
  totalMs += ms;
  if (ms > HANG_MS) hangs++;
  if (ms > slowest.ms) slowest = { ms, name: `${f.name} (${f.mutations.join(', ')})` };
  if (strict instanceof MidiReadError) {
    const reason = strict.message
      .replace(/\d+/g, 'N')
      .replace(/ \(.*$/, '')
      .slice(0, 70);
    reasons[reason] = (reasons[reason] ?? 0) + 1;
    if (verdict.kind === 'ok') disagreements.push(`${f.name}: refused, reference reads it`);
  } else {
    read++;
    if (verdict.kind !== 'ok') disagreements.push(`${f.name}: read, reference refuses`);
    else if (verdict.notes !== strict.notes.length) {
      disagreements.push(`${f.name}: ${strict.notes.length} notes, reference ${verdict.notes}`);
      if (strict.notes.length < verdict.notes) silentLosses++;
    } else if (verdict.trackChunks > verdict.headerTracks) {
      extraChunkFiles++;
      if (strict.notices?.some((n) => n.includes(`holds ${verdict.trackChunks} track chunks`)))
        extraChunkNotices++;
      else silentLosses++;
    }
    if (strict.notes.length < 0.9 * f.seedNotes) lossOver10++;
    const roll = renderRoll(strict.notes, DEFAULT_LAYOUT, strict.durationSeconds);
    maxRoll = Math.max(maxRoll, roll.data.length);
  }
  if (verdict.kind === 'structure') {
    const lenient = attempt(f.bytes, true);
    if (!(lenient instanceof MidiReadError)) {
      lenientRecovered++;
      for (const d of lenient.damage ?? []) {
        if (d.notesLost !== null) {
          lenientKnownLoss++;
          lenientLostNotes += d.notesLost;
        }
      }
    }
  }
}
const elapsed = performance.now() - t0 - generated;

const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;
const lines = [
  `fuzz: ${count} mutated MIDI files (seed ${seed}), generated in ${(generated / 1000).toFixed(1)} s`,
  `reference verdicts: ${JSON.stringify(outcomes)}`,
  `strict read: ${read} read (all notes, as the reference), ${count - read} refused with a reason; disagreements with the reference: ${disagreements.length}`,
  `  read files with < 90% of the notes of the file they were mutated from: ${lossOver10} (the mutation removed them; the reference agrees note for note)`,
  `lenient read: ${lenientRecovered} of ${outcomes.structure ?? 0} structurally broken files recovered; ${lenientKnownLoss} breaks with a counted loss, ${lenientLostNotes} notes lost in all`,
  `crashes: ${crashes}; hangs (a file over ${HANG_MS} ms): ${hangs}`,
  `more track chunks than the header counts: ${extraChunkFiles} files read whole, ${extraChunkNotices} of them with a notice; files whose notes are lost without a word: ${silentLosses}`,
  `time: ${(elapsed / 1000).toFixed(1)} s for strict + lenient reading, rendering and the reference; strict reading ${(totalMs / count).toFixed(3)} ms per file, slowest ${slowest.ms.toFixed(1)} ms: ${slowest.name}`,
  `memory: largest roll rendered ${(maxRoll / 1e6).toFixed(2)} M values; peak resident memory of this process ${mb(process.resourceUsage().maxRSS)}`,
  'refusal reasons (strict):',
  ...Object.entries(reasons)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 15)
    .map(([r, n]) => `  ${String(n).padStart(6)}  ${r}`),
];
process.stdout.write(`${lines.join('\n')}\n`);
if (disagreements.length > 0)
  process.stdout.write(`first disagreements:\n  ${disagreements.slice(0, 10).join('\n  ')}\n`);

if (!process.argv.includes('--no-cli')) {
  // The same files through the CLI, one process, with its peak memory (GNU time).
  const dir = mkdtempSync(join(tmpdir(), 'cl-fuzz-'));
  try {
    spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        join(repo, 'test/fuzz/generate.ts'),
        '--count',
        String(count),
        '--seed',
        String(seed),
        '--out',
        dir,
      ],
      { stdio: 'ignore', cwd: repo },
    );
    for (const lenient of [false, true]) {
      const time = existsSync('/usr/bin/time')
        ? ['/usr/bin/time', '-f', 'maxrss_kb=%M wall_s=%e']
        : [];
      const args = [
        join(repo, 'bin/concept-lens'),
        'corpus',
        'info',
        dir,
        '--json',
        ...(lenient ? ['--lenient-midi'] : []),
      ];
      const r = spawnSync(
        time[0] ?? args[0],
        [...time.slice(1), ...(time.length ? args : args.slice(1))],
        {
          encoding: 'utf8',
          maxBuffer: 256 * 1024 * 1024,
        },
      );
      const summary = JSON.parse(r.stdout);
      const measured = /maxrss_kb=(\d+) wall_s=([\d.]+)/.exec(r.stderr);
      process.stdout.write(
        `cli: corpus info${lenient ? ' --lenient-midi' : ''}: exit ${r.status}, ${summary.files} files read, ${summary.skipped.length} skipped with a reason, ${summary.recovered.length} read leniently, ${summary.notices?.length ?? 0} read with a notice (more track chunks than the header counts)` +
          (measured ? `; ${measured[2]} s, peak memory ${mb(Number(measured[1]))}` : '') +
          '\n',
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
