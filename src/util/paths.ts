import { isAbsolute, relative, resolve } from 'node:path';

/**
 * Names that come from inputs (a layer name inside an ONNX file, a concept, composer, piece or
 * corpus name) become parts of paths. They pass through `safeSegment`, the one rule for that, and
 * every write checks with `assertInside` that its path stays inside the folder it belongs to.
 */

/**
 * One path segment made from an arbitrary name: letters, digits, `.`, `_` and `-` kept, anything
 * else (separators, `..`, control characters, spaces) replaced by `_`, no leading dot, at most
 * 80 characters. Different names may map to the same segment: callers that need uniqueness add
 * an index or a hash.
 */
export function safeSegment(name: string): string {
  const cleaned = name
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._]+/, '')
    .slice(0, 80);
  return cleaned.length === 0 ? '_' : cleaned;
}

/** True when `path` is `root` or lies below it (after resolving `..` and relative parts). */
export function isInside(root: string, path: string): boolean {
  const rel = relative(resolve(root), resolve(path));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** Throws (a bug, not a user error: names are sanitised before) when `path` leaves `root`. */
export function assertInside(root: string, path: string): string {
  if (!isInside(root, path)) {
    throw new Error(`refusing to write ${path}: outside ${resolve(root)}`);
  }
  return resolve(path);
}
