/**
 * More MTrk chunks than the header counts: every chunk is read and the file says so. The fixture
 * (test/fixtures/midi/extra_track.mid, made byte by byte by extra_track.py) has a header counting
 * one track and a body holding two (with an unknown chunk between them); its expected note count
 * comes from a hand count and from mido on the file with its header corrected (mido itself reads
 * only as many chunks as the header counts, so on the file as it is it finds 7 of the 12 notes).
 */
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readMidiFile } from '../../src/midi/read.ts';
import { REPO, runMain, tempDir } from '../helpers/cli.ts';

const FIXTURE = join(REPO, 'test', 'fixtures', 'midi', 'extra_track.mid');
const expected = JSON.parse(
  readFileSync(join(REPO, 'test', 'fixtures', 'midi', 'extra_track.json'), 'utf8'),
) as {
  headerTracks: number;
  trackChunks: number;
  notesHandCount: number;
  notesMidoAllChunks: number;
  notesMidoAsIs: number;
};

describe('a MIDI file whose header counts fewer tracks than it holds', () => {
  it('reads every track chunk: the notes of both, as mido counts them with the header corrected', () => {
    expect(expected.notesHandCount).toBe(expected.notesMidoAllChunks);
    const content = readMidiFile(FIXTURE);
    expect(content.notes.length).toBe(expected.notesMidoAllChunks);
    expect(content.notes.length).toBeGreaterThan(expected.notesMidoAsIs);
    expect(new Set(content.notes.map((n) => n.track))).toEqual(new Set([0, 1]));
    expect(content.notices).toEqual([
      'the header counts 1 track, the file holds 2 track chunks; all 2 read',
    ]);
    // The same file read leniently: the same notes, no damage.
    const lenient = readMidiFile(FIXTURE, { lenient: true });
    expect(lenient.notes.length).toBe(content.notes.length);
    expect(lenient.damage).toBeUndefined();
  });

  it('corpus info says so, in its summary and as a warning', async () => {
    const root = join(tempDir('cl-extra-'), 'corpus');
    mkdirSync(join(root, 'Someone'), { recursive: true });
    copyFileSync(FIXTURE, join(root, 'Someone', 'two.mid'));
    const json = await runMain(['corpus', 'info', root, '--json']);
    expect(json.code, json.stderr).toBe(0);
    const summary = JSON.parse(json.stdout);
    expect(summary.notes).toBe(expected.notesMidoAllChunks);
    expect(summary.notices).toEqual([
      {
        file: 'Someone/two.mid',
        reason: 'the header counts 1 track, the file holds 2 track chunks; all 2 read',
      },
    ]);
    expect(json.warnings).toEqual([
      expect.stringMatching(/Someone\/two\.mid: the header counts 1 track, the file holds 2/),
    ]);
    const text = await runMain(['corpus', 'info', root]);
    expect(text.stdout).toMatch(
      /read with a notice 1 file\(s\):\n {2}Someone\/two\.mid: the header counts 1 track/,
    );
  });
});
