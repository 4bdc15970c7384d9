import { sha256 } from '../util/files.ts';

/**
 * A file of named typed arrays with a JSON header, for the retrieval index on disk:
 *   "CLRX" | u32 header bytes | 32-byte sha256 of the rest | header JSON | arrays, 8-byte aligned.
 * The checksum covers everything after it, so a truncated or corrupt file is detected and
 * rebuilt, never trusted (as the activation cache does).
 */
const MAGIC = 'CLRX';
const PREFIX = 4 + 4 + 32;

type Typed = Float32Array | Float64Array | Int32Array;
const TYPES = { f32: Float32Array, f64: Float64Array, i32: Int32Array } as const;
type TypeName = keyof typeof TYPES;

interface ArrayEntry {
  name: string;
  type: TypeName;
  length: number;
  offset: number;
}

export function encodeBundle(header: unknown, arrays: Record<string, Typed>): Buffer {
  const entries: ArrayEntry[] = [];
  let offset = 0;
  for (const [name, a] of Object.entries(arrays)) {
    const type: TypeName =
      a instanceof Float32Array ? 'f32' : a instanceof Float64Array ? 'f64' : 'i32';
    entries.push({ name, type, length: a.length, offset });
    offset += Math.ceil(a.byteLength / 8) * 8;
  }
  const json = Buffer.from(JSON.stringify({ header, arrays: entries }), 'utf8');
  const jsonPadded = Math.ceil((PREFIX + json.length) / 8) * 8 - PREFIX;
  const out = Buffer.alloc(PREFIX + jsonPadded + offset);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(jsonPadded, 4);
  json.copy(out, PREFIX);
  const body = PREFIX + jsonPadded;
  entries.forEach((e, i) => {
    const a = Object.values(arrays)[i];
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).copy(out, body + e.offset);
  });
  Buffer.from(sha256(out.subarray(PREFIX)), 'hex').copy(out, 8);
  return out;
}

/** The bundle in `bytes`, or null when they are missing, truncated or corrupt. */
export function decodeBundle(
  bytes: Buffer | null,
): { header: unknown; arrays: Record<string, Typed> } | null {
  if (!bytes) return null;
  if (bytes.length < PREFIX || bytes.toString('latin1', 0, 4) !== MAGIC) return null;
  if (sha256(bytes.subarray(PREFIX)) !== bytes.toString('hex', 8, PREFIX)) return null;
  const jsonLength = bytes.readUInt32LE(4);
  let parsed: { header: unknown; arrays: ArrayEntry[] };
  try {
    parsed = JSON.parse(bytes.toString('utf8', PREFIX, PREFIX + jsonLength).replace(/\0+$/, ''));
  } catch {
    return null;
  }
  const body = PREFIX + jsonLength;
  const arrays: Record<string, Typed> = {};
  for (const e of parsed.arrays) {
    const Ctor = TYPES[e.type];
    const a = new Ctor(e.length);
    const start = body + e.offset;
    if (start + a.byteLength > bytes.length) return null;
    // Copy into an aligned buffer of its own.
    Buffer.from(a.buffer).set(bytes.subarray(start, start + a.byteLength));
    arrays[e.name] = a;
  }
  return { header: parsed.header, arrays };
}
