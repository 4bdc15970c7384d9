/**
 * The key finder on the Well-Tempered Clavier in ASAP (../shared/corpora/asap, or
 * $CONCEPT_LENS_ASAP; skipped when absent): the global key of each prelude's and fugue's score MIDI
 * file against the key its BWV number gives (test/shared/wtc-keys.ts, written from the catalogue).
 * Issue 20 asks for at least 80 % exact (tonic and mode); docs/edits.md has the table
 * (`npm run bench:key`).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { estimateKey, keyName, localKeys } from '../../src/key/index.ts';
import { readMidiFile } from '../../src/midi/read.ts';
import { wtcKey, wtcPieces } from './wtc-keys.ts';

const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const asap = process.env.CONCEPT_LENS_ASAP ?? resolve(repo, '../shared/corpora/asap');

describe('the BWV table', () => {
  it('gives the keys of a few pieces every pianist knows', () => {
    expect(wtcKey(846)?.name).toBe('C major');
    expect(wtcKey(847)?.name).toBe('C minor');
    expect(wtcKey(853)?.name).toBe('E♭ minor');
    expect(wtcKey(869)?.name).toBe('B minor');
    expect(wtcKey(870)?.name).toBe('C major');
    expect(wtcKey(893)?.name).toBe('B minor');
    expect(wtcKey(845)).toBeUndefined();
    expect(wtcKey(894)).toBeUndefined();
  });
});

describe.skipIf(!existsSync(asap))('key finder on the Well-Tempered Clavier (ASAP)', () => {
  const pieces = wtcPieces(asap);

  it('finds the global key of at least 80 % of the preludes and fugues exactly', () => {
    expect(pieces.length).toBeGreaterThanOrEqual(50);
    const wrong: string[] = [];
    for (const p of pieces) {
      const notes = readMidiFile(join(p.folder, 'midi_score.mid')).notes;
      const k = estimateKey(notes)!.key;
      if (k.tonic !== p.key.tonic || k.mode !== p.key.mode)
        wrong.push(`${p.form} BWV ${p.bwv}: ${keyName(k)}, not ${p.key.name}`);
    }
    const exact = 1 - wrong.length / pieces.length;
    expect(exact, wrong.join('\n')).toBeGreaterThanOrEqual(0.8);
  });

  it('local keys end the piece on its tonic in at least 80 % of the pieces', () => {
    // A tonal piece closes in its key; Bach often ends a minor piece on the major tonic chord
    // (Picardy third), so the parallel major counts. (Openings are no test: a fugue's subject
    // enters alone and is answered in the dominant.)
    let ending = 0;
    for (const p of pieces) {
      const content = readMidiFile(join(p.folder, 'midi_score.mid'));
      const keys = localKeys(content.notes, { timeMap: content.timeMap, bars: true })!;
      if (keys.segments.at(-1)!.key.tonic === p.key.tonic) ending++;
    }
    expect(ending / pieces.length).toBeGreaterThanOrEqual(0.8);
  });
});
