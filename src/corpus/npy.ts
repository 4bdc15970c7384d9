import { writeFileAtomic } from '../util/files.ts';

/**
 * Minimal writer of NumPy `.npy` files (format 1.0) holding uint8 arrays, for the shards the
 * Python trainer memory-maps. Hand-written: the format is a 10-byte preamble, a Python-dict
 * header padded to 64 bytes and the raw data; a dependency would be larger than this.
 */
export function writeNpyU8(path: string, shape: number[], data: Uint8Array): void {
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== data.length)
    throw new Error(`npy: shape ${shape} needs ${size} values, got ${data.length}`);
  const header = npyHeader('|u1', shape);
  const out = new Uint8Array(header.length + data.length);
  out.set(header, 0);
  out.set(data, header.length);
  writeFileAtomic(path, out);
}

export function npyHeader(descr: string, shape: number[]): Uint8Array {
  const dims = shape.join(', ') + (shape.length === 1 ? ',' : '');
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${dims}), }`;
  // Pad with spaces so that preamble + header is a multiple of 64 bytes, ending in '\n'.
  const unpadded = 10 + dict.length + 1;
  const padded = dict + ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + padded.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  out[8] = padded.length & 0xff;
  out[9] = padded.length >> 8;
  for (let i = 0; i < padded.length; i++) out[10 + i] = padded.charCodeAt(i);
  return out;
}
