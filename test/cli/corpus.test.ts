import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeMidiFile } from '../../src/midi/write.ts';
import { runBin, tempDir } from '../helpers/cli.ts';

const tmp = tempDir('cl-corpus-cli-');

describe('corpus info on bad input', () => {
  it('a single bad MIDI file: one line naming it and the problem, exit 2', () => {
    const truncated = join(tmp, 'truncated.mid');
    writeFileSync(truncated, Buffer.from('MThd\x00\x00\x00\x06\x00\x01', 'latin1'));
    const r = runBin('corpus', 'info', truncated);
    expect(r.code).toBe(2);
    expect(r.errors).toEqual([expect.stringMatching(/truncated\.mid: .*truncated/)]);
  });

  it('a corpus with a bad file: skipped and listed, the run goes on', () => {
    const root = join(tmp, 'corpus');
    writeMidiFile(join(root, 'Bach', 'good.mid'), [
      { pitch: 60, onset: 0, offset: 1, velocity: 80, track: 0, channel: 0 },
    ]);
    writeFileSync(join(root, 'Bach', 'bad.mid'), 'not midi at all');
    const r = runBin('corpus', 'info', root, '--json');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.files).toBe(1); // readable files; the bad one is listed apart
    expect(summary.skipped).toEqual([
      { file: 'Bach/bad.mid', reason: expect.stringContaining('not a MIDI file') },
    ]);
  });
});
