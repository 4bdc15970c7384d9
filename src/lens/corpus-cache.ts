/**
 * The windows of a corpus, kept between runs. Reading and parsing every MIDI file of a corpus is
 * what a warm run of `similar` or `timeline`-sized work spends most of its time on (ASAP: 1,219
 * files, several seconds), although the windows follow from the files' bytes alone. So the
 * descriptors of the windows (no rolls) and the list of skipped files are stored under a key of
 * every file's content hash with everything else that shapes the windows (roll layout, window
 * length, sustain, the limits); hashing the bytes costs a tenth of parsing them. A file edited
 * in place changes its hash, so the key. Entries live in the activation cache as checksummed blobs
 * (its checks against links and torn writes apply); one that does not check is read again. Used only for strict reading (`--lenient-midi` reports what each file lost, which a
 * stored entry would not repeat).
 */
import { statSync } from 'node:fs';
import type { SkippedFile } from '../corpus/read.ts';
import type { CorpusEntry, Excerpt } from '../corpus/types.ts';
import type { RollLayout } from '../midi/roll.ts';
import type { ActivationCache } from '../model/cache.ts';
import { sha256, readUserFile } from '../util/files.ts';
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
      const stat = statSync(e.path);
      // Not a regular file (a FIFO): no cache key; reading it skips it with the reason.
      if (!stat.isFile()) return undefined;
      size = stat.size;
    } catch {
      return undefined;
    }
    if (size > l.maxMidiBytes) return undefined;
    hashes.set(e.file, sha256(readUserFile(e.path)));
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

const NAMESPACE = 'corpus';

/** The stored windows of a corpus key, or undefined (absent, or not verifying: read again). */
export function readWindows(
  cache: ActivationCache,
  key: string,
  entries: readonly CorpusEntry[],
): StoredWindows | undefined {
  const bytes = cache.getBlob(NAMESPACE, 'windows', key);
  if (!bytes) return undefined;
  try {
    const stored = JSON.parse(Buffer.from(bytes).toString('utf8')) as StoredWindows;
    if (valid(stored, entries)) return stored;
  } catch {
    // Not JSON: read again.
  }
  warn(
    `activation cache ${cache.dir}: a stored list of corpus windows does not check (non-finite or foreign values under a valid checksum); the corpus is read again (said once)`,
    'corpus-windows-invalid',
  );
  return undefined;
}

/** Store the windows (through the cache's own checks: no links, atomic, a full disk a warning). */
export function writeWindows(cache: ActivationCache, key: string, stored: StoredWindows): void {
  cache.putBlob(NAMESPACE, 'windows', key, Buffer.from(JSON.stringify(stored), 'utf8'));
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
