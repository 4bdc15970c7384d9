/**
 * src/midi on the real ASAP corpus (../shared/corpora/asap, or $CONCEPT_LENS_ASAP). Skipped when absent.
 * Bar counts are those of the printed scores: WTC I Fugue in C (BWV 846) has 27 bars; the finale of
 * the "Moonlight" sonata (op. 27 no. 2) 200; Chopin's Etude op. 10 no. 3 has 77 after a one-eighth
 * pickup, which the MIDI (and so concept-lens) counts as bar 1.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readMidiFile } from '../../src/midi/read.ts';
import { secondsToBar } from '../../src/midi/timemap.ts';

const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const asap = process.env.CONCEPT_LENS_ASAP ?? resolve(repo, '../shared/corpora/asap');

describe.skipIf(!existsSync(asap))('src/midi on ASAP', () => {
  it('parses every .mid file; millions of notes in all', () => {
    const files = readdirSync(asap, { recursive: true, encoding: 'utf8' }).filter((f) =>
      f.endsWith('.mid'),
    );
    expect(files.length).toBeGreaterThan(1000);
    let notes = 0;
    const failures: string[] = [];
    for (const f of files) {
      try {
        const content = readMidiFile(join(asap, f));
        notes += content.notes.length;
        expect(content.durationSeconds).toBeGreaterThan(0);
      } catch (err) {
        failures.push(`${f}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    expect(failures).toEqual([]);
    expect(notes).toBeGreaterThan(2_000_000);
    expect(notes).toBeLessThan(10_000_000);
  });

  it.each([
    ['Bach/Fugue/bwv_846/midi_score.mid', 27, [4, 4]],
    ['Beethoven/Piano_Sonatas/14-3/midi_score.mid', 200, [4, 4]],
    ['Chopin/Etudes_op_10/3/midi_score.mid', 78, [1, 8]],
  ] as const)('%s ends in bar %i', (file, bars, [num, den]) => {
    const content = readMidiFile(join(asap, file));
    expect(content.timeMap.explicitMeter).toBe(true);
    expect([
      content.timeMap.timeSignatures[0].numerator,
      content.timeMap.timeSignatures[0].denominator,
    ]).toEqual([num, den]);
    expect(secondsToBar(content.timeMap, content.notes[content.notes.length - 1].onset).bar).toBe(
      bars,
    );
    expect(secondsToBar(content.timeMap, content.durationSeconds - 1e-6).bar).toBe(bars);
  });
});
