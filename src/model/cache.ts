import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { sha256, writeFileAtomic } from '../util/files.ts';

/**
 * Activations on disk, one file per (model, layer, excerpt), so reruns of TCAV or discovery over
 * the same corpus skip the model. Per-excerpt files keep invalidation trivial: an excerpt's entry
 * depends on nothing else. Each file carries its length, the excerpt id and a sha256 of both, so a
 * truncated, corrupt or colliding file is detected and ignored (then recomputed), never trusted.
 *
 * File layout: "CLA1" | u32 values | u32 id bytes | 32-byte sha256(id bytes + data) | id | float32 data.
 */
const MAGIC = 'CLA1';
const HEADER = 4 + 4 + 4 + 32;

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

  constructor(dir: string = DEFAULT_CACHE_DIR) {
    this.dir = resolve(dir);
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
    } catch {
      this.stats.misses++;
      return null;
    }
    const values = decode(bytes, id, size);
    if (values) this.stats.hits++;
    else this.stats.rejected++;
    return values;
  }

  put(namespace: string, layer: string, id: string, values: Float32Array): void {
    writeFileAtomic(this.path(namespace, layer, id), encode(id, values));
  }

  path(namespace: string, layer: string, id: string): string {
    const readable = layer.replace(/[^A-Za-z0-9._-]+/g, '_').slice(-40);
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
