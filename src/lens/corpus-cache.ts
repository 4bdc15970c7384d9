/**
 * The windows of a corpus, kept between runs. Reading and parsing every MIDI file of a corpus is
 * what a warm run of `similar` or `timeline`-sized work spends most of its time on (ASAP: 1,219
 * files, several seconds), although the windows follow from the files' bytes alone. So the
 * descriptors of the windows (no rolls) and the list of skipped files are stored under a key of
 * every file's content hash with everything else that shapes the windows (roll layout, window
 * length, sustain, the limits); hashing the bytes costs a tenth of parsing them. A file edited
 * in place changes its hash, so the key; an entry that fails to parse or to check is ignored and
 * rebuilt. Used only for strict reading (`--lenient-midi` reports what each file lost, which a
 * stored entry would not repeat).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { SkippedFile } from '../corpus/read.ts';
import type { CorpusEntry, Excerpt } from '../corpus/types.ts';
import type { RollLayout } from '../midi/roll.ts';
import { sha256, writeFileAtomic } from '../util/files.ts';
import { limits } from '../util/limits.ts';
import { warn } from '../util/warn.ts';

/** Bump when the reader or the windowing changes what a file yields. */
const FORMAT = 1;

export interface StoredWindows {
  windows: Record<string, Excerpt[]>;
  skipped: SkippedFile[];
}

export interface CorpusKey {
  key: string;
  /** sha256 of each file's bytes, by corpus file name. */
  hashes: Map<string, string>;
}

/**
 * The key of a corpus's windows, or undefined when the cache does not apply (lenient reading, a
 * file missing or over the size limit: the normal path reports those).
 */
export function corpusKey(
  entries: readonly CorpusEntry[],
  layout: RollLayout,
  windowFrames: number,
  sustain: boolean,
): CorpusKey | undefined {
  const l = limits();
  if (l.lenientMidi) return undefined;
  const hashes = new Map<string, string>();
  for (const e of entries) {
    let size: number;
    try {
      size = statSync(e.path).size;
    } catch {
      return undefined;
    }
    if (size > l.maxMidiBytes) return undefined;
    hashes.set(e.file, sha256(readFileSync(e.path)));
  }
  const key = sha256(
    JSON.stringify({
      format: FORMAT,
      layout,
      windowFrames,
      sustain,
      limits: l,
      files: entries.map((e) => [e.file, e.composer, e.piece, hashes.get(e.file)]),
    }),
  );
  return { key, hashes };
}

function pathOf(cacheDir: string, key: string): string {
  return join(cacheDir, 'corpus-windows', `${key.slice(0, 40)}.json`);
}

export function readWindows(
  cacheDir: string,
  key: string,
  entries: readonly CorpusEntry[],
): StoredWindows | undefined {
  const path = pathOf(cacheDir, key);
  if (!existsSync(path)) return undefined;
  try {
    const stored = JSON.parse(readFileSync(path, 'utf8')) as StoredWindows & { key: string };
    if (stored.key !== key || !valid(stored, entries)) throw new Error('does not match its key');
    return stored;
  } catch (err) {
    warn(
      `${path}: a stored list of corpus windows is unreadable (${(err as Error).message}); the corpus is read again`,
    );
    return undefined;
  }
}

export function writeWindows(cacheDir: string, key: string, stored: StoredWindows): void {
  try {
    writeFileAtomic(pathOf(cacheDir, key), JSON.stringify({ key, ...stored }));
  } catch (err) {
    warn(`${cacheDir}: the corpus windows could not be stored (${(err as Error).message})`);
  }
}

/** Every window names a file of the corpus and holds finite, ordered times. */
function valid(stored: StoredWindows, entries: readonly CorpusEntry[]): boolean {
  if (!stored || typeof stored.windows !== 'object' || !Array.isArray(stored.skipped)) return false;
  const files = new Set(entries.map((e) => e.file));
  for (const [file, list] of Object.entries(stored.windows)) {
    if (!files.has(file) || !Array.isArray(list)) return false;
    for (const x of list) {
      if (x.file !== file || typeof x.id !== 'string') return false;
      const numbers = [x.startFrame, x.frames, x.start, x.end];
      if (!numbers.every(Number.isFinite) || x.end < x.start || x.frames <= 0) return false;
    }
  }
  return stored.skipped.every((s) => files.has(s.file) && typeof s.reason === 'string');
}
