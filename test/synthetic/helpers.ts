import { join } from 'node:path';
import {
  generateSyntheticCorpus,
  groundTruthAt,
  SYNTHETIC_SPEC,
  type SyntheticPiece,
} from '../../src/corpus/synthetic.ts';
import type { ExcerptRef } from '../../src/results/results.ts';

/** The shipped synthetic model and the ground truth of the shipped synthetic corpus. */
export const SYNTHETIC_MODEL = join(import.meta.dirname, '..', '..', 'models', 'synthetic.onnx');

const generated = generateSyntheticCorpus(SYNTHETIC_SPEC);
export const spec = generated.spec;
export const pieces = new Map<string, SyntheticPiece>(generated.pieces.map((p) => [p.id, p]));
export const signatures = Object.fromEntries(
  spec.composers.map((c) => [c.name, c.signature as string]),
);

/**
 * The texture that sounds most in the part of an excerpt where a concept lives (by the
 * generator's ground truth): the time span of the localisation cells at >= 0.5 and, for a
 * bass or treble segment, that band.
 */
export function dominantTexture(ref: ExcerptRef, windowSeconds: number): string | undefined {
  const piece = pieces.get(ref.piece);
  if (!piece) throw new Error(`no ground truth for ${ref.piece}`);
  let start = ref.start;
  let end = ref.end;
  if (ref.localization && ref.segment === 'whole') {
    const { rows, cols, values } = ref.localization;
    const active = [...Array(rows).keys()].filter((r) =>
      values.slice(r * cols, (r + 1) * cols).some((v) => v >= 0.5),
    );
    if (active.length) {
      const windowStart = ref.window?.start ?? ref.start;
      start = windowStart + (active[0] / rows) * windowSeconds;
      end = windowStart + ((active[active.length - 1] + 1) / rows) * windowSeconds;
    }
  }
  const band =
    ref.segment === 'bass'
      ? { low: 0, high: 59 }
      : ref.segment === 'treble'
        ? { low: 60, high: 127 }
        : undefined;
  return groundTruthAt(piece, start, end, band)[0]?.texture;
}
