import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tonejs from '@tonejs/midi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportConcepts } from '../../src/discovery/export.ts';
import { discover } from '../../src/discovery/run.ts';
import { ConceptLens } from '../../src/lens/lens.ts';
import type { Note } from '../../src/midi/types.ts';
import { excerptNotes, writeMidiFile } from '../../src/midi/write.ts';
import { readMidiFile } from '../../src/midi/read.ts';
import { Rng } from '../../src/util/random.ts';
import { TINY_RESNET } from '../model/fixtures.ts';

const { Midi } = tonejs;

// A small real corpus for the tiny fixture ResNet (labels Bach, Chopin, Mozart; 3.2 s windows,
// pitches 48..71): each composer a different figure, 4 pieces each, MIDI files on disk.
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cl-discover-'));
  const figures: Record<string, (t: number, rng: Rng) => Note[]> = {
    Bach: (t, rng) => [0, 2, 4, 5].map((d, i) => note(55 + d + rng.int(0, 2), t + i * 0.2, 0.2)),
    Chopin: (t, rng) => [note(50 + rng.int(0, 3), t, 0.8), note(62, t, 0.8), note(66, t, 0.8)],
    Mozart: (t, rng) => [0, 7, 4, 7].map((d, i) => note(48 + d + rng.int(0, 1), t + i * 0.2, 0.2)),
  };
  for (const [composer, figure] of Object.entries(figures)) {
    for (let p = 0; p < 4; p++) {
      const rng = new Rng(`${composer}${p}`);
      const notes: Note[] = [];
      for (let t = 0; t < 12; t += 0.8) notes.push(...figure(t, rng));
      writeMidiFile(join(dir, composer, `piece${p}.mid`), notes);
    }
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function note(pitch: number, onset: number, length: number): Note {
  return { pitch, onset, offset: onset + length, velocity: 80, track: 0, channel: 0 };
}

describe('discovery export', () => {
  for (const method of ['nmf', 'kmeans'] as const) {
    it(`${method}: every exported MIDI file opens with @tonejs/midi and holds the notes of its excerpt`, async () => {
      const lens = await ConceptLens.open({ model: TINY_RESNET, corpus: dir, cacheDir: false });
      const out = mkdtempSync(join(tmpdir(), 'cl-export-'));
      try {
        const found = await discover(lens, {
          method,
          layer: method === 'nmf' ? 'layer2' : 'layer1',
          targets: ['Bach', 'Chopin', 'Mozart'],
          conceptsCount: 3,
          excerptsPerTarget: 12,
          seed: 1,
          minPieces: 2,
          runs: 4,
          setSize: 6,
          targetExcerpts: 6,
        });
        expect(found.concepts.length).toBeGreaterThan(0);
        if (method === 'nmf') expect(found.info.fidelity).toBeGreaterThanOrEqual(0);
        const concepts = await exportConcepts(lens, found.concepts, (rel) => join(out, rel));
        let files = 0;
        for (const c of concepts) {
          expect(Object.keys(c.importance).sort()).toEqual(['Bach', 'Chopin', 'Mozart']);
          for (const ref of [...c.excerpts, ...c.leastTypical]) {
            const midi = new Midi(readFileSync(join(out, ref.midi)));
            const written = midi.tracks
              .flatMap((t) => t.notes)
              .map((n) => [n.midi, Math.round(n.time * 100)]);
            const source = readMidiFile(join(dir, ref.file)).notes;
            const window = lens.index.windows
              .get(ref.file)!
              .find((w) => w.start <= ref.start + 1e-9 && ref.end <= w.end + 1e-9)!;
            const expected = excerptNotes(source, window.start, window.end).map((n) => [
              n.pitch,
              Math.round(n.onset * 100),
            ]);
            expect(written.sort(cmp)).toEqual(expected.sort(cmp));
            expect(ref.midi).toContain(c.id);
            expect(ref.midi).toContain(ref.composer);
            files++;
            if (ref.midiLocalized) {
              const local = new Midi(readFileSync(join(out, ref.midiLocalized))).tracks.flatMap(
                (t) => t.notes,
              );
              expect(local.length).toBeGreaterThan(0);
              expect(local.length).toBeLessThan(written.length);
              files++;
            }
          }
        }
        const onDisk = readdirSync(join(out, 'excerpts'), { recursive: true }).filter((f) =>
          String(f).endsWith('.mid'),
        );
        expect(onDisk.length).toBe(files);
      } finally {
        await lens.close();
        rmSync(out, { recursive: true, force: true });
      }
    });
  }
});

function cmp(a: number[], b: number[]): number {
  return a[0] - b[0] || a[1] - b[1];
}
