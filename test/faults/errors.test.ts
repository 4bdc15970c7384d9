/**
 * Every error a user can cause is one line and exit 2, naming the file it concerns; a damaged or
 * full cache makes the run carry on (with a warning); wrong numbers from a model stop the run.
 * Full and read-only disks are real: a tmpfs in a private mount namespace (skipped where
 * `unshare -m` is not allowed).
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeMidiFile } from '../../src/midi/write.ts';
import { BIN, REPO, runMain, tempDir, type CliRun } from '../helpers/cli.ts';
import { SYNTHETIC_LABELS, writeHostileModel } from '../helpers/onnx-build.ts';
import { midiFile, off, on, track } from '../midi/bytes.ts';
import { HAVE_UNSHARE, leftovers } from './helpers.ts';

const tmp = tempDir('cl-errors-');
const MODEL = join(REPO, 'models', 'synthetic.onnx');
const ALBERTI = join(REPO, 'concepts', 'textures', 'alberti.yaml');
const FAST = ['--random-runs', '2', '--set-size', '4', '--target-excerpts', '4', '--quiet'];

function expectOneLine(r: CliRun, pattern: RegExp) {
  expect(r.code, r.stderr).toBe(2);
  expect(r.errors).toEqual([expect.stringMatching(pattern)]);
}

describe('one line and exit 2', () => {
  it('a YAML alias bomb (concept file and explain --config)', async () => {
    const levels = 'abcdefg'.split('');
    const lines = ['name: bomb', `a: &a [${Array(10).fill('"x"').join(',')}]`];
    for (let i = 1; i < levels.length; i++)
      lines.push(
        `${levels[i]}: &${levels[i]} [${Array(10)
          .fill(`*${levels[i - 1]}`)
          .join(',')}]`,
      );
    const bomb = join(tmp, 'bomb.yaml');
    writeFileSync(bomb, [...lines, 'examples: [*g]'].join('\n'));
    const r = await runMain(['concepts', 'validate', bomb]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bomb\.yaml: Excessive alias count/);
    expectOneLine(
      await runMain(['explain', '--config', bomb]),
      /bomb\.yaml: Excessive alias count/,
    );
  });

  it('an ONNX op onnxruntime does not know', async () => {
    const model = writeHostileModel(join(tmp, 'frob.onnx'), {
      labels: SYNTHETIC_LABELS,
      reluOp: 'Frobnicate',
    });
    expectOneLine(await runMain(['model', 'inspect', model]), /frob\.onnx: .*Frobnicate/);
  });

  it('a model whose logits are NaN or infinite is refused, not reported as effect null', async () => {
    // A NaN weight is refused when the model is opened, naming the initializer; an infinite one
    // (allowed: attention masks hold -inf) when the logits it makes are not finite.
    for (const [name, bias, message] of [
      [
        'nan',
        NaN,
        /nan\.onnx: initializer \S+ holds NaN at index 0; the model's weights are damaged/,
      ],
      ['inf', Infinity, /inf\.onnx: the model's logits hold Infinity for input/],
    ] as const) {
      const model = writeHostileModel(join(tmp, `${name}.onnx`), {
        labels: SYNTHETIC_LABELS,
        logitBias: bias,
      });
      expectOneLine(
        await runMain(['model', 'evaluate', model, '--corpus', 'synthetic', '--no-cache']),
        message,
      );
      expectOneLine(
        await runMain([
          'tcav',
          '--model',
          model,
          '--corpus',
          'synthetic',
          '--concepts',
          ALBERTI,
          '--out',
          join(tmp, `${name}-out`),
          '--no-cache',
          ...FAST,
        ]),
        /logits hold Infinity|holds NaN at index/,
      );
      expect(existsSync(join(tmp, `${name}-out`))).toBe(false);
      expect(leftovers(tmp)).toEqual([]);
    }
  });

  it('duplicate concept names and a concept relativeTo itself', async () => {
    const dir = join(tmp, 'dup');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'a.yaml'), readFileSync(ALBERTI));
    writeFileSync(join(dir, 'b.yaml'), readFileSync(ALBERTI));
    const out = join(tmp, 'dup-out');
    const args = ['--model', MODEL, '--corpus', 'synthetic', '--out', out, ...FAST];
    expectOneLine(
      await runMain(['tcav', ...args, '--concepts', dir]),
      /b\.yaml: concept 'alberti' is also defined in .*a\.yaml; concept names must be unique/,
    );
    const self = join(tmp, 'self.yaml');
    writeFileSync(self, 'name: me\nrelativeTo: me\nexamples:\n  - pattern: alberti\n');
    const r = await runMain(['concepts', 'validate', self]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/self\.yaml:2: relativeTo: a concept cannot be tested against itself/);
    expect(existsSync(out)).toBe(false);
  });

  it('a reversed pitch band has its own message', async () => {
    const file = join(tmp, 'band.yaml');
    writeMidiFile(join(tmp, 'band.mid'), [
      { pitch: 40, onset: 0, offset: 4, velocity: 80, track: 0, channel: 0 },
    ]);
    writeFileSync(file, 'name: band\nexamples:\n  - midi: band.mid\n    pitch: [59, 21]\n');
    const r = await runMain(['concepts', 'validate', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/band\.yaml:4: examples\[0\]\.pitch: the pitch band is reversed/);
  });

  it('a cache folder that is a file', async () => {
    const file = join(tmp, 'cache-file');
    writeFileSync(file, 'not a folder');
    expectOneLine(
      await runMain([
        'tcav',
        '--model',
        MODEL,
        '--corpus',
        'synthetic',
        '--concepts',
        ALBERTI,
        '--out',
        join(tmp, 'cf-out'),
        '--cache-dir',
        file,
        ...FAST,
      ]),
      /cache-file: the activation cache folder is a file/,
    );
  });

  it('an output folder that is a file, or holds files concept-lens did not write', async () => {
    const file = join(tmp, 'out-file');
    writeFileSync(file, 'x');
    const args = ['--model', MODEL, '--corpus', 'synthetic', '--concepts', ALBERTI, ...FAST];
    expectOneLine(
      await runMain(['tcav', ...args, '--out', file]),
      /out-file: is a file, expected a folder/,
    );
    const foreign = join(tmp, 'foreign');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'thesis.tex'), 'mine');
    expectOneLine(
      await runMain(['tcav', ...args, '--out', foreign]),
      /foreign: exists and was not written by concept-lens \(it holds thesis\.tex\)/,
    );
    expect(readdirSync(foreign)).toEqual(['thesis.tex']);
  });

  it('composer names with control characters never reach the terminal raw', async () => {
    const root = join(tmp, 'ctl');
    const evil = 'Evil\u001b[2J\u0007\u009b31m\u202e';
    writeMidiFile(join(root, evil, 'a.mid'), [
      { pitch: 60, onset: 0, offset: 1, velocity: 80, track: 0, channel: 0 },
    ]);
    writeMidiFile(join(root, 'Good', 'b.mid'), [
      { pitch: 60, onset: 0, offset: 1, velocity: 80, track: 0, channel: 0 },
    ]);
    const raw = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/;
    for (const json of [false, true]) {
      const r = await runMain(['corpus', 'info', root, ...(json ? ['--json'] : [])]);
      expect(r.code).toBe(0);
      expect(r.stdout).not.toMatch(raw);
      expect(r.stdout).toContain(
        json ? 'Evil\\u001b[2J\\u0007\\u009b31m\\u202e' : 'Evil\\x1b[2J\\x07\\x9b31m\\u202e',
      );
      if (json) expect(Object.keys(JSON.parse(r.stdout).composers)).toContain(evil);
    }
    const bad = await runMain(['corpus', 'info', root, '--composers', `${evil}x`]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).not.toMatch(raw);
  });
});

describe('MIDI structure', () => {
  it('a meta event running past its track: skipped with the reason, or read leniently saying what was lost', async () => {
    const root = join(tmp, 'strict');
    const notes = Array.from({ length: 16 }, (_, i) => [on(0, 60 + i), off(96, 60 + i)]).flat();
    const good = track(notes);
    // A text event announcing 200 bytes after the 2nd note: the old reader kept 2 notes of 16.
    const broken = track([...notes.slice(0, 4), [0, [0xff, 0x01, 0x81, 0x48]], ...notes.slice(4)]);
    mkdirSync(join(root, 'A'), { recursive: true });
    writeFileSync(join(root, 'A', 'good.mid'), midiFile(0, 96, [good]));
    writeFileSync(join(root, 'A', 'broken.mid'), midiFile(0, 96, [broken]));
    const strict = await runMain(['corpus', 'info', root, '--json']);
    expect(strict.code).toBe(0);
    const s = JSON.parse(strict.stdout);
    expect(s.notes).toBe(16);
    expect(s.skipped).toEqual([
      {
        file: 'A/broken.mid',
        reason: expect.stringMatching(
          /track 1: a meta event announces 200 bytes, \d+ remain \(byte \d+ of the file\); --lenient-midi/,
        ),
      },
    ]);
    const lenient = await runMain(['corpus', 'info', root, '--json', '--lenient-midi']);
    const l = JSON.parse(lenient.stdout);
    expect(l.notes).toBe(16 + 2);
    expect(l.recovered).toEqual([
      { file: 'A/broken.mid', reason: expect.stringMatching(/about 14 notes lost/) },
    ]);
    expect(lenient.warnings).toEqual([expect.stringMatching(/broken\.mid: read leniently/)]);
  });
});

/** Run a shell script in a private mount namespace (a tmpfs at $FS), returning its output. */
function inNamespace(script: string, size = '256k') {
  const fs = mkdtempSync(join(tmpdir(), 'cl-fs-'));
  const r = spawnSync(
    'unshare',
    ['-m', 'sh', '-c', `set -e; mount -t tmpfs -o size=${size} tmpfs "$FS"; ${script}`],
    { encoding: 'utf8', cwd: REPO, env: { ...process.env, FS: fs, BIN } },
  );
  rmSync(fs, { recursive: true, force: true });
  return r;
}

describe.skipIf(!HAVE_UNSHARE)('full and read-only disks (tmpfs in a mount namespace)', () => {
  const TCAV = `"$BIN" tcav --model ${MODEL} --corpus synthetic --concepts ${ALBERTI} ${FAST.join(' ')}`;
  beforeAll(async () => {
    // The synthetic corpus is generated into .cache before the namespaces read it.
    await runMain(['corpus', 'info', 'synthetic', '--json']);
  });

  it('a full output disk: one line naming the file, the previous run intact, nothing left behind', () => {
    const r = inNamespace(
      `mkdir "$FS/out"; echo '{"format":"concept-lens-run/1","products":{"results.json":""},"kept":[]}' > "$FS/out/.concept-lens-run.json"
       echo old > "$FS/out/results.json"
       head -c 10000000 /dev/zero > "$FS/filler" 2>/dev/null || true
       set +e; ${TCAV} --out "$FS/out" --no-cache; echo "exit=$?"; set -e
       echo "old=$(cat "$FS/out/results.json")"; ls -a "$FS"`,
    );
    expect(r.stdout).toMatch(/exit=2/);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('concept-lens:'));
    // Said of the product being written, or of the folder when even its lock cannot be written.
    expect(errors).toEqual([
      expect.stringMatching(/out(\/results\.json)?: no space left on device$/),
    ]);
    expect(r.stdout).toMatch(/old=old/);
    expect(r.stdout).not.toMatch(/\.new-|\.old-/);
  }, 120_000);

  it('a read-only output folder: one line, exit 2', () => {
    const r = inNamespace(
      `mkdir "$FS/out"; mount -o remount,ro "$FS"
       set +e; ${TCAV} --out "$FS/out/run" --no-cache; echo "exit=$?"`,
    );
    expect(r.stdout).toMatch(/exit=2/);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('concept-lens:'))).toEqual([
      expect.stringMatching(/out\/run: read-only file system$/),
    ]);
  }, 120_000);

  it('a full cache disk: the run carries on without the cache, with one warning', () => {
    const r = inNamespace(
      `set +e; ${TCAV} --out "${tmp}/full-cache-out" --cache-dir "$FS/cache"; echo "exit=$?"`,
      '64k',
    );
    expect(r.stdout).toMatch(/exit=0/);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('concept-lens:'));
    expect(lines).toEqual([
      expect.stringMatching(
        /warning: activation cache .*cache: .*: no space left on device; carrying on without writing to the cache/,
      ),
    ]);
    expect(existsSync(join(tmp, 'full-cache-out', 'results.json'))).toBe(true);
  }, 120_000);
});

describe('a damaged cache', () => {
  it('a cache entry replaced by a directory: recomputed, one warning, exit 0', async () => {
    const cache = join(tmp, 'cache');
    const args = ['tcav', '--model', MODEL, '--corpus', 'synthetic', '--concepts', ALBERTI];
    const first = await runMain([...args, '--out', join(tmp, 'c1'), '--cache-dir', cache, ...FAST]);
    expect(first.code, first.stderr).toBe(0);
    // Replace some entries by directories (with a file inside, so they cannot be replaced back).
    let replaced = 0;
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (replaced < 5) {
          rmSync(p);
          mkdirSync(p);
          writeFileSync(join(p, 'x'), 'x');
          replaced++;
        }
      }
    };
    walk(cache);
    const second = await runMain([
      ...args,
      '--out',
      join(tmp, 'c2'),
      '--cache-dir',
      cache,
      ...FAST,
    ]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.warnings).toEqual([
      expect.stringMatching(/is a folder that is not empty|is a directory.*not a cache file/),
    ]);
    expect(JSON.parse(readFileSync(join(tmp, 'c2', 'results.json'), 'utf8')).tcav).toEqual(
      JSON.parse(readFileSync(join(tmp, 'c1', 'results.json'), 'utf8')).tcav,
    );
  });
});
