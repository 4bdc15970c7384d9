import { join } from 'node:path';
import { z } from 'zod';
import { readMidiFile } from '../midi/read.ts';
import { parseYamlFile } from '../util/yaml.ts';
import { detectPiece } from './index.ts';
import { TEXTURES, isTextureName, type TextureName } from './types.ts';

/**
 * Hand labels of textures in real bars (test/fixtures/detect/labels.yaml) and the detectors'
 * precision and recall against them. The labels were made by reading the notes (see the fixture's
 * README); this module only scores. `unsure` textures of a bar count neither way.
 */
const texture = z.string().refine(isTextureName, { message: `a texture: ${TEXTURES.join(', ')}` });
const barLabel = z
  .object({
    present: z.array(texture),
    unsure: z.array(texture).optional(),
    note: z.string(),
  })
  .strict();
export const labelFileSchema = z
  .object({
    passages: z.array(
      z
        .object({
          file: z.string(),
          half: z.enum(['dev', 'held-out']),
          bars: z.record(z.string().regex(/^\d+$/), barLabel),
        })
        .strict(),
    ),
  })
  .strict();

export type Half = 'dev' | 'held-out';

export interface LabelledBar {
  file: string;
  half: Half;
  bar: number;
  present: Set<TextureName>;
  unsure: Set<TextureName>;
  note: string;
}

export function readLabels(path: string): LabelledBar[] {
  const doc = parseYamlFile(path, labelFileSchema);
  const out: LabelledBar[] = [];
  for (const p of doc.passages)
    for (const [bar, l] of Object.entries(p.bars))
      out.push({
        file: p.file,
        half: p.half,
        bar: Number(bar),
        present: new Set(l.present as TextureName[]),
        unsure: new Set((l.unsure ?? []) as TextureName[]),
        note: l.note,
      });
  return out;
}

export interface DetectorScore {
  texture: TextureName;
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  /** Labelled bars scored (unsure ones left out). */
  bars: number;
  /** NaN when the detector never fired (or nothing is labelled present). */
  precision: number;
  recall: number;
}

/** What the detectors say about every labelled bar (each file read and detected once). */
export function detectLabelledBars(
  labels: readonly LabelledBar[],
  corpusRoot: string,
): Map<LabelledBar, Set<TextureName>> {
  const out = new Map<LabelledBar, Set<TextureName>>();
  const byFile = new Map<string, LabelledBar[]>();
  for (const l of labels) byFile.set(l.file, [...(byFile.get(l.file) ?? []), l]);
  for (const [file, bars] of byFile) {
    const content = readMidiFile(join(corpusRoot, file));
    const piece = detectPiece(content.notes, content.timeMap);
    for (const l of bars) {
      const found = piece.bars.find((b) => b.bar === l.bar);
      out.set(l, new Set(TEXTURES.filter((t) => found?.textures[t])));
    }
  }
  return out;
}

export function scoreDetectors(
  labels: readonly LabelledBar[],
  detected: Map<LabelledBar, Set<TextureName>>,
): DetectorScore[] {
  return TEXTURES.map((t) => {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    let bars = 0;
    for (const l of labels) {
      if (l.unsure.has(t)) continue;
      bars++;
      const said = detected.get(l)?.has(t) ?? false;
      const truth = l.present.has(t);
      if (said && truth) tp++;
      else if (said) fp++;
      else if (truth) fn++;
    }
    return {
      texture: t,
      truePositives: tp,
      falsePositives: fp,
      falseNegatives: fn,
      bars,
      precision: tp + fp > 0 ? tp / (tp + fp) : NaN,
      recall: tp + fn > 0 ? tp / (tp + fn) : NaN,
    };
  });
}

/** The table bench:detect prints. */
export function formatScores(title: string, scores: readonly DetectorScore[]): string {
  const f = (x: number) => (Number.isNaN(x) ? '  -  ' : x.toFixed(2).padStart(5));
  const lines = [
    title,
    `${'texture'.padEnd(16)} ${'bars'.padStart(4)} ${'TP'.padStart(3)} ${'FP'.padStart(3)} ${'FN'.padStart(3)} precision recall`,
  ];
  for (const s of scores)
    lines.push(
      `${s.texture.padEnd(16)} ${String(s.bars).padStart(4)} ${String(s.truePositives).padStart(3)} ${String(s.falsePositives).padStart(3)} ${String(s.falseNegatives).padStart(3)}     ${f(s.precision)}  ${f(s.recall)}`,
    );
  return lines.join('\n');
}
