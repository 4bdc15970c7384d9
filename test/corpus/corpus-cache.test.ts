/**
 * The windows of a corpus come from the cache on a second read of the same bytes (no parsing),
 * match a fresh read exactly, and are read again when a file changes or a stored entry is damaged.
 */
import { appendFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCorpus } from '../../src/corpus/manifest.ts';
import { CorpusIndex } from '../../src/lens/corpus-index.ts';
import { writeMidiFile } from '../../src/midi/write.ts';
import { tempDir } from '../helpers/cli.ts';

const tmp = tempDir('cl-corpus-cache-');
const root = join(tmp, 'corpus');
const line = (base: number, count: number) =>
  Array.from({ length: count }, (_, i) => ({
    pitch: base + (i % 12),
    onset: i * 0.5,
    offset: i * 0.5 + 0.4,
    velocity: 80,
    track: 0,
    channel: 0,
  }));
writeMidiFile(join(root, 'Bach', 'one.mid'), line(60, 100));
writeMidiFile(join(root, 'Bach', 'two.mid'), line(48, 70));
writeMidiFile(join(root, 'Chopin', 'three.mid'), line(72, 90));
writeFileSync(join(root, 'Chopin', 'broken.mid'), 'MThd not really');

const layout = {
  fps: 20,
  lowPitch: 21,
  highPitch: 108,
  channels: ['frame'],
  values: 'binary',
} as never;
const build = (cacheDir?: string) =>
  CorpusIndex.build(loadCorpus(root), layout, 400, cacheDir ? { cacheDir } : {});
const stored = (cacheDir: string) =>
  join(cacheDir, 'corpus-windows', readdirSync(join(cacheDir, 'corpus-windows'))[0]);

describe('corpus windows cache', () => {
  const cacheDir = join(tmp, 'cache');

  it('stores the windows of a first read and gives the same on the second, from the cache', async () => {
    const fresh = await build();
    const first = await build(cacheDir);
    expect(first.excerpts()).toEqual(fresh.excerpts());
    expect(first.skipped).toEqual(fresh.skipped);
    expect(fresh.skipped.map((s) => s.file)).toEqual(['Chopin/broken.mid']);
    // Proof that the second read comes from the stored list: a change made there shows.
    const path = stored(cacheDir);
    const json = JSON.parse(readFileSync(path, 'utf8'));
    json.windows['Bach/one.mid'][0].end += 0.125;
    writeFileSync(path, JSON.stringify(json));
    const second = await build(cacheDir);
    expect(second.excerpts()[0].end).toBe(fresh.excerpts()[0].end + 0.125);
    expect(second.skipped).toEqual(fresh.skipped);
    expect(second.fileHashes?.size).toBe(4);
  });

  it('reads the corpus again when a stored entry is damaged (a non-finite time)', async () => {
    const path = stored(cacheDir);
    writeFileSync(path, readFileSync(path, 'utf8').replace(/"end":[0-9.]+/, '"end":null'));
    const again = await build(cacheDir);
    expect(again.excerpts()).toEqual((await build()).excerpts());
  });

  it('reads the corpus again when a file changes', async () => {
    const before = (await build(cacheDir)).excerpts().length;
    writeMidiFile(join(root, 'Bach', 'two.mid'), line(48, 300));
    appendFileSync(join(root, 'Chopin', 'broken.mid'), '!');
    const after = await build(cacheDir);
    expect(after.excerpts()).toEqual((await build()).excerpts());
    expect(after.excerpts().length).toBeGreaterThan(before);
    expect(readdirSync(join(cacheDir, 'corpus-windows')).length).toBe(2);
  });
});
