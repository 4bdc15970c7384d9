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
import { fsError, isProcessAlive, onPath, sha256, writeFileInside } from '../util/files.ts';
import { assertInside, isInside } from '../util/paths.ts';
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
 * Files of the user's own in the output folder (anything the previous run's manifest does not
 * list) are kept: they are hard-linked into the new folder before the swap, so they survive it and
 * nothing is copied. A folder that exists, is not empty and was not written by concept-lens is
 * refused before the run starts (so `--out ~` cannot replace a home folder). Folders written by
 * concept-lens before manifests existed are recognised by their products.
 */
export const MANIFEST = '.concept-lens-run.json';
const MANIFEST_FORMAT = 'concept-lens-run/1';
/** What RunOutput wrote before manifests existed: these are replaced, not kept. */
const LEGACY_PRODUCTS = [
  'excerpts',
  'results.json',
  'report.html',
  'gradient.json',
  'gradient.html',
  'timeline.json',
  'timeline',
];

export interface RunManifest {
  format: string;
  committedAt: string;
  /** Every product file (path relative to the folder, `/`-separated) and its sha256. */
  products: Record<string, string>;
  /** Top-level entries of the user's own, carried over from the previous folder. */
  kept: string[];
}

export class RunOutput {
  readonly out: string;
  readonly staging: string;
  private readonly trash: string;

  constructor(out: string) {
    this.out = outputFolder(out);
    const parent = dirname(this.out);
    onPath(parent, () => mkdirSync(parent, { recursive: true }));
    recoverOutput(this.out);
    checkReplaceable(this.out);
    const name = basename(this.out);
    this.staging = join(parent, `.${name}.new-${process.pid}`);
    this.trash = join(parent, `.${name}.old-${process.pid}`);
    rmSync(this.staging, { recursive: true, force: true });
    // Named by the output folder: the staging folder beside it is an implementation detail.
    onPath(this.out, () => mkdirSync(this.staging));
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
    const kept = existsSync(this.out) ? carryOver(this.out, this.staging, products) : [];
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
      throw fsError(this.out, err);
    }
    testPause('commit-after-swap');
    if (hadOld) removeQuietly(this.trash);
  }

  /** Drop the staging folder (on failure or interruption). */
  abandon(): void {
    rmSync(this.staging, { recursive: true, force: true });
  }
}

/** The folder as given, resolved through symbolic links (the swap happens where the folder is). */
function outputFolder(out: string): string {
  const abs = resolve(out);
  if (!existsSync(abs)) return abs;
  const real = onPath(abs, () => realpathSync(abs));
  if (!lstatSync(real).isDirectory()) throw new UserError(`${out}: is a file, expected a folder`);
  if (real === sep || isInside(real, process.cwd())) {
    throw new UserError(
      `${out}: the output folder may not be the current folder or one containing it (it is replaced whole)`,
    );
  }
  return real;
}

/** Refuse a folder that the run may not replace: read-only, or holding things concept-lens did not write. */
function checkReplaceable(out: string): void {
  if (!existsSync(out)) return;
  onPath(out, () => accessSync(out, constants.W_OK));
  const entries = readdirSync(out);
  if (entries.length === 0 || entries.includes(MANIFEST)) return;
  const foreign = entries.filter((e) => !LEGACY_PRODUCTS.includes(e));
  if (foreign.length > 0) {
    const shown = foreign.slice(0, 3).join(', ') + (foreign.length > 3 ? ', ...' : '');
    throw new UserError(
      `${out}: exists and was not written by concept-lens (it holds ${shown}); the output folder is replaced whole, so give a new or empty folder`,
    );
  }
}

/** Top-level entries of the previous folder that were not its products: the user's own. */
function ownEntries(out: string): string[] {
  const entries = readdirSync(out).filter((e) => e !== MANIFEST);
  let products: Set<string>;
  try {
    const manifest = JSON.parse(readFileSync(join(out, MANIFEST), 'utf8')) as RunManifest;
    products = new Set(Object.keys(manifest.products ?? {}).map((p) => p.split('/')[0]));
  } catch {
    products = new Set(LEGACY_PRODUCTS);
  }
  return entries.filter((e) => !products.has(e));
}

/** Hard-link the user's own entries into the staging folder; new products win a name clash. */
function carryOver(out: string, staging: string, products: Record<string, string>): string[] {
  const newTop = new Set(Object.keys(products).map((p) => p.split('/')[0]));
  const kept: string[] = [];
  for (const entry of ownEntries(out)) {
    if (newTop.has(entry)) {
      warn(`${join(out, entry)}: replaced by the new run's product of that name`);
      continue;
    }
    linkTree(join(out, entry), join(staging, entry));
    kept.push(entry);
  }
  return kept;
}

function linkTree(from: string, to: string): void {
  const stat = lstatSync(from);
  if (stat.isDirectory()) {
    mkdirSync(to);
    for (const e of readdirSync(from)) linkTree(join(from, e), join(to, e));
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
