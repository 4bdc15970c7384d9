import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../util/errors.ts';
import { FileSystemError, sha256, writeFileInside } from '../util/files.ts';
import { safeSegment } from '../util/paths.ts';
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
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.path(namespace, layer, id));
    } catch (err) {
      // Absent is a miss; anything else (a directory in its place, no permission) a bad entry.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') this.stats.misses++;
      else this.stats.rejected++;
      return null;
    }
    const values = decode(bytes, id, size);
    if (values) this.stats.hits++;
    else this.stats.rejected++;
    return values;
  }

  put(namespace: string, layer: string, id: string, values: Float32Array): void {
    if (!this.writable) return;
    const path = this.path(namespace, layer, id);
    try {
      writeFileInside(this.dir, path, encode(id, values));
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
   * Other content-keyed results (TCAV nulls, mean gradients: src/tcav/null-cache.ts) stored beside
   * the activations, with the same guarantees: a checksum over key and bytes, an entry that does not
   * verify is a miss, a failed write only a warning. `kind` names a subfolder, `key` is hashed.
   */
  getBlob(namespace: string, kind: string, key: string): Uint8Array | null {
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.blobPath(namespace, kind, key));
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
      writeFileInside(this.dir, this.blobPath(namespace, kind, key), out);
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
