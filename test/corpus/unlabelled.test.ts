/**
 * Unlabelled input: a single MIDI file, a flat folder of MIDI files, a manifest without composers
 * are corpora whose composer is unknown. `corpus info` reads them; commands that need labels
 * refuse them in one line (exit 2).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isUnlabelled, loadCorpus } from '../../src/corpus/manifest.ts';
import { UNKNOWN_COMPOSER } from '../../src/corpus/types.ts';
import { ConceptLens } from '../../src/lens/lens.ts';
import { writeMidiFile } from '../../src/midi/write.ts';
import { REPO, runBin, tempDir } from '../helpers/cli.ts';

const tmp = tempDir('cl-unlabelled-');

const notes = [0, 1, 2, 3].map((i) => ({
  pitch: 60 + i,
  onset: i,
  offset: i + 1,
  velocity: 80,
  track: 0,
  channel: 0,
}));
const flat = join(tmp, 'flat');
writeMidiFile(join(flat, 'b.mid'), notes);
writeMidiFile(join(flat, 'a.MID'), notes);
writeFileSync(join(flat, 'readme.txt'), 'not music');

describe('unlabelled corpora', () => {
  it('a single MIDI file is one piece of unknown composer (its folder is no attribution)', () => {
    const c = loadCorpus(join(flat, 'b.mid'));
    expect(c.entries.map((e) => [e.file, e.composer, e.piece])).toEqual([
      ['b.mid', UNKNOWN_COMPOSER, 'b'],
    ]);
    expect(isUnlabelled(c)).toBe(true);
  });

  it('a flat folder: every MIDI file a piece of unknown composer, other files ignored', () => {
    const c = loadCorpus(flat);
    expect(c.entries.map((e) => [e.file, e.composer])).toEqual([
      ['a.MID', UNKNOWN_COMPOSER],
      ['b.mid', UNKNOWN_COMPOSER],
    ]);
  });

  it('a folder with composer folders and loose files: the loose ones are of unknown composer', () => {
    const root = join(tmp, 'mixed');
    writeMidiFile(join(root, 'Bach', 'x.mid'), notes);
    writeMidiFile(join(root, 'disputed.mid'), notes);
    const c = loadCorpus(root);
    expect(c.entries.map((e) => [e.file, e.composer])).toEqual([
      ['disputed.mid', UNKNOWN_COMPOSER],
      ['Bach/x.mid', 'Bach'],
    ]);
    expect(isUnlabelled(c)).toBe(false);
  });

  it('manifests without composers: a list without composer:, a metadata.csv without a composer column', () => {
    const root = join(tmp, 'manifests');
    writeMidiFile(join(root, 'p1.mid'), notes);
    writeMidiFile(join(root, 'p2.mid'), notes);
    writeFileSync(
      join(root, 'list.yaml'),
      'name: l\nroot: .\nlayout: list\nfiles:\n  - { file: p1.mid }\n  - { file: p2.mid, composer: Chopin }\n',
    );
    expect(loadCorpus(join(root, 'list.yaml')).entries.map((e) => e.composer)).toEqual([
      UNKNOWN_COMPOSER,
      'Chopin',
    ]);
    writeFileSync(join(root, 'metadata.csv'), 'title,midi\nFirst,p1.mid\nSecond,p2.mid\n');
    writeFileSync(
      join(root, 'csv.yaml'),
      'name: c\nroot: .\nlayout: metadata-csv\ncolumns: { piece: title }\nfiles: [{ column: midi }]\n',
    );
    const c = loadCorpus(join(root, 'csv.yaml'));
    expect(c.entries.map((e) => [e.file, e.composer, e.piece])).toEqual([
      ['p1.mid', UNKNOWN_COMPOSER, 'First'],
      ['p2.mid', UNKNOWN_COMPOSER, 'Second'],
    ]);
  });

  it('the lens (TCAV, discovery, evaluation) refuses an unlabelled corpus, naming it', async () => {
    await expect(
      ConceptLens.open({
        model: join(REPO, 'models/synthetic.onnx'),
        corpus: flat,
        cacheDir: false,
      }),
    ).rejects.toThrow(
      /flat: the composers of this corpus are unknown .*needs a corpus labelled with composers/,
    );
  });

  it('corpus info reads a flat folder; tcav, model evaluate and corpus export refuse it in one line', () => {
    const info = runBin('corpus', 'info', flat, '--json');
    expect(info.code).toBe(0);
    const summary = JSON.parse(info.stdout);
    expect(summary.files).toBe(2);
    expect(Object.keys(summary.composers)).toEqual([UNKNOWN_COMPOSER]);

    const model = join(REPO, 'models/synthetic.onnx');
    for (const args of [
      [
        'tcav',
        '--model',
        model,
        '--corpus',
        flat,
        '--concepts',
        join(REPO, 'concepts/textures/alberti.yaml'),
        '--out',
        join(tmp, 'out'),
      ],
      ['model', 'evaluate', model, '--corpus', flat],
      ['corpus', 'export', flat, '--out', join(tmp, 'export')],
    ]) {
      const r = runBin(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.errors).toEqual([
        expect.stringMatching(/flat: the composers of this corpus are unknown/),
      ]);
    }
  }, 60_000);
});
