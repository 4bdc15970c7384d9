/**
 * A small but real run output for the report tests: three MIDI excerpts written with the project's
 * MIDI writer into an output folder, and RunResults pointing at them, with hostile names in every
 * place a user's file can put text (concept names and descriptions, pieces, files, skipped files).
 */
import { join } from 'node:path';
import { writeMidiFile } from '../../src/midi/write.ts';
import type { Note } from '../../src/midi/types.ts';
import type { ExcerptRef, RunResults, TcavEntry } from '../../src/results/results.ts';
import { note } from '../helpers/notes.ts';

export const HOSTILE_CONCEPT = '<img src=x onerror=alert(1)>';
export const HOSTILE_PIECE = 'Sonata </script><script>alert(2)</script> & "Fugue"';

/** Alberti bass (C-G-E-G in eighths at 120 bpm) under a slow melody, 10 s. */
export function albertiNotes(): Note[] {
  const notes: Note[] = [];
  const bass = [48, 55, 52, 55];
  for (let i = 0; i < 40; i++) notes.push(note(bass[i % 4], i * 0.25, (i + 1) * 0.25, 60));
  [72, 76, 74, 72, 71, 72, 79, 77, 76, 74].forEach((p, i) => notes.push(note(p, i, i + 0.9, 96)));
  return notes;
}

/** Four-part block chords, one per second. */
export function choraleNotes(): Note[] {
  const chords = [
    [48, 64, 67, 72],
    [53, 65, 69, 72],
    [55, 62, 67, 71],
    [48, 64, 67, 72],
  ];
  return Array.from({ length: 10 }, (_, i) =>
    chords[i % 4].map((p) => note(p, i, i + 0.95, 70)),
  ).flat();
}

/** A two-octave C major scale up and down in sixteenths. */
export function scaleNotes(): Note[] {
  const steps = [0, 2, 4, 5, 7, 9, 11];
  const up = Array.from({ length: 15 }, (_, i) => 60 + 12 * Math.floor(i / 7) + steps[i % 7]);
  const line = [...up, ...up.slice(0, -1).reverse()];
  return line.map((p, i) => note(p, i * 0.125, (i + 1) * 0.125, 50 + (i % 4) * 20));
}

function tcav(
  concept: string,
  layer: string,
  target: string,
  score: number,
  significant: boolean,
  cavAccuracy: number,
  description?: string,
): TcavEntry {
  const scores = [-0.06, -0.03, 0, 0.02, 0.04, 0.03].map((d) =>
    Math.min(1, Math.max(0, score + d)),
  );
  return {
    concept,
    description,
    layer,
    target,
    score,
    std: 0.035,
    magnitude: score * 0.9,
    magnitudeStd: 0.04,
    effect: (score - 0.5) / 10,
    effectStd: 0.004,
    randomEffect: 0,
    randomEffectStd: 0.01,
    pValue: significant ? 0.0004 : 0.3,
    pValueScores: significant ? 0.001 : 0.4,
    pValueCorrected: significant ? 0.004 : 1,
    significant,
    cavAccuracy,
    cavReliable: cavAccuracy >= 0.7,
    runs: scores.length,
    randomScore: 0.5,
    randomStd: 0.06,
    scores,
  };
}

/** Writes the excerpts under `outDir` and returns results that reference them. */
export function sampleResults(outDir: string): RunResults {
  const files: [string, Note[]][] = [
    ['excerpts/nmf-layer4-01/01-Mozart-K545-bars-1-4.mid', albertiNotes()],
    ['excerpts/nmf-layer4-01/02-Bach-Chorale-bars-5-8.mid', choraleNotes()],
    ['excerpts/nmf-layer4-01/least-1-Chopin-scale.mid', scaleNotes()],
  ];
  for (const [rel, notes] of files) writeMidiFile(join(outDir, rel), notes, { name: rel });
  const ref = (
    i: number,
    composer: string,
    piece: string,
    extra: Partial<ExcerptRef> = {},
  ): ExcerptRef => ({
    composer,
    piece,
    file: `${composer}/${piece}.mid`,
    start: 12,
    end: 22,
    midi: files[i][0],
    typicality: 0.9 - i * 0.3,
    segment: 'whole',
    ...extra,
  });
  const layers = ['/layer3/Relu_1_output_0', '/layer4/Relu_1_output_0'];
  const targets = ['Bach', 'Mozart', 'Chopin'];
  const entries: TcavEntry[] = [];
  for (const layer of layers) {
    entries.push(
      tcav(
        'alberti-bass',
        layer,
        'Bach',
        0.41,
        false,
        0.93,
        'Broken chords in the left hand, lowest-highest-middle-highest.',
      ),
    );
    entries.push(tcav('alberti-bass', layer, 'Mozart', 0.86, true, 0.93));
    entries.push(tcav('alberti-bass', layer, 'Chopin', 0.22, true, 0.93));
    entries.push(
      tcav(
        HOSTILE_CONCEPT,
        layer,
        'Bach',
        0.55,
        false,
        0.61,
        'A concept whose "name" & <b>description</b> came from YAML',
      ),
    );
    entries.push(tcav(HOSTILE_CONCEPT, layer, 'Mozart', 0.5, false, 0.61));
    entries.push(tcav(HOSTILE_CONCEPT, layer, 'Chopin', 0.47, false, 0.61));
  }
  return {
    run: {
      tool: 'concept-lens',
      version: '0.1.0',
      command: 'explain',
      startedAt: '2024-05-01T10:20:30.000Z',
      seconds: 312.4,
      seed: 7,
      layers,
      targets,
      parameters: {
        runs: 6,
        concepts: [
          'alberti-bass',
          HOSTILE_CONCEPT,
          ...Array.from({ length: 30 }, (_, i) => `texture-${i}`),
        ],
        cacheKey: 'f'.repeat(120),
        discovery: { method: 'nmf', layers: ['avgpool'], conceptsCount: 4 },
      },
    },
    model: {
      path: 'models/tiny_resnet.onnx',
      sha256: 'ab'.repeat(32),
      labels: targets,
      input: {
        fps: 20,
        windowFrames: 200,
        lowPitch: 21,
        highPitch: 108,
        channels: ['frame', 'onset'],
        values: 'binary',
        layout: 'NCTP',
      },
      card: {
        name: 'tiny-resnet',
        testAccuracy: 0.734,
        testBalancedAccuracy: 0.701,
        data: 'ASAP, license CC BY-NC-SA 4.0',
      },
    },
    corpus: { name: 'asap-sample', root: '/data/asap', files: 12, pieces: 5, composers: targets },
    tcav: entries,
    concepts: [
      {
        id: 'nmf-layer4-01',
        layer: layers[1],
        method: 'nmf',
        pieces: 3,
        importance: {
          Bach: { value: -0.012, std: 0.004, significant: true },
          Mozart: { value: 0.031, std: 0.006, significant: true },
          Chopin: { value: 0.002, std: 0.005, significant: false },
        },
        excerpts: [
          ref(0, 'Mozart', 'Piano Sonata K. 545', {
            bars: { start: 1, end: 4 },
            localization: {
              rows: 4,
              cols: 4,
              values: [0, 1, 0.2, 0, 0, 0.9, 0.1, 0, 0, 0.8, 0.3, 0, 0, 0.6, 0.6, 0],
            },
          }),
          ref(1, 'Bach', HOSTILE_PIECE, {
            file: `Bach/<b>chorale</b>".mid`,
            bars: { start: 5, end: 8 },
          }),
        ],
        leastTypical: [ref(2, 'Chopin', 'Etude op. 10 no. 1', { segment: 'treble' })],
      },
    ],
    discovery: { method: 'nmf', layer: layers[1], fidelity: 0.82 },
    skipped: [
      {
        file: 'Liszt/<script>broken</script>.mid',
        reason: 'truncated: track 2 announces 900 bytes, 12 remain',
      },
    ],
  };
}
