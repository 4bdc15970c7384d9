/**
 * scripts/check-attack.ts finds what it is meant to find: a results.json made by hand over a MIDI
 * file written here, one with each forbidden violation (an octave displacement in the small tier, an
 * added note outside the key, a same-pitch overlap, a beat beyond its bar) and one without.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { notesToMidiBytes } from '../../src/midi/write.ts';
import { note } from '../helpers/notes.ts';
import { REPO, tempDir } from '../helpers/cli.ts';

const corpus = tempDir('cl-check-attack-');
mkdirSync(join(corpus, 'Test'));
// C major at 120 bpm in 4/4 (a bar is 2 s): C4 (0-0.5 s), E4 (0.5-1 s), G4 (1-1.5 s), then a C major
// scale and chord to make the key plain.
const notes = [
  note(60, 0, 0.5),
  note(64, 0.5, 1),
  note(67, 1, 1.5),
  ...[60, 62, 64, 65, 67, 69, 71, 72].map((p, i) => note(p, 2 + i * 0.5, 2.5 + i * 0.5)),
  ...[48, 55, 64, 72].map((p) => note(p, 6, 8)),
];
writeFileSync(join(corpus, 'Test', 'p.mid'), notesToMidiBytes(notes));

type Edit = Record<string, unknown>;
function results(edits: Edit[]): string {
  const file = join(corpus, `results-${Math.random().toString(36).slice(2)}.json`);
  const outcome = {
    success: true,
    edits: edits.length,
    predicted: 'X',
    tier: 'small',
    list: edits,
  };
  const attack = {
    attacked: [
      {
        id: 'Test/p.mid@0+400',
        composer: 'T',
        piece: 'p',
        file: 'Test/p.mid',
        start: 0,
        end: 20,
        bars: { start: 1, end: 5 },
        notes: notes.length,
        outcomes: { greedy: outcome },
      },
    ],
  };
  writeFileSync(file, JSON.stringify({ attack }));
  return file;
}

function check(file: string): { code: number | null; rows: Record<string, number> } {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'scripts/check-attack.ts', '--results', file, '--corpus', corpus],
    { cwd: REPO, encoding: 'utf8' },
  );
  const rows: Record<string, number> = {};
  for (const line of r.stdout.split('\n')) {
    const m = /^\| (.+?) \| (\d+) \|$/.exec(line);
    if (m) rows[m[1]] = Number(m[2]);
  }
  return { code: r.status, rows };
}

const bar = (b: number, beat: number) => ({ bar: b, beat, meter: '4/4' });

describe('check-attack', () => {
  it('counts each forbidden violation and fails', () => {
    const { code, rows } = check(
      results([
        // An octave displacement of C4 (small tier: forbidden).
        {
          kind: 'octave',
          text: 'move C4 at bar 1, beat 1',
          time: 0,
          bar: bar(1, 1),
          from: { pitch: 60, onset: 0, offset: 0.5 },
          to: { pitch: 72, onset: 0, offset: 0.5 },
        },
        // C♯4 added in C major, not marked chromatic.
        {
          kind: 'add',
          text: 'add C♯4',
          time: 1,
          bar: bar(1, 3),
          to: { pitch: 61, onset: 1, offset: 1.5 },
        },
        // E4 added at 0.25-0.75 s over the E4 of 0.5-1 s.
        {
          kind: 'add',
          text: 'add E4',
          time: 0.25,
          bar: bar(1, 1.5),
          to: { pitch: 64, onset: 0.25, offset: 0.75 },
        },
        // A delete at 2 s (bar 2, beat 1) printed as bar 1, beat 5.
        {
          kind: 'delete',
          text: 'delete C4 at bar 1, beat 5',
          time: 2,
          bar: bar(1, 5),
          from: { pitch: 60, onset: 2, offset: 2.5 },
        },
        // An edit placed at bar 3 although it is at 1 s (bar 1, beat 3).
        {
          kind: 'delete',
          text: 'delete G4 at bar 3, beat 3',
          time: 1,
          bar: bar(3, 3),
          from: { pitch: 67, onset: 1, offset: 1.5 },
        },
      ]),
    );
    expect(code).toBe(1);
    expect(rows['bar/beat not the file’s']).toBe(1);
    expect(rows['octave displacements, small tier']).toBe(1);
    expect(rows['added/moved note out of key, not marked']).toBe(1);
    expect(rows['same-pitch overlaps']).toBe(1);
    expect(rows['beat beyond its bar']).toBe(1);
    expect(rows['beat beyond its bar in the text']).toBe(1);
    // (Bar 1, beat 5 is the instant of bar 2, beat 1: its time matches, only its beat is wrong.)
    expect(rows['edited note not found in the file']).toBe(0);
  });

  it('passes musically small edits', () => {
    const { code, rows } = check(
      results([
        // G4 added with C4 at 0 s: in the key, no overlap, bar 1 beat 1.
        {
          kind: 'add',
          text: 'add G4 at bar 1, beat 1',
          time: 0,
          bar: bar(1, 1),
          to: { pitch: 67, onset: 0, offset: 0.5 },
        },
        // The D4 of 2.5 s (bar 2, beat 2) left out.
        {
          kind: 'delete',
          text: 'delete D4 at bar 2, beat 2',
          time: 2.5,
          bar: bar(2, 2),
          from: { pitch: 62, onset: 2.5, offset: 3 },
        },
      ]),
    );
    expect(rows['edits']).toBe(2);
    for (const k of [
      'octave displacements, small tier',
      'added/moved note out of key, not marked',
      'same-pitch overlaps',
      'beat beyond its bar',
      'bar/beat not the file’s',
      'edited note not found in the file',
    ])
      expect(rows[k], k).toBe(0);
    expect(code).toBe(0);
  });
});
