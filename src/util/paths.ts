import { isAbsolute, relative, resolve } from 'node:path';

/**
 * Names that come from inputs (a layer name inside an ONNX file, a concept, composer, piece or
 * corpus name) become parts of paths. They pass through `safeSegment`, the one rule for that, and
 * every write checks with `assertInside` that its path stays inside the folder it belongs to (the
 * run's output folder or the cache folder): see `writeFileInside` in files.ts.
 */

/**
 * One path segment made from an arbitrary name: accents dropped (`Dvořák` -> `Dvorak`), letters,
 * digits, `.`, `_` and `-` kept, anything else (separators, runs of dots, control characters,
 * spaces) replaced by one `_`, no leading dot or underscore, at most 80 characters. Different names may map to
 * the same segment: callers that need uniqueness add an index or a hash.
 */
export function safeSegment(name: string): string {
  const cleaned = name
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/\.{2,}/g, '_')
    .replace(/_{2,}/g, '_')
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
