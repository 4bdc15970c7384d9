import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { UserError } from '../util/errors.ts';
import {
  FileSystemError,
  fsError,
  isProcessAlive,
  onPath,
  openRegular,
  sha256,
} from '../util/files.ts';
import { Lock, tryLock } from '../util/lock.ts';
import { assertInside, isInside, safeSegment } from '../util/paths.ts';
import { warn } from '../util/warn.ts';

/**
 * Activations on disk, one file per (model, layer, excerpt), so reruns of TCAV or discovery over
 * the same corpus skip the model. Per-excerpt files keep invalidation trivial: an excerpt's entry
 * depends on nothing else. Each file carries its length, the excerpt id and a sha256 of both, so a
 * truncated, corrupt or colliding file is detected and ignored (then recomputed), never trusted.
 *
 * File layout: "CLA1" | u32 values | u32 id bytes | 32-byte sha256(id bytes + data) | id | float32 data.
 *
 * The cache is an optimisation, so its failures never fail a run: an entry that cannot be read (a
 * directory where a file should be, say) is recomputed; one that cannot be written is skipped with
 * a warning; a full, read-only or inaccessible cache folder makes the run carry on without writing
 * to the cache (one warning). Only a cache folder that is not a folder at all is a user error.
 * Every path stays inside the cache folder (names pass through safeSegment, writes are checked).
 *
 * Hostile contents (a cache folder is just files anyone with access can edit):
 * - Nothing is opened through a symbolic link: every folder below the cache root is checked with
 *   lstat before it is used, entries are read with O_NOFOLLOW, and a new entry is written to a
 *   temporary file created exclusively (O_EXCL refuses a link at its name) and renamed over the
 *   entry (a rename replaces a link, it never writes through it). An entry below a link, or one
 *   that resolves outside the root, is not read (recomputed) and not written, with one warning.
 * - Values are checked finite after the checksum: an entry of NaN or infinite values with a
 *   matching (forged) checksum is rejected and recomputed, with one warning; no score is computed
 *   from it.
 * - Concurrent runs share a cache safely without holding a lock: each entry appears whole by its
 *   rename and is validated when read, and two runs that compute the same entry write the same
 *   bytes. The cache's lock (`<cache>/.lock`, src/util/lock.ts) guards only its upkeep: removing
 *   the temporary files of runs that were killed while writing (`*.tmp-<pid>-*` of dead
 *   processes), done once per entry folder and run, waited for (a holder keeps it milliseconds).
 */
const MAGIC = 'CLA1';
const HEADER = 4 + 4 + 4 + 32;
/** Blobs: "CLB1" | u32 data bytes | u32 key bytes | 32-byte sha256(key + data) | key | data. */
const BLOB_MAGIC = 'CLB1';

export const DEFAULT_CACHE_DIR = '.cache/activations';

/** Key of the logits in the cache, next to the layers. */
export const LOGITS = '@logits';

export interface CacheStats {
  hits: number;
  misses: number;
  /** Entries found but rejected (truncated, bad checksum, wrong length or id). */
  rejected: number;
}

export class ActivationCache {
  readonly dir: string;
  readonly stats: CacheStats = { hits: 0, misses: 0, rejected: 0 };
  /** Set when writing is pointless for the rest of the run (full or read-only disk). */
  private writable = true;

  /** Entry folders already checked (no link) and swept in this run. */
  private readonly checked = new Set<string>();

  constructor(dir: string = DEFAULT_CACHE_DIR) {
    this.dir = resolve(dir);
    if (existsSync(this.dir) && !statSync(this.dir).isDirectory())
      throw new UserError(
        `${dir}: the activation cache folder is a file (give another --cache-dir, or --no-cache)`,
      );
  }

  /**
   * Folder of one model as fed by one input spec (a sidecar or flags can change the spec without
   * changing the model bytes, and with it the activations).
   */
  namespace(modelSha256: string, inputSpec: unknown): string {
    return sha256(`${modelSha256}\n${JSON.stringify(inputSpec)}`).slice(0, 32);
  }

  /** Cached values of `layer` for excerpt `id`, or null when absent or invalid. */
  get(namespace: string, layer: string, id: string, size: number): Float32Array | null {
    const path = this.path(namespace, layer, id);
    let folder: 'ok' | 'missing' | 'link';
    try {
      folder = this.safeFolder(dirname(path), false);
    } catch {
      folder = 'link'; // unreadable: a bad entry
    }
    if (folder !== 'ok') {
      if (folder === 'missing') this.stats.misses++;
      else this.stats.rejected++;
      return null;
    }
    let bytes: Buffer;
    try {
      bytes = readNoFollow(path);
    } catch (err) {
      // Absent is a miss; anything else (a directory or a link in its place, no permission) a bad entry.
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') this.stats.misses++;
      else {
        this.stats.rejected++;
        if (code === 'ELOOP') this.saySymlink(path);
      }
      return null;
    }
    const values = decode(bytes, id, size);
    if (values && firstNonFinite(values) >= 0) {
      warn(
        `activation cache ${this.dir}: an entry holds NaN or infinite values under a valid checksum (damaged or forged); it is recomputed, not used (said once)`,
        'cache-nonfinite',
      );
      this.stats.rejected++;
      return null;
    }
    if (values) this.stats.hits++;
    else this.stats.rejected++;
    return values;
  }

  put(namespace: string, layer: string, id: string, values: Float32Array): void {
    if (!this.writable) return;
    const path = this.path(namespace, layer, id);
    try {
      if (this.safeFolder(dirname(path), true) !== 'ok') return;
      writeNoFollow(this.dir, path, encode(id, values));
    } catch (err) {
      if (!(err instanceof FileSystemError)) throw err;
      if (['EISDIR', 'ENOTEMPTY', 'EEXIST'].includes(err.code ?? '')) {
        warn(
          `${err.message}: a cache entry that is not a cache file is recomputed, not stored (said once)`,
          'cache-entry',
        );
        return;
      }
      this.writable = false;
      warn(
        `activation cache ${this.dir}: ${err.message}; carrying on without writing to the cache`,
      );
    }
  }

  /**
   * True when every folder from the cache root down to `folder` is a real folder (no symbolic
   * link), creating the missing ones when `create`; false (with one warning) when a link is
   * found. The first time a folder is used in a run, temporary files of dead writers are swept.
   */
  private safeFolder(folder: string, create: boolean): 'ok' | 'missing' | 'link' {
    if (this.checked.has(folder)) return 'ok';
    const parts = relative(this.dir, folder).split(sep);
    let at = this.dir;
    for (const part of ['', ...parts]) {
      at = part ? join(at, part) : at;
      let stat;
      try {
        stat = lstatSync(at);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(at, err);
        if (!create) return 'missing';
        onPath(at, () => mkdirSync(at));
        continue;
      }
      // The root itself may be a link the user made (.cache -> /scratch); nothing below it.
      if (at !== this.dir && stat.isSymbolicLink()) {
        this.saySymlink(at);
        return 'link';
      }
      if (!stat.isDirectory()) return 'link';
    }
    if (!isInside(realpathSync(this.dir), realpathSync(folder))) {
      this.saySymlink(folder);
      return 'link';
    }
    this.checked.add(folder);
    if (create) this.sweep(folder);
    return 'ok';
  }

  private saySymlink(path: string): void {
    warn(
      `activation cache ${this.dir}: ${path} is a symbolic link (or lies outside the cache); entries there are recomputed and never written (said once)`,
      'cache-symlink',
    );
  }

  /** Remove temporary files that killed runs left in `folder`, under the cache's lock. */
  private sweep(folder: string): void {
    const lock = tryLockWaiting(join(this.dir, '.lock'), 'cache upkeep', 5000);
    if (!lock) return; // another run is sweeping: nothing is lost by not sweeping now
    try {
      for (const item of readdirSync(folder)) {
        const m = /\.tmp-(\d+)-[0-9a-z]+$/.exec(item);
        if (m && !isProcessAlive(Number(m[1]))) rmSync(join(folder, item), { force: true });
      }
    } catch {
      // Upkeep only.
    } finally {
      lock.release();
    }
  }

  /**
   * A whole file of another store kept in the cache folder (the retrieval index and its hubness
   * report: src/retrieval/index.ts), read with the activations' guarantees: through no symbolic
   * link and never outside the cache. `rel` is a path below the cache root; null when absent,
   * unreadable or behind a link (the caller rebuilds what it held).
   */
  readFile(rel: string): Buffer | null {
    const path = assertInside(this.dir, join(this.dir, rel));
    try {
      if (this.safeFolder(dirname(path), false) !== 'ok') return null;
      return readNoFollow(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ELOOP') this.saySymlink(path);
      return null;
    }
  }

  /**
   * Write such a file whole (a temporary file created exclusively, renamed over it), through no
   * link; false when a link or a foreign entry is in the way (said once). A full or read-only disk
   * throws the FileSystemError, for the caller to carry on without storing.
   */
  writeFile(rel: string, data: Uint8Array): boolean {
    const path = assertInside(this.dir, join(this.dir, rel));
    if (this.safeFolder(dirname(path), true) !== 'ok') return false;
    writeNoFollow(this.dir, path, data);
    return true;
  }

  /**
   * Other content-keyed results (TCAV nulls, mean gradients: src/tcav/null-cache.ts) stored beside
   * the activations, with the same guarantees: a checksum over key and bytes, an entry that does not
   * verify is a miss, a failed write only a warning. `kind` names a subfolder, `key` is hashed.
   */
  getBlob(namespace: string, kind: string, key: string): Uint8Array | null {
    const path = this.blobPath(namespace, kind, key);
    let bytes: Buffer;
    try {
      // Through no symbolic link, as the activations.
      if (this.safeFolder(dirname(path), false) !== 'ok') return null;
      bytes = readNoFollow(path);
    } catch {
      return null;
    }
    if (bytes.length < HEADER || bytes.toString('latin1', 0, 4) !== BLOB_MAGIC) return null;
    const count = bytes.readUInt32LE(4);
    const idLength = bytes.readUInt32LE(8);
    if (bytes.length !== HEADER + idLength + count) return null;
    const body = bytes.subarray(HEADER);
    if (body.toString('utf8', 0, idLength) !== key) return null;
    if (sha256(body) !== bytes.toString('hex', 12, HEADER)) return null;
    return Uint8Array.from(body.subarray(idLength));
  }

  putBlob(namespace: string, kind: string, key: string, data: Uint8Array): void {
    if (!this.writable) return;
    const idBytes = Buffer.from(key, 'utf8');
    const out = Buffer.alloc(HEADER + idBytes.length + data.length);
    out.write(BLOB_MAGIC, 0, 'latin1');
    out.writeUInt32LE(data.length, 4);
    out.writeUInt32LE(idBytes.length, 8);
    const body = Buffer.concat([
      idBytes,
      Buffer.from(data.buffer, data.byteOffset, data.byteLength),
    ]);
    Buffer.from(sha256(body), 'hex').copy(out, 12);
    body.copy(out, HEADER);
    try {
      const path = this.blobPath(namespace, kind, key);
      if (this.safeFolder(dirname(path), true) !== 'ok') return;
      writeNoFollow(this.dir, path, out);
    } catch (err) {
      if (!(err instanceof FileSystemError)) throw err;
      this.writable = false;
      warn(
        `activation cache ${this.dir}: ${err.message}; carrying on without writing to the cache`,
      );
    }
  }

  private blobPath(namespace: string, kind: string, key: string): string {
    return join(
      this.dir,
      namespace,
      `@${safeSegment(kind).slice(-40)}`,
      `${sha256(key).slice(0, 32)}.bin`,
    );
  }

  path(namespace: string, layer: string, id: string): string {
    const readable = safeSegment(layer).slice(-40);
    return join(
      this.dir,
      namespace,
      `${readable}-${sha256(layer).slice(0, 8)}`,
      `${sha256(id).slice(0, 32)}.f32`,
    );
  }
}

/** Read a regular file without following a symbolic link at its name (ELOOP if there is one). */
function readNoFollow(path: string): Buffer {
  const { fd } = openRegular(path, { noFollow: true });
  try {
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Write an entry whole: a temporary file beside it, created exclusively (so never through a link
 * planted at its name), then renamed over the entry.
 */
function writeNoFollow(root: string, path: string, data: Uint8Array): void {
  assertInside(root, path);
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const fd = openSync(tmp, 'wx', 0o644);
    try {
      for (let at = 0; at < data.length;) at += writeSync(fd, data, at);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw fsError(path, err);
  }
}

function firstNonFinite(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return i;
  return -1;
}

/** The lock at `path`, waiting up to `waitMs` (synchronously, in short sleeps), or null. */
function tryLockWaiting(path: string, purpose: string, waitMs: number): Lock | null {
  const deadline = Date.now() + waitMs;
  for (let delay = 5; ; delay = Math.min(2 * delay, 200)) {
    const got = tryLock(path, purpose);
    if (got instanceof Lock) return got;
    if (Date.now() > deadline) return null;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, delay);
  }
}

function encode(id: string, values: Float32Array): Uint8Array {
  const idBytes = Buffer.from(id, 'utf8');
  const data = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  const out = Buffer.alloc(HEADER + idBytes.length + data.length);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(values.length, 4);
  out.writeUInt32LE(idBytes.length, 8);
  Buffer.from(sha256(Buffer.concat([idBytes, data])), 'hex').copy(out, 12);
  idBytes.copy(out, HEADER);
  data.copy(out, HEADER + idBytes.length);
  return out;
}

function decode(bytes: Buffer, id: string, size: number): Float32Array | null {
  if (bytes.length < HEADER || bytes.toString('latin1', 0, 4) !== MAGIC) return null;
  const count = bytes.readUInt32LE(4);
  const idLength = bytes.readUInt32LE(8);
  if (count !== size || bytes.length !== HEADER + idLength + 4 * count) return null;
  const body = bytes.subarray(HEADER);
  if (body.toString('utf8', 0, idLength) !== id) return null;
  if (sha256(body) !== bytes.toString('hex', 12, HEADER)) return null;
  // Copy into an aligned buffer of its own (the file buffer may be pooled and unaligned).
  const values = new Float32Array(count);
  Buffer.from(values.buffer).set(body.subarray(idLength));
  return values;
}
