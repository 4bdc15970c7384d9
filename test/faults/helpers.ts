/** Running the CLI as a separate process for fault tests: exit code, error lines, peak memory. */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { BIN, cliMessages, REPO, type CliRun } from '../helpers/cli.ts';

const GNU_TIME = '/usr/bin/time';
export const HAVE_GNU_TIME = existsSync(GNU_TIME);

/** Run `concept-lens args...` to completion (GNU time measures its peak memory when present). */
export function runCli(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): CliRun {
  const start = performance.now();
  const r = HAVE_GNU_TIME
    ? spawnSync(GNU_TIME, ['-f', 'peak_kb=%M', BIN, ...args], {
        encoding: 'utf8',
        cwd: options.cwd ?? REPO,
        env: { ...process.env, ...options.env },
      })
    : spawnSync(BIN, args, {
        encoding: 'utf8',
        cwd: options.cwd ?? REPO,
        env: { ...process.env, ...options.env },
      });
  const seconds = (performance.now() - start) / 1000;
  let stderr = r.stderr;
  let peakMb: number | undefined;
  const m = /peak_kb=(\d+)\s*$/.exec(stderr);
  if (m) {
    peakMb = Number(m[1]) / 1024;
    stderr = stderr.slice(0, m.index);
  }
  stderr = stderr.replace(/^Command exited with non-zero status \d+\n/m, '');
  return {
    code: r.status,
    signal: r.signal,
    stdout: r.stdout,
    stderr,
    ...cliMessages(stderr),
    peakMb,
    seconds,
  };
}

/** Start the CLI and return the child with its stderr accumulated. */
export function startCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const child = spawn(BIN, args, {
    cwd: options.cwd ?? REPO,
    env: { ...process.env, ...options.env },
  });
  const state = { stderr: '', stdout: '' };
  child.stderr.on('data', (d) => (state.stderr += d));
  child.stdout.on('data', (d) => (state.stdout += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>(
    (r) => child.on('exit', (code, signal) => r({ code, signal, at: performance.now() })),
  );
  return { child, state, exited };
}

/** Every file below `root` with the sha256 of its content (relative `/` paths, sorted). */
export function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(root)) return out;
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else
        out[relative(root, p).split(sep).join('/')] = createHash('sha256')
          .update(readFileSync(p))
          .digest('hex');
    }
  };
  walk(root);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

/** Staging, old and partial folders that runs leave beside an output folder. */
export function leftovers(parent: string): string[] {
  return readdirSync(parent).filter((e) => /\.(new|old|partial)-\d+$|\.tmp-\d+/.test(e));
}

/** Every file below `root` (paths relative to it). */
export function allFiles(root: string): string[] {
  return Object.keys(snapshot(root));
}

/**
 * Real full and read-only file systems need a tmpfs in a private mount namespace (`unshare -m`,
 * root or user namespaces); where that is not allowed the tests that need them are skipped.
 */
export const HAVE_UNSHARE = (() => {
  try {
    const r = spawnSync(
      'unshare',
      [
        '-m',
        'sh',
        '-c',
        'd=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs "$d" && umount "$d" && rmdir "$d"',
      ],
      { encoding: 'utf8' },
    );
    return r.status === 0;
  } catch {
    return false;
  }
})();

export function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/** Peak resident memory of this process so far, MB. */
export function peakMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}
