import { endianness } from 'node:os';
import { npyHeader } from '../corpus/npy.ts';
import { UserError } from '../util/errors.ts';
import { readUserFile } from '../util/files.ts';

/**
 * Float `.npy` files (NumPy format 1.0/2.0, little-endian, C order) for concept banks, so that a
 * Python user reads a bank with `numpy.load`. Hand-written next to the corpus' uint8 writer
 * (src/corpus/npy.ts, whose header it shares): the format is a preamble, a dict header and raw data.
 */
export type NpyArray =
  | { descr: '<f4'; shape: number[]; data: Float32Array }
  | { descr: '<f8'; shape: number[]; data: Float64Array };

if (endianness() !== 'LE') throw new Error('concept banks are written on little-endian machines');

export function npyBytes(array: NpyArray): Uint8Array {
  const size = array.shape.reduce((a, b) => a * b, 1);
  if (size !== array.data.length)
    throw new Error(`npy: shape [${array.shape}] needs ${size} values, got ${array.data.length}`);
  const header = npyHeader(array.descr, array.shape);
  const body = new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength);
  const out = new Uint8Array(header.length + body.length);
  out.set(header, 0);
  out.set(body, header.length);
  return out;
}

/** Read a float32 or float64 `.npy` file; anything else (or a damaged file) is a UserError naming it. */
export function readNpy(path: string): NpyArray {
  const bytes = readUserFile(path);
  const bad = (why: string) => new UserError(`${path}: not a readable .npy array (${why})`);
  if (bytes.length < 10 || bytes.toString('latin1', 0, 6) !== '\x93NUMPY') throw bad('no magic');
  const major = bytes[6];
  if (major !== 1 && major !== 2) throw bad(`format version ${major}`);
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + headerLength;
  if (start > bytes.length) throw bad('truncated header');
  const header = bytes.toString('latin1', major === 1 ? 10 : 12, start);
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr !== '<f4' && descr !== '<f8') throw bad(`dtype ${descr ?? '?'}, expected <f4 or <f8`);
  if (fortran !== 'False') throw bad('Fortran order');
  if (shapeText === undefined) throw bad('no shape');
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw bad(`shape (${shapeText})`);
  const count = shape.reduce((a, b) => a * b, 1);
  const width = descr === '<f4' ? 4 : 8;
  if (bytes.length - start !== count * width)
    throw bad(`${bytes.length - start} data bytes for shape [${shape}] of ${descr}`);
  // Copy into an aligned buffer of its own (the file buffer may be pooled and unaligned).
  const buffer = new ArrayBuffer(count * width);
  new Uint8Array(buffer).set(bytes.subarray(start));
  return descr === '<f4'
    ? { descr, shape, data: new Float32Array(buffer) }
    : { descr, shape, data: new Float64Array(buffer) };
}
