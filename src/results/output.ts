import {
  accessSync,
  constants,
  copyFileSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { UserError } from '../util/errors.ts';
import {
  describeFsError,
  FileSystemError,
  fsError,
  isProcessAlive,
  onPath,
  sha256,
  writeFileInside,
} from '../util/files.ts';
import { assertInside, isInside } from '../util/paths.ts';
import { acquireLockNow, type Lock } from '../util/lock.ts';
import { testPause } from '../util/test-hooks.ts';
import { warn } from '../util/warn.ts';
import type { RunResults } from './results.ts';

/**
 * The output folder of a run, replaced whole or not at all.
 *
 * Everything is written to a staging folder beside it (`.<out>.new-<pid>`). `commit()` writes a
 * manifest of the products (`.concept-lens-run.json`, every file with its sha256), then swaps the
 * folders by renames: `<out>` -> `.<out>.old-<pid>`, staging -> `<out>`, then deletes the old one.
 * So `<out>` holds the previous run or the new one, never a mix:
 * - an error or Ctrl-C before the commit drops the staging folder (`abandon()`);
 * - Ctrl-C cannot act inside the commit (it is synchronous; signal handlers run between turns);
 * - a SIGKILL (or power loss) leaves staging or old folders named with a dead process id; the next
 *   run writing to that folder removes them, and if the kill fell between the two renames (when
 *   `<out>` is briefly absent) it completes the swap from the complete staging folder.
 *
 * Files of the user's own in the output folder (any file that is not a product the previous run's
 * manifest lists with the same sha256: a product the user edited counts as theirs) are kept: they
 * are hard-linked into the new folder before the swap, so they survive it and nothing is copied;
 * one that a new product would overwrite is kept beside it as `<name>.yours` (`.yours-2`...). A
 * folder that exists, is not empty and holds no valid concept-lens manifest is refused before the
 * run starts, whatever it holds (a `results.json` or `excerpts/` of the user's own included), so
 * `--out ~` cannot replace a home folder.
 *
 * One run at a time writes a folder: the constructor takes a lock beside it (`.<out>.lock`,
 * src/util/lock.ts) and a second run on the same folder exits 2 saying so; the lock is released
 * by `commit()` and `abandon()`, and a lock left by a killed run is taken over (its process is gone).
 */
export const MANIFEST = '.concept-lens-run.json';
const MANIFEST_FORMAT = 'concept-lens-run/1';

export interface RunManifest {
  format: string;
  committedAt: string;
  /** Every product file (path relative to the folder, `/`-separated) and its sha256. */
  products: Record<string, string>;
  /** Files of the user's own (paths as above), carried over from the previous folder. */
  kept: string[];
}

export class RunOutput {
  readonly out: string;
  readonly staging: string;
  private readonly trash: string;
  private readonly lock: Lock;

  constructor(out: string) {
    this.out = outputFolder(out);
    const parent = dirname(this.out);
    onPath(parent, () => mkdirSync(parent, { recursive: true }));
    const name = basename(this.out);
    try {
      this.lock = acquireLockNow(join(parent, `.${name}.lock`), out, 'writing this output folder');
    } catch (err) {
      // A read-only or full disk is said of the output folder, not of its lock file.
      if (err instanceof FileSystemError)
        throw new FileSystemError(this.out, err.code, describeFsError({ code: err.code }));
      throw err;
    }
    try {
      testPause('output-locked');
      recoverOutput(this.out);
      checkReplaceable(this.out);
      this.staging = join(parent, `.${name}.new-${process.pid}`);
      this.trash = join(parent, `.${name}.old-${process.pid}`);
      rmSync(this.staging, { recursive: true, force: true });
      // Named by the output folder: the staging folder beside it is an implementation detail.
      onPath(this.out, () => mkdirSync(this.staging));
    } catch (err) {
      this.lock.release();
      throw err;
    }
  }

  /** Absolute path of a product inside the staging folder (`rel` as it will be inside <out>). */
  path(rel: string): string {
    return assertInside(this.staging, join(this.staging, rel));
  }

  writeResults(results: RunResults): void {
    writeFileInside(
      this.staging,
      this.path('results.json'),
      `${JSON.stringify(results, null, 1)}\n`,
    );
  }

  writeText(rel: string, text: string): void {
    writeFileInside(this.staging, this.path(rel), text);
  }

  /** Swap the staged folder in for the previous one (see the class comment). */
  commit(): void {
    const products = Object.fromEntries(
      listFiles(this.staging).map((rel) => [rel, sha256(readFileSync(join(this.staging, rel)))]),
    );
    const kept = existsSync(this.out) ? carryOver(this.out, this.staging) : [];
    const manifest: RunManifest = {
      format: MANIFEST_FORMAT,
      committedAt: new Date().toISOString(),
      products,
      kept,
    };
    // The manifest is written last: a staging folder holding one is complete.
    writeFileInside(
      this.staging,
      join(this.staging, MANIFEST),
      `${JSON.stringify(manifest, null, 1)}\n`,
    );
    testPause('commit-before-swap');
    let hadOld = false;
    if (existsSync(this.out)) {
      onPath(this.out, () => renameSync(this.out, this.trash));
      hadOld = true;
    }
    testPause('commit-between-renames');
    try {
      renameSync(this.staging, this.out);
    } catch (err) {
      if (hadOld) renameSync(this.trash, this.out);
      this.lock.release();
      throw fsError(this.out, err);
    }
    testPause('commit-after-swap');
    if (hadOld) removeQuietly(this.trash);
    this.lock.release();
  }

  /** Drop the staging folder (on failure or interruption). */
  abandon(): void {
    rmSync(this.staging, { recursive: true, force: true });
    this.lock.release();
  }
}

/** The folder as given, resolved through symbolic links (the swap happens where the folder is). */
function outputFolder(out: string): string {
  const abs = resolve(out);
  if (!existsSync(abs)) {
    if (isSymlink(abs))
      throw new UserError(`${out}: is a symbolic link to nothing; give a folder, not a link`);
    return abs;
  }
  const real = onPath(abs, () => realpathSync(abs));
  if (!lstatSync(real).isDirectory()) throw new UserError(`${out}: is a file, expected a folder`);
  if (real === sep || isInside(real, process.cwd())) {
    throw new UserError(
      `${out}: the output folder may not be the current folder or one containing it (it is replaced whole)`,
    );
  }
  return real;
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * Refuse a folder that the run may not replace: read-only, or not empty and without a valid
 * concept-lens manifest (a regular file, not a link, of the right format).
 */
function checkReplaceable(out: string): void {
  if (!existsSync(out)) return;
  onPath(out, () => accessSync(out, constants.W_OK));
  const entries = readdirSync(out);
  if (entries.length === 0) return;
  if (readManifest(out)) return;
  const shown = entries.slice(0, 3).join(', ') + (entries.length > 3 ? ', ...' : '');
  const why = entries.includes(MANIFEST)
    ? `its ${MANIFEST} is not a valid concept-lens manifest`
    : 'was not written by concept-lens';
  throw new UserError(
    `${out}: exists and ${why} (it holds ${shown}); the output folder is replaced whole, so give a new or empty folder`,
  );
}

/** The folder's manifest when it is a regular file of the right format, else undefined. */
export function readManifest(out: string): RunManifest | undefined {
  const path = join(out, MANIFEST);
  try {
    if (!lstatSync(path).isFile()) return undefined;
    const m = JSON.parse(readFileSync(path, 'utf8')) as RunManifest;
    if (m?.format !== MANIFEST_FORMAT || typeof m.products !== 'object' || m.products === null)
      return undefined;
    if (!Object.values(m.products).every((h) => typeof h === 'string')) return undefined;
    return m;
  } catch {
    return undefined;
  }
}

/**
 * Files (and links, and empty folders) of the previous folder that are not its unchanged
 * products: the user's own, `/`-separated paths relative to the folder.
 */
function ownFiles(out: string): string[] {
  const products = readManifest(out)?.products ?? {};
  const own: string[] = [];
  const walk = (dir: string) => {
    const items = readdirSync(dir, { withFileTypes: true });
    if (items.length === 0 && dir !== out) own.push(rel(dir));
    for (const e of items) {
      const path = join(dir, e.name);
      const r = rel(path);
      if (r === MANIFEST) continue;
      if (e.isDirectory()) walk(path);
      else if (!(e.isFile() && products[r] === sha256(readFileSync(path)))) own.push(r);
    }
  };
  const rel = (path: string) => relative(out, path).split(sep).join('/');
  walk(out);
  return own;
}

/**
 * Hard-link the user's own files into the staging folder. One whose path a new product takes (or
 * lies under a product file) is kept under another name: the first path segment that clashes
 * gets `.yours` (then `.yours-2`...), and a warning says where it went.
 */
function carryOver(out: string, staging: string): string[] {
  const kept: string[] = [];
  for (const file of ownFiles(out)) {
    const parts = file.split('/');
    const target = parts.slice();
    for (let i = 0; i < parts.length; i++) {
      const here = join(staging, ...target.slice(0, i + 1));
      const last = i === parts.length - 1;
      if (!existsLink(here)) break;
      if (!last && lstatSync(here).isDirectory()) continue;
      // A product (or an earlier kept file) holds this name: rename this segment.
      const base = target[i];
      for (let k = 1; ; k++) {
        target[i] = `${base}.yours${k > 1 ? `-${k}` : ''}`;
        if (!existsLink(join(staging, ...target.slice(0, i + 1)))) break;
      }
      break;
    }
    const to = join(staging, ...target);
    onPath(to, () => mkdirSync(dirname(to), { recursive: true }));
    linkEntry(join(out, file), to);
    const keptAs = target.join('/');
    if (keptAs !== file)
      warn(
        `${join(out, file)}: a file of yours where the new run writes a product; kept as ${keptAs}`,
      );
    kept.push(keptAs);
  }
  return kept;
}

function existsLink(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function linkEntry(from: string, to: string): void {
  const stat = lstatSync(from);
  if (stat.isDirectory()) {
    mkdirSync(to);
  } else if (stat.isSymbolicLink()) {
    symlinkSync(readlinkSync(from), to);
  } else if (stat.isFile()) {
    try {
      linkSync(from, to);
    } catch {
      copyFileSync(from, to); // a file system without hard links
    }
  } else {
    warn(`${from}: not a file or folder; not kept in the new output folder`);
  }
}

/** Every file below `root`, `/`-separated relative paths, sorted. */
export function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else out.push(relative(root, path).split(sep).join('/'));
    }
  };
  walk(root);
  return out.sort();
}

function removeQuietly(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
  } catch (err) {
    warn(
      `${path}: could not remove the previous run (${(err as Error).message}); remove it by hand`,
    );
  }
}

const STAGE = /^\.(.+)\.(new|old|partial)-(\d+)$/;

/**
 * Clean up after runs on `out` that were killed: staging and old folders of dead processes are
 * removed, and a swap interrupted between its two renames (`out` missing, its old folder present)
 * is completed from the staging folder when that is complete (it holds the manifest), else undone.
 */
export function recoverOutput(out: string): void {
  const parent = dirname(out);
  const name = basename(out);
  let items: string[];
  try {
    items = readdirSync(parent);
  } catch {
    return;
  }
  const dead = items
    .map((item) => ({ item, m: STAGE.exec(item) }))
    .filter(({ m }) => m && m[1] === name && !isProcessAlive(Number(m[3])))
    .map(({ item, m }) => ({ path: join(parent, item), kind: m![2], pid: Number(m![3]) }));
  if (!existsSync(out)) {
    for (const old of dead.filter((d) => d.kind === 'old')) {
      const staged = join(parent, `.${name}.new-${old.pid}`);
      const restore = existsSync(join(staged, MANIFEST)) ? staged : old.path;
      onPath(out, () => renameSync(restore, out));
      break;
    }
  }
  for (const d of dead) removeQuietly(d.path);
}
