/**
 * A cache folder is files anyone with access can edit. Two attacks on it, each against a first
 * run's cache: entries whose values are all NaN under a recomputed (forged, valid) checksum must
 * be recomputed, with a warning, never scored (the TCAV results equal the first run's); a
 * symbolic link planted in the cache (a namespace folder pointing outside it, an entry pointing
 * at a file outside it) must not let a single byte land outside: the targets are checked.
 */
import { createHash } from 'node:crypto';
import {
  cpSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO, runMain, tempDir } from '../helpers/cli.ts';
import { snapshot } from './helpers.ts';

const tmp = tempDir('cl-cache-hostile-');
const MODEL = join(REPO, 'models', 'synthetic.onnx');
const ALBERTI = join(REPO, 'concepts', 'textures', 'alberti.yaml');
const ARGS = ['tcav', '--model', MODEL, '--corpus', 'synthetic', '--concepts', ALBERTI];
const FAST = ['--random-runs', '2', '--set-size', '4', '--target-excerpts', '4', '--quiet'];
let reference: unknown;

/** Every entry file below `dir`. */
function entries(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.f32')) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

/** Overwrite an entry's values with NaN and recompute its checksum (layout: see src/model/cache.ts). */
function forgeNaN(path: string): void {
  const bytes = readFileSync(path);
  const count = bytes.readUInt32LE(4);
  const idLength = bytes.readUInt32LE(8);
  const data = 44 + idLength;
  for (let i = 0; i < count; i++) bytes.writeFloatLE(NaN, data + 4 * i);
  createHash('sha256').update(bytes.subarray(44)).digest().copy(bytes, 12);
  writeFileSync(path, bytes);
}

async function tcav(cache: string, out: string) {
  const r = await runMain([...ARGS, '--out', join(tmp, out), '--cache-dir', cache, ...FAST]);
  expect(r.code, r.stderr).toBe(0);
  return { ...r, tcav: JSON.parse(readFileSync(join(tmp, out, 'results.json'), 'utf8')).tcav };
}

beforeAll(async () => {
  reference = (await tcav(join(tmp, 'cache-ref'), 'ref')).tcav;
}, 300_000);

describe('a hostile cache', () => {
  it('entries of NaN with a valid checksum: recomputed with a warning, no score from them', async () => {
    const cache = join(tmp, 'cache-nan');
    cpSync(join(tmp, 'cache-ref'), cache, { recursive: true });
    const files = entries(cache);
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) forgeNaN(f);
    const r = await tcav(cache, 'nan-2');
    expect(r.warnings).toEqual([
      expect.stringMatching(
        /holds NaN or infinite values under a valid checksum .* recomputed, not used/,
      ),
    ]);
    expect(r.tcav).toEqual(reference);
    // The recomputed entries replaced the forged ones.
    for (const f of files) {
      const bytes = readFileSync(f);
      const values = new Float32Array(
        bytes.buffer.slice(
          bytes.byteOffset + 44 + bytes.readUInt32LE(8),
          bytes.byteOffset + bytes.length,
        ),
      );
      expect(values.every(Number.isFinite)).toBe(true);
    }
  }, 300_000);

  it('symbolic links planted in the cache: nothing written or changed outside it', async () => {
    const cache = join(tmp, 'cache-link');
    cpSync(join(tmp, 'cache-ref'), cache, { recursive: true });
    const outside = join(tmp, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'precious.txt'), 'the user file');
    const outsideFile = join(tmp, 'outside-file.txt');
    writeFileSync(outsideFile, 'another user file');
    // A namespace folder moved away and replaced by a link to the outside folder (whose layer
    // folders do not exist: every entry of the namespace is a miss, and would be written there).
    const [namespace] = readdirSync(cache).filter((n) => !n.startsWith('.'));
    renameSync(join(cache, namespace), join(tmp, 'moved-namespace'));
    symlinkSync(outside, join(cache, namespace));
    const before = snapshot(outside);
    const r = await tcav(cache, 'link-2');
    expect(r.tcav).toEqual(reference);
    expect(r.warnings).toEqual([expect.stringMatching(/is a symbolic link .*never written/)]);
    expect(snapshot(outside)).toEqual(before);
    expect(readdirSync(outside)).toEqual(['precious.txt']);

    // An entry replaced by a link to a file outside: not read through, not written through.
    rmSync(join(cache, namespace));
    renameSync(join(tmp, 'moved-namespace'), join(cache, namespace));
    const [entry] = entries(cache);
    rmSync(entry);
    symlinkSync(outsideFile, entry);
    const again = await tcav(cache, 'link-3');
    expect(again.tcav).toEqual(reference);
    expect(readFileSync(outsideFile, 'utf8')).toBe('another user file');
  }, 300_000);
});
