import { describe, expect, it } from 'vitest';
import { MidiReadError, parseMidi } from '../../src/midi/read.ts';
import type { MidiContent } from '../../src/midi/types.ts';
import { fuzzFiles } from './generate.ts';
import { referenceDecode } from './reference.ts';

/**
 * The fuzz suite, small seeded set (the 10,000-file set is `npm run bench:fuzz`). Every mutated
 * file must be either read with exactly the notes an independent decoder (reference.ts) finds in
 * its bytes, or refused with a MidiReadError naming the reason, exactly when the decoder refuses
 * it; never any other exception. A file read whole with more track chunks than its header counts
 * must say so (`notices`); no other file may carry a notice. Hangs would hit the test timeout; memory is checked at the end.
 */
const COUNT = Number(process.env.FUZZ_COUNT ?? 600);
const files = fuzzFiles(COUNT, 1);

function read(bytes: Uint8Array, lenient: boolean): MidiContent | MidiReadError {
  try {
    return parseMidi(bytes, { lenient, maxSeconds: 7200 });
  } catch (err) {
    if (err instanceof MidiReadError) return err;
    throw err;
  }
}

describe(`fuzz: ${COUNT} mutated MIDI files`, () => {
  it('are read with all their notes or refused with a reason, as the reference decoder says', () => {
    const outcomes: Record<string, number> = {};
    const disagreements: string[] = [];
    let extraChunks = 0;
    for (const f of files) {
      const verdict = referenceDecode(f.bytes, 7200);
      const result = read(f.bytes, false);
      const read_ = !(result instanceof MidiReadError);
      outcomes[verdict.kind] = (outcomes[verdict.kind] ?? 0) + 1;
      if (verdict.kind === 'ok') {
        if (!read_)
          disagreements.push(
            `${f.name} ${f.mutations}: refused (${result.message}), reference reads ${verdict.notes} notes`,
          );
        else if (result.notes.length !== verdict.notes)
          disagreements.push(
            `${f.name} ${f.mutations}: ${result.notes.length} notes read, reference ${verdict.notes}`,
          );
        else if (verdict.trackChunks > verdict.headerTracks) {
          // More track chunks than the header counts: all read, and said.
          extraChunks++;
          if (!result.notices?.some((n) => n.includes(`holds ${verdict.trackChunks} track chunks`)))
            disagreements.push(
              `${f.name} ${f.mutations}: extra track chunks read without a notice`,
            );
        } else if (result.notices)
          disagreements.push(
            `${f.name} ${f.mutations}: a notice for a sound file: ${result.notices}`,
          );
      } else if (read_) {
        disagreements.push(
          `${f.name} ${f.mutations}: read ${result.notes.length} notes, reference refuses (${verdict.kind}: ${verdict.why})`,
        );
      } else {
        expect(result.message.length).toBeGreaterThan(5);
      }
    }
    expect(disagreements).toEqual([]);
    // Files with more track chunks than their header counts are among those read.
    expect(extraChunks).toBeGreaterThan(5);
    // The set exercises every outcome, including structure breaks and far-future notes.
    for (const kind of ['ok', 'structure', 'content', 'too long', 'header'])
      expect(outcomes[kind]).toBeGreaterThan(0);
  });

  it('lenient reading recovers structure breaks, saying how many notes were lost', () => {
    let recovered = 0;
    for (const f of files) {
      const verdict = referenceDecode(f.bytes, 7200);
      const result = read(f.bytes, true);
      if (verdict.kind === 'ok') {
        // A sound file reads the same either way, with no damage reported.
        expect(result).not.toBeInstanceOf(MidiReadError);
        expect((result as MidiContent).damage).toBeUndefined();
        expect((result as MidiContent).notes.length).toBe(verdict.notes);
      } else if (verdict.kind === 'structure' && !(result instanceof MidiReadError)) {
        recovered++;
        expect(result.damage?.length).toBeGreaterThan(0);
        for (const d of result.damage!) {
          expect(d.description).toMatch(/truncated|corrupt MIDI data/);
          expect(d.notesLost === null || d.notesLost >= 0).toBe(true);
        }
      }
    }
    expect(recovered).toBeGreaterThan(0);
  });

  it('stays within a memory bound', () => {
    // Everything above ran in this process: a file claiming hours or gigabytes would show here.
    expect(process.memoryUsage().rss).toBeLessThan(1.5 * 1024 ** 3);
  });
});
