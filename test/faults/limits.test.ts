/**
 * Inputs that claim huge sizes: each gives one line and exit 2 (or, inside a corpus, a skipped
 * file with the reason), without allocating what it claims. The CLI runs in this process, and the
 * last test checks the process's peak memory: 700 MB is the test worker with onnxruntime loaded
 * plus a margin, far below what the claims would cost (the 100-hour note alone: 2.7 GB and 69 s
 * before these limits). One run goes through the real binary, with its peak memory (GNU time).
 */
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeMidiFile } from '../../src/midi/write.ts';
import { REPO, runMain, tempDir, type CliRun } from '../helpers/cli.ts';
import { writeHostileModel, SYNTHETIC_LABELS } from '../helpers/onnx-build.ts';
import { endOfTrack, midiFile, off, on, tempo, track } from '../midi/bytes.ts';
import { peakMb, runCli } from './helpers.ts';

const tmp = tempDir('cl-limits-');
const MODEL = join(REPO, 'models', 'synthetic.onnx');
const PEAK_MB = 700;

/** A 51-byte type 0 file: at 16.8 s per tick (slowest tempo, 1 tick per beat), a note `hours` in. */
function farFuture(hours: number): Uint8Array {
  const usPerBeat = 0xffffff;
  const ticks = Math.round((hours * 3600) / (usPerBeat / 1e6));
  return midiFile(0, 1, [
    track([tempo(0, usPerBeat), on(0, 60), off(1, 60), on(0, 62), off(ticks, 62), endOfTrack()]),
  ]);
}

/** Exit 2 with one error line; the reason (in it, or in the listing of bad files before it) matches. */
function expectOneLine(r: CliRun, pattern: RegExp) {
  expect(r.code, r.stderr).toBe(2);
  expect(r.errors).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
  if (r.peakMb !== undefined) expect(r.peakMb).toBeLessThan(PEAK_MB);
}

describe('limits', () => {
  it('a note 100 hours in: one line naming the limit (the binary, memory measured); in a corpus the file is skipped and listed', async () => {
    const file = join(tmp, 'far', 'A', 'far.mid');
    mkdirSync(join(tmp, 'far', 'A'), { recursive: true });
    writeFileSync(file, farFuture(100));
    expectOneLine(
      runCli(['corpus', 'info', file]),
      /far\.mid: the piece lasts 100\.0 h, over the limit of 2\.0 h/,
    );
    // In a corpus: export skips it (listed in index.json) and renders the good file only.
    writeMidiFile(join(tmp, 'far', 'B', 'good.mid'), [
      { pitch: 60, onset: 0, offset: 30, velocity: 80, track: 0, channel: 0 },
    ]);
    const r = await runMain([
      'corpus',
      'export',
      join(tmp, 'far'),
      '--out',
      join(tmp, 'far-out'),
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).skipped).toEqual([
      { file: 'A/far.mid', reason: expect.stringMatching(/over the limit/) },
    ]);
    // --max-piece-minutes raises the limit for those who need it.
    const ok = await runMain([
      'corpus',
      'info',
      file,
      '--max-piece-minutes',
      String(101 * 60),
      '--json',
    ]);
    expect(ok.code, ok.stderr).toBe(0);
  }, 120_000);

  it('a 1 GB file is not read whole: not MIDI, or MIDI over the size limit', async () => {
    for (const [name, head] of [
      ['big.mid', 'RIFF'],
      ['huge.mid', 'MThd'],
    ] as const) {
      const path = join(tmp, name);
      const fd = openSync(path, 'w');
      writeSync(fd, Buffer.from(head));
      writeSync(fd, Buffer.from([0]), 0, 1, 1024 ** 3 - 1); // sparse: takes no disk space
      closeSync(fd);
    }
    expectOneLine(
      await runMain(['corpus', 'info', join(tmp, 'big.mid')]),
      /big\.mid: not a MIDI file/,
    );
    expectOneLine(
      await runMain(['corpus', 'info', join(tmp, 'huge.mid')]),
      /huge\.mid: the file is 1024\.0 MB; MIDI files over 16\.0 MB are not read/,
    );
  }, 60_000);

  it('a window of 1e9 frames or 100,000 frames per second (flags or metadata): one line, exit 2', async () => {
    expectOneLine(
      await runMain(['model', 'inspect', MODEL, '--window-frames', '1e9']),
      /windowFrames 1000000000 is over the limit of 100000/,
    );
    expectOneLine(
      await runMain(['model', 'inspect', MODEL, '--fps', '100000']),
      /fps 100000 is over the limit of 1000/,
    );
    const meta = writeHostileModel(join(tmp, 'wide.onnx'), {
      labels: SYNTHETIC_LABELS,
      dynamicTime: true,
      input: { windowFrames: 2_000_000 },
    });
    expectOneLine(
      await runMain(['model', 'inspect', meta]),
      /wide\.onnx: input spec windowFrames 2000000 is over the limit/,
    );
    expectOneLine(
      await runMain(['model', 'inspect', meta, '--window-frames', '90000', '--fps', '1000']),
      /values per input .* over the limit of 1048576/,
    );
  }, 60_000);

  it('concepts asking for a billion examples, or a range of 1e-9 s: one line, exit 2', async () => {
    const huge = join(tmp, 'huge.yaml');
    writeFileSync(huge, 'name: huge\nexamples:\n  - pattern: alberti\n    count: 1000000000\n');
    expectOneLine(
      await runMain(['concepts', 'validate', huge]),
      /at most 1000 examples per pattern/,
    );
    const many = join(tmp, 'many.yaml');
    writeFileSync(
      many,
      `name: many\nexamples:\n${'  - pattern: alberti\n    count: 1000\n'.repeat(3)}`,
    );
    expectOneLine(
      await runMain(['concepts', 'validate', many]),
      /many\.yaml: examples yield more than 2000 examples/,
    );
    writeMidiFile(join(tmp, 'short.mid'), [
      { pitch: 60, onset: 0, offset: 1, velocity: 80, track: 0, channel: 0 },
    ]);
    const tiny = join(tmp, 'tiny.yaml');
    writeFileSync(tiny, 'name: tiny\nexamples:\n  - midi: short.mid\n    seconds: [0, 1.0e-9]\n');
    const args = ['--model', MODEL, '--corpus', 'synthetic', '--concepts', tiny, '--quiet'];
    expectOneLine(
      await runMain(['tcav', ...args, '--out', join(tmp, 'tiny-out')]),
      /tiny\.yaml: examples\[0\]: 0-1e-9 s of .*short\.mid lasts 1\.0e-9 s; a range must last at least 0\.025 s/,
    );
  }, 120_000);

  it('kept the memory of this process bounded through all of the above', () => {
    expect(peakMb()).toBeLessThan(PEAK_MB);
  });
});
