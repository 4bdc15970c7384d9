/**
 * `concept-lens detect` and concept examples gathered with `detect:` on a small corpus written
 * here: one piece with an Alberti bass in bar 2, and three pieces of broken chords. 4/4 at 120 bpm.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveExamples } from '../../src/concepts/examples.ts';
import { loadConcepts } from '../../src/concepts/load.ts';
import { writeMidiFile } from '../../src/midi/write.ts';
import type { Note } from '../../src/midi/types.ts';
import { runMain, tempDir } from '../helpers/cli.ts';
import { note } from '../helpers/notes.ts';

const dir = tempDir('concept-lens-detect-');
const line = (pitches: number[], dur: number, start = 0): Note[] =>
  pitches.map((p, i) => note(p, start + i * dur, start + (i + 1) * dur));

// Bar 1: a melody alone; bar 2: melody over an Alberti bass (C3 G3 E3 G3 in eighths).
const alberti = [
  ...line([72, 74, 76, 77], 0.5),
  ...line([79, 77, 76, 74], 0.5, 2),
  ...line([48, 55, 52, 55, 48, 55, 52, 55], 0.25, 2),
];
const piece = join(dir, 'alberti.mid');
writeMidiFile(piece, alberti);

describe('concept-lens detect', () => {
  it('prints per bar the textures found, and JSON with --json', async () => {
    const text = await runMain(['detect', piece]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^\s+1\s+-$/m);
    expect(text.stdout).toMatch(/^\s+2\s+alberti, broken-chords$/m);
    const json = await runMain(['detect', piece, '--bars', '2', '--json']);
    const out = JSON.parse(json.stdout);
    expect(out.bars.map((b: { bar: number }) => b.bar)).toEqual([2]);
    expect(out.bars[0].textures).toEqual(['alberti', 'broken-chords']);
    expect(out.bars[0].strength.alberti).toBeCloseTo(1, 5);
  });
  it('refuses a bad --bars with one line and exit code 2', async () => {
    const r = await runMain(['detect', piece, '--bars', '5-2']);
    expect(r.code).toBe(2);
    expect(r.errors).toEqual([
      expect.stringMatching(/^concept-lens: --bars 5-2: expected first-last/),
    ]);
    const beyond = await runMain(['detect', piece, '--bars', '9-12']);
    expect(beyond.code).toBe(2);
    expect(beyond.errors[0]).toMatch(/has 2 bars/);
  });
});

describe('concept examples gathered with detect:', () => {
  // A corpus of composer folders: three pieces with broken chords, one without.
  const corpus = join(dir, 'corpus');
  const figure = (root: number) =>
    Array.from({ length: 48 }, (_, i) => root + [0, 4, 7, 12, 7, 4][i % 6]);
  for (const [composer, name, root] of [
    ['A', 'one', 60],
    ['A', 'two', 62],
    ['B', 'three', 64],
  ] as const) {
    mkdirSync(join(corpus, composer), { recursive: true });
    writeMidiFile(join(corpus, composer, `${name}.mid`), [
      ...line(figure(root), 0.125),
      note(36, 0, 6),
    ]);
  }
  writeMidiFile(join(corpus, 'B', 'chorale.mid'), line([60, 62, 64, 65, 67, 65, 64, 62], 1));
  const yaml = (extra: string) => {
    const path = join(dir, `c${extra.length}.yaml`);
    writeFileSync(
      path,
      `name: figures\nexamples:\n  - detect: { texture: broken-chords, maxExamples: 10${extra} }\n`,
    );
    return loadConcepts([path]).concepts[0];
  };

  it('takes windows where the detector fires, spread over the pieces, the same every time', async () => {
    const ctx = { windowSeconds: 2, corpusRoot: corpus };
    const a = await resolveExamples(yaml(''), 'examples', ctx);
    const b = await resolveExamples(yaml(''), 'examples', ctx);
    expect(a.map((x) => x.id)).toEqual(b.map((x) => x.id));
    expect(new Set(a.map((x) => x.piece)).size).toBe(3);
    expect(a.every((x) => !x.file!.includes('chorale'))).toBe(true);
    // Round-robin over pieces: no piece has two windows before every piece has one.
    expect(new Set(a.slice(0, 3).map((x) => x.piece)).size).toBe(3);
    expect(a.length).toBe(9); // three whole 2 s windows in each 6 s piece
  });
  it('refuses an example set from fewer pieces than minPieces', async () => {
    await expect(
      resolveExamples(yaml(', minPieces: 4'), 'examples', { windowSeconds: 2, corpusRoot: corpus }),
    ).rejects.toThrow(/finds it in 3 piece\(s\).*minPieces is 4/);
  });
  it('needs a corpus', async () => {
    await expect(resolveExamples(yaml(''), 'examples', { windowSeconds: 2 })).rejects.toThrow(
      /detect: gathers examples from a corpus/,
    );
  });
});
