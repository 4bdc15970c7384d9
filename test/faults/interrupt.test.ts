/**
 * Ctrl-C (SIGINT) at different stages of tcav, discover and explain: the process exits within a
 * second with code 130, leaves no staging folder beside the output, and the previous output is
 * untouched. The latency is from the signal to the exit of the process, measured here; the
 * machine these tests run on may be shared, so the moments are chosen where work is heaviest
 * (CAV fits, NMF, k-means, writing excerpts and the report) rather than idle waits.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/random.ts';
import { REPO, runMain, tempDir } from '../helpers/cli.ts';
import { leftovers, snapshot, startCli } from './helpers.ts';

const tmp = tempDir('cl-ctrlc-');
const MODEL = join(REPO, 'models', 'synthetic.onnx');
const CONCEPTS = [
  join(REPO, 'concepts/textures/alberti.yaml'),
  join(REPO, 'concepts/textures/stride.yaml'),
];
const rng = new Rng('ctrl-c');

interface Moment {
  command: string;
  args: string[];
  /** Stage line on stderr after which the signal is sent, and the longest extra delay (ms). */
  after: RegExp;
  jitter: number;
}

const COMMON = ['--model', MODEL, '--corpus', 'synthetic', '--no-cache'];
const MOMENTS: Moment[] = [
  {
    command: 'tcav',
    args: [...COMMON, '--concepts', ...CONCEPTS, '--random-runs', '20'],
    after: /pool: derivatives: \d+ done/, // the concepts' CAVs and their nulls, then sequential decisions
    jitter: 400,
  },
  {
    command: 'discover',
    args: [...COMMON, '--method', 'nmf', '--discovery-excerpts', '40'],
    after: /layer4: excerpts: \d+ done/, // NMF of 200 excerpts' feature maps
    jitter: 300,
  },
  {
    command: 'discover',
    args: [...COMMON, '--method', 'kmeans', '--discovery-excerpts', '20', '--random-runs', '4'],
    after: /layer3: excerpts and parts: \d+ done/, // k-means restarts
    jitter: 300,
  },
  {
    command: 'explain',
    args: [
      ...COMMON,
      '--concepts',
      ...CONCEPTS,
      '--random-runs',
      '4',
      '--set-size',
      '10',
      '--target-excerpts',
      '10',
      '--discovery-excerpts',
      '10',
      '--concepts-count',
      '4',
    ],
    after: /component weights: \d+ done/, // writing excerpts and the report
    jitter: 60,
  },
];

describe('Ctrl-C', () => {
  const previous: Record<string, Record<string, string>> = {};
  beforeAll(async () => {
    // A finished run in each output folder, which an interrupted run must leave as it is.
    for (const command of ['tcav', 'discover', 'explain']) {
      const out = join(tmp, command);
      const r = await runMain([
        command,
        '--out',
        out,
        '--model',
        MODEL,
        '--corpus',
        'synthetic',
        '--quiet',
        ...(command === 'discover' ? [] : ['--concepts', CONCEPTS[0]]),
        '--random-runs',
        '2',
        '--set-size',
        '4',
        '--target-excerpts',
        '4',
        ...(command === 'tcav' ? [] : ['--discovery-excerpts', '6', '--concepts-count', '2']),
      ]);
      expect(r.code, r.stderr).toBe(0);
      previous[command] = snapshot(out);
    }
  }, 180_000);

  for (const m of MOMENTS) {
    it(`${m.command} ${m.args.includes('kmeans') ? '(k-means) ' : ''}stops within a second, leaving nothing behind`, async () => {
      const out = join(tmp, m.command);
      const { child, state, exited } = startCli([m.command, ...m.args, '--out', out]);
      let sentAt = 0;
      await new Promise<void>((resolve, reject) => {
        const timer = setInterval(() => {
          if (child.exitCode !== null) {
            clearInterval(timer);
            reject(new Error(`finished before the moment: ${state.stderr}`));
          } else if (m.after.test(state.stderr)) {
            clearInterval(timer);
            setTimeout(
              () => {
                sentAt = performance.now();
                child.kill('SIGINT');
                resolve();
              },
              rng.int(0, m.jitter),
            );
          }
        }, 5);
      });
      const { code, at } = await exited;
      const latency = at - sentAt;
      console.log(`Ctrl-C latency, ${m.command} after ${m.after.source}: ${latency.toFixed(0)} ms`);
      expect(code, state.stderr).toBe(130);
      expect(state.stderr).toContain('interrupted');
      expect(latency, `${m.command}: ${latency.toFixed(0)} ms`).toBeLessThan(1000);
      expect(leftovers(tmp)).toEqual([]);
      expect(snapshot(out)).toEqual(previous[m.command]);
    }, 120_000);
  }
});
