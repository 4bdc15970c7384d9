import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCorpus } from '../../src/corpus/manifest.ts';
import { UserError } from '../../src/util/errors.ts';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'cl-corpus-'));
}

describe('loadCorpus', () => {
  it('reads a folder-per-composer layout, one piece per file', () => {
    const root = tempDir();
    for (const [composer, files] of [
      ['Bach', ['a.mid', 'sub/b.MID']],
      ['Chopin', ['c.midi', 'notes.txt']],
    ] as const) {
      for (const f of files) {
        mkdirSync(join(root, composer, f, '..'), { recursive: true });
        writeFileSync(join(root, composer, f), 'x');
      }
    }
    const corpus = loadCorpus(root);
    expect(corpus.entries.map((e) => [e.file, e.composer, e.piece])).toEqual([
      ['Bach/a.mid', 'Bach', 'Bach/a'],
      ['Bach/sub/b.MID', 'Bach', 'Bach/sub/b'],
      ['Chopin/c.midi', 'Chopin', 'Chopin/c'],
    ]);
  });

  it('reads an ASAP-style metadata.csv: performances and scores, scores once, pieces by composer and title', () => {
    const root = tempDir();
    writeFileSync(
      join(root, 'metadata.csv'),
      [
        'composer,title,folder,midi_score,midi_performance',
        'Bach,"Fugue, 846",Bach/846,Bach/846/midi_score.mid,Bach/846/A.mid',
        'Bach,"Fugue, 846",Bach/846,Bach/846/midi_score.mid,Bach/846/B.mid',
        'Haydn,Sonata,Haydn/1,Haydn/1/midi_score.mid,Haydn/1/C.mid',
        // One piece in two folders (with and without repeats): still one piece.
        'Haydn,Sonata,Haydn/1_no_repeat,Haydn/1_no_repeat/midi_score.mid,Haydn/1_no_repeat/D.mid',
      ].join('\n'),
    );
    const corpus = loadCorpus(root);
    expect(corpus.name).toBe('asap');
    expect(corpus.entries.map((e) => `${e.file}|${e.piece}|${e.kind}`)).toEqual([
      'Bach/846/A.mid|Bach/Fugue, 846|performance',
      'Bach/846/midi_score.mid|Bach/Fugue, 846|score',
      'Bach/846/B.mid|Bach/Fugue, 846|performance',
      'Haydn/1/C.mid|Haydn/Sonata|performance',
      'Haydn/1/midi_score.mid|Haydn/Sonata|score',
      'Haydn/1_no_repeat/D.mid|Haydn/Sonata|performance',
      'Haydn/1_no_repeat/midi_score.mid|Haydn/Sonata|score',
    ]);
    expect(corpus.entries[0].title).toBe('Fugue, 846');
    expect(loadCorpus(root, { composers: ['Haydn'] }).entries).toHaveLength(4);
    expect(() => loadCorpus(root, { composers: ['Mozart'] })).toThrow(/no composer named Mozart/);
  });

  it('reads a list manifest relative to its own folder', () => {
    const root = tempDir();
    writeFileSync(
      join(root, 'corpus.yaml'),
      'name: tiny\nlayout: list\nfiles:\n  - { file: x/one.mid, composer: A, piece: p1 }\n  - { file: two.mid, composer: B }\n',
    );
    const corpus = loadCorpus(root);
    expect(corpus.entries.map((e) => [e.path, e.piece])).toEqual([
      [join(root, 'x/one.mid'), 'p1'],
      [join(root, 'two.mid'), 'two'],
    ]);
  });

  it('names the file and line of a bad manifest', () => {
    const root = tempDir();
    const manifest = join(root, 'bad.yaml');
    writeFileSync(manifest, 'name: bad\nroot: .\nlayout: list\nfiles:\n  - { composer: Bach }\n');
    expect(() => loadCorpus(manifest)).toThrow(UserError);
    expect(() => loadCorpus(manifest)).toThrow(new RegExp(`^${manifest}:5: files\\[0\\]`));
    writeFileSync(manifest, 'name: bad\nlayout: [list\n');
    expect(() => loadCorpus(manifest)).toThrow(new RegExp(`^${manifest}:\\d+: `));
    writeFileSync(manifest, 'name: bad\nlayout: list\ncolour: red\n');
    expect(() => loadCorpus(manifest)).toThrow(/colour/);
  });

  it('explains a missing root or path', () => {
    const root = tempDir();
    expect(() => loadCorpus(join(root, 'nope'))).toThrow(/nope: no such file or directory/);
    const manifest = join(root, 'm.yaml');
    writeFileSync(manifest, 'name: asap\nlayout: metadata-csv\nsource: https://example.org/asap\n');
    expect(() => loadCorpus(manifest)).toThrow(/names no root folder; pass --root .*example\.org/);
  });
});
