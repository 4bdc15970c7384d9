import {
  closeSync,
  lstatSync,
  openSync,
  readFileSync,
  readSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { UserError } from './errors.ts';
import { fsError, isProcessAlive, openRegular } from './files.ts';

/**
 * Locks between concept-lens processes, on a file beside what they guard (an output folder, a
 * concept bank) or inside it (the activation cache). Why: two runs writing one output folder would
 * each swap in their own run and one of the two would be lost without a word; two runs sweeping
 * one cache could remove each other's temporary files.
 *
 * A lock is a file created exclusively (`wx`: O_CREAT | O_EXCL, which also refuses to follow a
 * symbolic link planted at its name) holding the holder's process id, its start time (from
 * /proc, so that a reused process id is told apart), host and purpose. It is stale, and taken
 * over, when its process is gone, when the process id now belongs to another process (a different
 * start time), when it cannot be read and is older than `UNREADABLE_MS` (a holder killed between
 * creating and writing it), or when nothing can be checked (another host, no /proc) and it is
 * older than `maxAgeMs`. Taking over a stale lock goes through a second exclusive file
 * (`<lock>.break`) and re-reads the lock before removing it, so two runs that both found it stale
 * cannot remove the lock a third run has just taken.
 *
 * Every lock a process holds is removed when it exits (normally, by an error, or by Ctrl-C, which
 * exits through process.exit); a SIGKILL leaves the file, and the next run finds it stale.
 */

/** A lock file that cannot be parsed is being written for at most this long. */
const UNREADABLE_MS = 10_000;
/** Without a start time to compare (no /proc, another host), a lock older than this is stale. */
const DEFAULT_MAX_AGE_MS = 24 * 3600 * 1000;

export interface LockHolder {
  pid: number;
  /** Start time of the process, clock ticks since boot (/proc/<pid>/stat), or null. */
  start: string | null;
  host: string;
  purpose: string;
  createdAt: string;
}

/** Another run holds the lock: a user error (exit 2) naming what is locked and by whom. */
export class LockedError extends UserError {
  constructor(
    readonly path: string,
    readonly holder: LockHolder | null,
    message: string,
  ) {
    super(message);
    this.name = 'LockedError';
  }
}

const held = new Set<string>();
let exitHook = false;

export class Lock {
  private released = false;
  constructor(readonly path: string) {
    held.add(path);
    if (!exitHook) {
      exitHook = true;
      process.on('exit', () => {
        for (const p of held) removeQuietly(p);
      });
    }
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    held.delete(this.path);
    // Remove only our own lock (a lock taken over as stale after a long stop is no longer ours).
    const now = readHolder(this.path);
    if (now && now.pid === process.pid) removeQuietly(this.path);
  }
}

/** The lock at `path`, or the holder that has it (null when unreadable). */
export function tryLock(
  path: string,
  purpose: string,
  maxAgeMs = DEFAULT_MAX_AGE_MS,
): Lock | { holder: LockHolder | null } {
  for (let attempt = 0; attempt < 5; attempt++) {
    const me: LockHolder = {
      pid: process.pid,
      start: processStart(process.pid),
      host: hostname(),
      purpose,
      createdAt: new Date().toISOString(),
    };
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw fsError(path, err);
      const seen = readRaw(path);
      if (seen === null) continue; // released meanwhile: try again
      const holder = parseHolder(seen);
      if (!isStale(path, holder, maxAgeMs)) return { holder };
      breakStale(path, seen);
      continue;
    }
    try {
      writeSync(fd, `${JSON.stringify(me)}\n`);
    } catch (err) {
      // A full disk: no half-written lock left behind.
      closeSync(fd);
      removeQuietly(path);
      throw fsError(path, err);
    }
    closeSync(fd);
    return new Lock(path);
  }
  return { holder: parseHolder(readRaw(path) ?? '') };
}

/**
 * Take the lock at `path`, or throw a LockedError naming `what` (the folder the lock guards).
 * With `waitMs`, wait up to that long (polling) for the holder to finish before giving up.
 */
export async function acquireLock(
  path: string,
  what: string,
  purpose: string,
  options: { waitMs?: number; maxAgeMs?: number } = {},
): Promise<Lock> {
  const deadline = Date.now() + (options.waitMs ?? 0);
  for (let delay = 20; ; delay = Math.min(delay * 2, 500)) {
    const got = tryLock(path, purpose, options.maxAgeMs);
    if (got instanceof Lock) return got;
    if (Date.now() >= deadline) throw lockedError(path, what, got.holder);
    await new Promise((r) => setTimeout(r, delay));
  }
}

/** `acquireLock` without waiting, synchronously. */
export function acquireLockNow(path: string, what: string, purpose: string): Lock {
  const got = tryLock(path, purpose);
  if (got instanceof Lock) return got;
  throw lockedError(path, what, got.holder);
}

function lockedError(path: string, what: string, holder: LockHolder | null): LockedError {
  let kind = 'file';
  try {
    const stat = lstatSync(path);
    if (stat.isDirectory()) kind = 'a folder';
    else if (stat.isSymbolicLink()) kind = 'a symbolic link';
    else if (!stat.isFile()) kind = 'a special file';
  } catch {
    // Gone meanwhile: the message below is still right.
  }
  if (kind !== 'file')
    return new LockedError(
      path,
      null,
      `${what}: its lock ${path} is ${kind}, not a lock file of concept-lens, and cannot be removed; remove it`,
    );
  const who = holder
    ? `another concept-lens run (process ${holder.pid}${holder.host !== hostname() ? ` on ${holder.host}` : ''}, since ${holder.createdAt}, ${holder.purpose})`
    : 'another concept-lens run';
  return new LockedError(
    path,
    holder,
    `${what}: ${who} is writing it; wait for that run to finish or give another folder (a run killed with SIGKILL leaves ${path}, which the next run removes once that process is gone)`,
  );
}

function isStale(path: string, holder: LockHolder | null, maxAgeMs: number): boolean {
  const age = ageMs(path);
  if (age === null) return false; // gone meanwhile: the retry creates it
  if (!holder) return age > UNREADABLE_MS;
  if (holder.host !== hostname()) return age > maxAgeMs;
  if (!isProcessAlive(holder.pid)) return true;
  const start = processStart(holder.pid);
  if (holder.start && start) return start !== holder.start; // the id was reused
  return age > maxAgeMs;
}

/** Remove a stale lock, unless another run replaced it meanwhile (see the module comment). */
function breakStale(path: string, seen: string): void {
  const breaker = `${path}.break`;
  let fd: number;
  try {
    fd = openSync(breaker, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw fsError(breaker, err);
    // Another run is breaking it; a breaker left by a killed run is stale after a while.
    const age = ageMs(breaker);
    if (age !== null && age > UNREADABLE_MS) removeQuietly(breaker);
    return;
  }
  try {
    if (readRaw(path) === seen) removeQuietly(path);
  } finally {
    closeSync(fd);
    removeQuietly(breaker);
  }
}

/** A lock file is a line of JSON: anything longer is not one of ours. */
const MAX_LOCK_BYTES = 4096;

/**
 * The lock file's text, or null when it is gone. Read through no link, without blocking (a FIFO
 * planted at its name would hang a plain read) and at most MAX_LOCK_BYTES (a huge file planted
 * there is not read whole): anything but a small regular file reads as '' (unparseable, so judged
 * by its age).
 */
function readRaw(path: string): string | null {
  let fd: number;
  try {
    fd = openRegular(path, { noFollow: true }).fd;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? null : '';
  }
  try {
    const buffer = Buffer.alloc(MAX_LOCK_BYTES + 1);
    const n = readSync(fd, buffer, 0, buffer.length, 0);
    return n > MAX_LOCK_BYTES ? '' : buffer.toString('utf8', 0, n);
  } catch {
    return '';
  } finally {
    closeSync(fd);
  }
}

function readHolder(path: string): LockHolder | null {
  return parseHolder(readRaw(path) ?? '');
}

function parseHolder(text: string): LockHolder | null {
  try {
    const h = JSON.parse(text) as LockHolder;
    if (Number.isInteger(h.pid) && h.pid > 0 && typeof h.host === 'string') return h;
  } catch {
    // Being written, or damaged: judged by its age.
  }
  return null;
}

function ageMs(path: string): number | null {
  try {
    return Date.now() - lstatSync(path).mtimeMs;
  } catch {
    return null;
  }
}

/** Start time of a process (field 22 of /proc/<pid>/stat), or null where there is no /proc. */
export function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}
