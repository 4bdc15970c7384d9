/**
 * Nothing of the user's is lost through `--out` or `--save-bank`: a folder holding a file of the
 * user's and a `results.json` of theirs (names a run writes, but no concept-lens manifest) given
 * as the output folder of tcav, explain, timeline, attack, similar and discover is refused with
 * one line naming it and exit 2, and every byte of it stays; the same for a bank folder holding a
 * file that is not part of the bank. A bank whose direction holds NaN makes timeline exit 2
 * naming the file.
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeMidiFile } from '../../src/midi/write.ts';
import { REPO, runMain, tempDir } from '../helpers/cli.ts';
import { leftovers, snapshot } from './helpers.ts';

const tmp = tempDir('cl-foreign-');
const MODEL = join(REPO, 'models', 'synthetic.onnx');
const ALBERTI = join(REPO, 'concepts', 'textures', 'alberti.yaml');
const CACHE = join(tmp, 'cache');
const COMMON = ['--model', MODEL, '--corpus', 'synthetic', '--cache-dir', CACHE, '--quiet'];
const FAST = ['--random-runs', '2', '--set-size', '4', '--target-excerpts', '4'];
const bank = join(tmp, 'bank');
const pieces = join(tmp, 'pieces');

/**
 * A folder of the user's: their own excerpt and a results.json of theirs, nothing else (before
 * manifests, these names alone made a folder pass for an earlier run, and it was replaced).
 */
function usersFolder(name: string): string {
  const dir = join(tmp, name);
  mkdirSync(join(dir, 'excerpts'), { recursive: true });
  writeFileSync(join(dir, 'results.json'), '{"my":"own results"}\n');
  writeFileSync(join(dir, 'excerpts', 'my-transcription.mid'), 'not even MIDI, but mine');
  return dir;
}

beforeAll(async () => {
  const r = await runMain([
    'tcav',
    ...COMMON,
    '--concepts',
    ALBERTI,
    ...FAST,
    '--out',
    join(tmp, 'tcav'),
    '--save-bank',
    bank,
  ]);
  expect(r.code, r.stderr).toBe(0);
  writeMidiFile(
    join(pieces, 'scale.mid'),
    Array.from({ length: 40 }, (_, i) => ({
      pitch: 60 + (i % 12),
      onset: i * 0.5,
      offset: i * 0.5 + 0.4,
      velocity: 80,
      track: 0,
      channel: 0,
    })),
  );
}, 300_000);

const COMMANDS: Record<string, string[]> = {
  tcav: ['tcav', ...COMMON, '--concepts', ALBERTI, ...FAST],
  explain: [
    'explain',
    ...COMMON,
    '--concepts',
    ALBERTI,
    ...FAST,
    '--discovery-excerpts',
    '6',
    '--concepts-count',
    '3',
  ],
  timeline: ['timeline', pieces, '--model', MODEL, '--bank', bank, '--cache-dir', CACHE, '--quiet'],
  attack: ['attack', ...COMMON, '--attack-excerpts', '2', '--budget', '1'],
  similar: ['similar', ...COMMON, '--query', join(REPO, 'concepts/textures/stride.yaml')],
  discover: ['discover', ...COMMON, '--method', 'kmeans', '--discovery-excerpts', '6'],
};

describe('a folder of the user own given as --out', () => {
  for (const [command, args] of Object.entries(COMMANDS)) {
    it(`${command}: exit 2, one line naming the folder, every file still there`, async () => {
      const dir = usersFolder(`mine-${command}`);
      const before = snapshot(dir);
      const r = await runMain([...args, '--out', dir]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.errors).toEqual([
        expect.stringMatching(
          new RegExp(`mine-${command}: exists and was not written by concept-lens \\(it holds`),
        ),
      ]);
      expect(snapshot(dir)).toEqual(before);
      expect(readFileSync(join(dir, 'excerpts', 'my-transcription.mid'), 'utf8')).toBe(
        'not even MIDI, but mine',
      );
      expect(leftovers(tmp)).toEqual([]);
      expect(readdirSync(tmp).filter((e) => e.endsWith('.lock'))).toEqual([]);
    }, 300_000);
  }

  it('--save-bank: a bank folder holding a file of the user own is refused, the file kept', async () => {
    const target = join(tmp, 'bank-with-mine');
    cpSync(bank, target, { recursive: true });
    writeFileSync(join(target, 'README-mine.txt'), 'what these CAVs were for');
    const before = snapshot(target);
    const r = await runMain([
      'tcav',
      ...COMMON,
      '--concepts',
      ALBERTI,
      ...FAST,
      '--out',
      join(tmp, 'tcav2'),
      '--save-bank',
      target,
    ]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.errors).toEqual([
      expect.stringMatching(
        /bank-with-mine: holds files that are not part of the bank \(README-mine\.txt\)/,
      ),
    ]);
    expect(snapshot(target)).toEqual(before);
  }, 300_000);
});

describe('non-finite numbers in a bank', () => {
  it('a direction holding NaN (or an infinite reference): timeline exits 2 naming the file', async () => {
    const manifest = JSON.parse(readFileSync(join(bank, 'bank.json'), 'utf8'));
    const layer = manifest.concepts[0].layers[0];
    for (const [field, descr, value] of [
      ['direction', '<f4', NaN],
      ['reference', '<f8', Infinity],
    ] as const) {
      const bad = join(tmp, `bank-${field}`);
      cpSync(bank, bad, { recursive: true });
      const file = join(bad, layer[field]);
      const bytes = readFileSync(file);
      // The last value of the array (the data ends the file), overwritten in place.
      if (descr === '<f4') bytes.writeFloatLE(value, bytes.length - 4);
      else bytes.writeDoubleLE(value, bytes.length - 8);
      writeFileSync(file, bytes);
      const r = await runMain([
        'timeline',
        pieces,
        '--model',
        MODEL,
        '--bank',
        bad,
        '--no-cache',
        '--quiet',
        '--out',
        join(tmp, `timeline-${field}`),
      ]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.errors).toEqual([
        expect.stringMatching(
          new RegExp(
            `bank-${field}/${layer[field].replace(/\./g, '\\.')}: value \\d+ is ${value}; a concept bank holds finite numbers only`,
          ),
        ),
      ]);
    }
    // The bank itself, untouched, still works.
    const ok = await runMain([...COMMANDS.timeline, '--out', join(tmp, 'timeline-ok')]);
    expect(ok.code, ok.stderr).toBe(0);
  }, 300_000);
});
