import { createHash } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { UserError } from './errors.ts';
import { assertInside } from './paths.ts';

/**
 * A file-system operation that failed on a path: a user error (one line naming the path, exit 2)
 * that keeps the errno code, so that callers which can carry on (the activation cache on a full
 * disk) can tell the cases apart.
 */
export class FileSystemError extends UserError {
  constructor(
    readonly path: string,
    readonly code: string | undefined,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'FileSystemError';
  }
}

/** Wrap an error thrown by node:fs about `path`; other errors pass through unchanged. */
export function fsError(path: string, err: unknown): unknown {
  if (err instanceof UserError) return err;
  const code = (err as NodeJS.ErrnoException)?.code;
  if (typeof code !== 'string') return err;
  return new FileSystemError(path, code, describeFsError(err));
}

/** Run a file-system operation on `path`, turning its errors into FileSystemErrors naming it. */
export function onPath<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw fsError(path, err);
  }
}

/**
 * Write a file so that readers only ever see the old or the whole new content: write a temp file
 * beside it, then rename (atomic on one file system). An interrupted run never leaves half a file.
 * File-system errors become FileSystemErrors naming the file.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  onPath(dirname(path), () => mkdirSync(dirname(path), { recursive: true }));
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw fsError(path, err);
  }
}

/** writeFileAtomic, refusing (as a bug) any path outside `root`: the one check of every write. */
export function writeFileInside(root: string, path: string, data: string | Uint8Array): void {
  writeFileAtomic(assertInside(root, path), data);
}

/**
 * Open a file for reading, refusing anything but a regular file: a FIFO (or a device) named as a
 * model, a concept, a corpus file, a cache entry or a lock would block a plain read forever, and
 * neither Ctrl-C nor a signal could stop it (the process waits inside the system call). The open
 * itself does not block (O_NONBLOCK, which does nothing to a regular file's reads). With
 * `noFollow`, a symbolic link at the name is not followed (ELOOP). Returns the open descriptor and
 * the file's size; the caller closes it.
 */
export function openRegular(
  path: string,
  options: { noFollow?: boolean } = {},
): { fd: number; size: number } {
  const flags =
    constants.O_RDONLY | constants.O_NONBLOCK | (options.noFollow ? constants.O_NOFOLLOW : 0);
  const fd = openSync(path, flags);
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory())
      throw new FileSystemError(path, 'EISDIR', 'is a folder, expected a file');
    if (!stat.isFile())
      throw new FileSystemError(
        path,
        'ENOTREG',
        'is not a regular file (a FIFO, a device or a socket); give a file',
      );
    return { fd, size: stat.size };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/** Read a file the user named; a missing, unreadable or non-regular file is a UserError naming it. */
export function readUserFile(path: string): Buffer {
  return onPath(path, () => {
    const { fd } = openRegular(path);
    try {
      return readFileSync(fd);
    } finally {
      closeSync(fd);
    }
  });
}

/**
 * The first `count` bytes of a file and its size, without reading the rest (a 1 GB file that is
 * not what it claims to be is refused after 4 bytes).
 */
export function readFileHead(path: string, count: number): { head: Buffer; size: number } {
  return onPath(path, () => {
    const { fd, size } = openRegular(path);
    try {
      const head = Buffer.alloc(Math.min(count, size));
      let at = 0;
      while (at < head.length) {
        const n = readSync(fd, head, at, head.length - at, at);
        if (n === 0) break;
        at += n;
      }
      return { head: head.subarray(0, at), size };
    } finally {
      closeSync(fd);
    }
  });
}

export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOSPC':
      return 'no space left on device';
    case 'EDQUOT':
      return 'disk quota exceeded';
    case 'EISDIR':
      return 'is a directory, expected a file';
    case 'ENOTDIR':
      return 'a parent of this path is not a directory';
    case 'EEXIST':
      return 'already exists';
    case 'ENOTEMPTY':
      return 'is a folder that is not empty';
    case 'EMFILE':
    case 'ENFILE':
      return 'too many open files';
    case 'ENAMETOOLONG':
      return 'file name too long';
    case 'ELOOP':
      return 'too many symbolic links';
    case 'EIO':
      return 'input/output error';
    default:
      return err instanceof Error ? err.message.split('\n')[0] : String(err);
  }
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** True when a process with this id runs (EPERM: it does, as another user). */
export function isProcessAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove the entries of `folder` named `<prefix><pid>` whose process is gone: temporary folders of
 * runs that were killed (process ids may be reused, so a stale folder can outlive its cleanup by a
 * while; it is never one in use).
 */
export function removeStale(folder: string, prefix: string): void {
  let items: string[];
  try {
    items = readdirSync(folder);
  } catch {
    return;
  }
  for (const item of items) {
    if (!item.startsWith(prefix)) continue;
    const pid = Number(item.slice(prefix.length));
    if (Number.isInteger(pid) && pid > 0 && !isProcessAlive(pid))
      rmSync(join(folder, item), { recursive: true, force: true });
  }
}
