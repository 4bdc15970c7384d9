/**
 * Whole-run atomicity under kills: `explain` is killed at random moments (SIGKILL mostly, SIGINT and
 * SIGTERM too), including inside the commit, whose windows (before the swap, between its two
 * renames, after it) are widened by CONCEPT_LENS_TEST_PAUSE so that kills land there. After every
 * kill the output folder holds exactly the previous run or exactly the new one: the same files
 * with the same bytes as the previous run, or every file the new run's manifest lists with its
 * sha256 and nothing else. A SIGKILL between the renames leaves no folder for a moment; the next
 * run (here: recoverOutput, what the next run calls first) restores exactly one of the two.
 * A file of the user's own in the folder survives every run.
 *
 * A SIGKILL while the run holds the output folder's lock (`.run.lock` beside it: the first kill,
 * between the renames, always does) leaves the lock file; the next run finds its process gone,
 * takes the lock over and proceeds: a last run, to completion, checks that, and removes the lock.
 *
 * `npm test` runs KILLS=3 (each kill costs a few seconds of start-up), the first a SIGKILL between
 * the renames; `npm run test:kill` runs 50.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MANIFEST, recoverOutput, type RunManifest } from '../../src/results/output.ts';
import { Rng } from '../../src/util/random.ts';
import { REPO, runMain, tempDir } from '../helpers/cli.ts';
import { leftovers, snapshot, startCli } from './helpers.ts';

const KILLS = Number(process.env.KILLS ?? 3);
const tmp = tempDir('cl-kill-');
const out = join(tmp, 'run');
const ARGS = [
  'explain',
  '--out',
  out,
  '--concepts',
  join(REPO, 'concepts/textures/alberti.yaml'),
  '--random-runs',
  '2',
  '--set-size',
  '4',
  '--target-excerpts',
  '4',
  '--discovery-excerpts',
  '6',
  '--concepts-count',
  '3',
];
const PAUSES = 'commit-before-swap:150,commit-between-renames:400,commit-after-swap:150';

/** The folder's files, or undefined when it does not hold a complete run by its manifest. */
function completeRun(tree: Record<string, string>): RunManifest | undefined {
  if (!tree[MANIFEST]) return undefined;
  const manifest = JSON.parse(readFileSync(join(out, MANIFEST), 'utf8')) as RunManifest;
  const expected = {
    ...manifest.products,
    [MANIFEST]: tree[MANIFEST],
    'notes.txt': tree['notes.txt'],
  };
  return JSON.stringify(tree) ===
    JSON.stringify(
      Object.fromEntries(Object.entries(expected).sort(([a], [b]) => a.localeCompare(b))),
    )
    ? manifest
    : undefined;
}

describe(`kill explain at ${KILLS} random moments`, () => {
  it(
    'leaves exactly the previous run or exactly the new one, every time',
    async () => {
      const first = await runMain([...ARGS, '--quiet']);
      expect(first.code, first.stderr).toBe(0);
      writeFileSync(join(out, 'notes.txt'), 'my notes about this run');
      let previous = snapshot(out);
      expect(completeRun(previous)).toBeDefined();
      // How long a run of the binary takes (start-up included), to spread the kills over it.
      const runMs = first.seconds * 1000 + 3000;

      const rng = new Rng('kill-test');
      const tally = {
        old: 0,
        new: 0,
        recovered: 0,
        locksLeft: 0,
        kills: {} as Record<string, number>,
      };
      const lock = join(tmp, '.run.lock');
      const sigkilled: number[] = [];
      for (let k = 0; k < KILLS; k++) {
        // The first kill lands between the renames; the others anywhere, in or out of the commit.
        const signal =
          k === 0
            ? 'SIGKILL'
            : rng.pick(['SIGKILL', 'SIGKILL', 'SIGKILL', 'SIGINT', 'SIGTERM'] as const);
        const where =
          k === 0
            ? 'commit-between-renames'
            : rng.pick([
                'random',
                'random',
                'random',
                'commit-between-renames',
                'commit-before-swap',
                'commit-after-swap',
              ]);
        const { child, state, exited } = startCli([...ARGS, '--quiet'], {
          env: { CONCEPT_LENS_TEST_PAUSE: PAUSES },
        });
        if (where === 'random') {
          setTimeout(() => child.kill(signal), rng.next() * (runMs + 1000));
        } else {
          const timer = setInterval(() => {
            if (state.stderr.includes(`test pause at ${where}`)) {
              clearInterval(timer);
              setTimeout(() => child.kill(signal), rng.int(0, 100));
            }
          }, 2);
          void exited.then(() => clearInterval(timer));
        }
        await exited;
        tally.kills[`${signal}@${where}`] = (tally.kills[`${signal}@${where}`] ?? 0) + 1;
        if (existsSync(lock)) {
          // Only a SIGKILL leaves it (Ctrl-C and SIGTERM release it on the way out). A run
          // interrupted before it reached the output folder leaves the lock of an earlier
          // SIGKILL as it found it: the holder named in the file says which.
          const holder = (JSON.parse(readFileSync(lock, 'utf8')) as { pid: number }).pid;
          if (holder === child.pid) expect(signal).toBe('SIGKILL');
          else
            expect(sigkilled, `lock of process ${holder}, not killed by SIGKILL`).toContain(holder);
          tally.locksLeft++;
        } else if (k === 0) expect.fail('a SIGKILL inside the commit left no lock');
        if (signal === 'SIGKILL' && child.pid !== undefined) sigkilled.push(child.pid);
        if (!existsSync(out)) {
          // Killed between the renames: the next run completes or undoes the swap.
          expect(signal).toBe('SIGKILL');
          recoverOutput(out);
          tally.recovered++;
        }
        recoverOutput(out); // what every run does first: stale staging folders go
        expect(leftovers(tmp)).toEqual([]);
        const now = snapshot(out);
        expect(now['notes.txt']).toBe(previous['notes.txt']);
        if (JSON.stringify(now) === JSON.stringify(previous)) tally.old++;
        else {
          expect(
            completeRun(now),
            `kill ${k} (${signal} at ${where}): neither the old nor a complete new run`,
          ).toBeDefined();
          expect(now['results.json']).not.toBe(previous['results.json']);
          tally.new++;
          previous = now;
        }
      }
      console.log(
        `kill test: ${KILLS} kills, run about ${(runMs / 1000).toFixed(1)} s: ${JSON.stringify(tally)}`,
      );
      expect(tally.old + tally.new).toBe(KILLS);
      expect(tally.locksLeft).toBeGreaterThan(0);
      // The next run after the kills proceeds whatever lock they left, and leaves none.
      const last = await runMain([...ARGS, '--quiet']);
      expect(last.code, last.stderr).toBe(0);
      expect(existsSync(lock)).toBe(false);
      expect(completeRun(snapshot(out))).toBeDefined();
    },
    // The last run, to completion, after the kills: one more run of time.
    120_000 + KILLS * 30_000,
  );
});
