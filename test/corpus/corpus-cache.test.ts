/**
 * The windows of a corpus come from the cache on a second read of the same bytes (no parsing),
 * match a fresh read exactly, and are read again when a file changes or a stored entry does not
 * check.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCorpus } from '../../src/corpus/manifest.ts';
import { corpusKey, readWindows, writeWindows } from '../../src/lens/corpus-cache.ts';
import { CorpusIndex } from '../../src/lens/corpus-index.ts';
import { writeMidiFile } from '../../src/midi/write.ts';
import { ActivationCache } from '../../src/model/cache.ts';
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
const cache = new ActivationCache(join(tmp, 'cache'));
const build = (withCache: boolean) =>
  CorpusIndex.build(loadCorpus(root), layout, 400, withCache ? { cache } : {});
const key = () => corpusKey(loadCorpus(root).entries, layout, 400, false)!.key;

describe('corpus windows cache', () => {
  it('stores the windows of a first read and gives the same on the second, from the cache', async () => {
    const fresh = await build(false);
    const first = await build(true);
    expect(first.excerpts()).toEqual(fresh.excerpts());
    expect(first.skipped).toEqual(fresh.skipped);
    expect(fresh.skipped.map((s) => s.file)).toEqual(['Chopin/broken.mid']);
    const stored = readWindows(cache, key(), loadCorpus(root).entries)!;
    expect(stored.windows['Bach/one.mid']).toEqual(fresh.windows.get('Bach/one.mid'));
    // Proof that the second read comes from the stored list: a change stored under the key shows.
    stored.windows['Bach/one.mid'][0].end += 0.125;
    writeWindows(cache, key(), stored);
    const second = await build(true);
    expect(second.excerpts()[0].end).toBe(fresh.excerpts()[0].end + 0.125);
    expect(second.skipped).toEqual(fresh.skipped);
    expect(second.fileHashes?.size).toBe(4);
  });

  it('reads the corpus again when a stored entry does not check (a non-finite time)', async () => {
    const stored = readWindows(cache, key(), loadCorpus(root).entries)!;
    stored.windows['Bach/one.mid'][0].end = NaN; // stored as null in JSON
    writeWindows(cache, key(), stored);
    const again = await build(true);
    expect(again.excerpts()).toEqual((await build(false)).excerpts());
  });

  it('reads the corpus again when a file changes', async () => {
    const before = (await build(true)).excerpts().length;
    const oldKey = key();
    writeMidiFile(join(root, 'Bach', 'two.mid'), line(48, 300));
    appendFileSync(join(root, 'Chopin', 'broken.mid'), '!');
    expect(key()).not.toBe(oldKey);
    const after = await build(true);
    expect(after.excerpts()).toEqual((await build(false)).excerpts());
    expect(after.excerpts().length).toBeGreaterThan(before);
  });
});
