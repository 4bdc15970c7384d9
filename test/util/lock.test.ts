import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  symlinkSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireLockNow, LockedError, tryLock } from '../../src/util/lock.ts';
import { tempDir } from '../helpers/cli.ts';

/**
 * Hostile things at a lock's name (src/util/lock.ts): a live lock is respected, a dead process's is
 * taken over; a FIFO, a link to a user's file or a huge file planted there is read without hanging,
 * without following the link and without reading it whole, and is taken over once old enough,
 * never changing what a link points to; a folder that cannot be removed is named as such.
 */
const tmp = tempDir('cl-lock-');
const old = (path: string) => {
  const t = new Date(Date.now() - 60_000);
  utimesSync(path, t, t);
};

describe('a lock file', () => {
  it('is respected while its process lives, and taken over when it is gone', () => {
    const path = join(tmp, 'live.lock');
    const held = acquireLockNow(path, 'out', 'test');
    expect(() => acquireLockNow(path, 'out', 'test')).toThrow(LockedError);
    held.release();
    expect(existsSync(path)).toBe(false);
    // A lock of a process that has exited (a SIGKILL leaves it): taken over.
    const dead = spawnSync('true').pid;
    writeFileSync(path, JSON.stringify({ pid: dead, start: null, host: hostname(), purpose: 'x' }));
    const again = acquireLockNow(path, 'out', 'test');
    expect(JSON.parse(readFileSync(path, 'utf8')).pid).toBe(process.pid);
    again.release();
  });

  it('planted as a FIFO, a link or a huge file: taken over when old, nothing followed', () => {
    const fifo = join(tmp, 'fifo.lock');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    old(fifo);
    const a = tryLock(fifo, 'test'); // would hang if the FIFO were read
    expect(a).toHaveProperty('release');

    const precious = join(tmp, 'precious.txt');
    writeFileSync(precious, 'the user file');
    const link = join(tmp, 'link.lock');
    symlinkSync(precious, link);
    // The link is young: judged unreadable, so it waits (another run may be writing its lock).
    expect(tryLock(link, 'test')).toHaveProperty('holder', null);
    const stamp = new Date(Date.now() - 60_000);
    spawnSync('touch', ['-h', '-d', stamp.toISOString(), link]);
    const b = tryLock(link, 'test');
    expect(b).toHaveProperty('release');
    expect(readFileSync(precious, 'utf8')).toBe('the user file');

    const huge = join(tmp, 'huge.lock');
    writeFileSync(huge, '');
    truncateSync(huge, 2 ** 31); // sparse: 2 GiB claimed, nothing read
    old(huge);
    expect(tryLock(huge, 'test')).toHaveProperty('release');
  });

  it('a folder at its name: one line saying so', () => {
    const dir = join(tmp, 'dir.lock');
    mkdirSync(dir);
    expect(() => acquireLockNow(dir, '/x/out', 'test')).toThrow(
      /\/x\/out: its lock .*dir\.lock is a folder, not a lock file of concept-lens/,
    );
  });
});
