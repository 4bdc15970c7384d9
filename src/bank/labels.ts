import { splitPieces } from '../corpus/split.ts';
import type { Excerpt } from '../corpus/types.ts';
import { detectPiece, isTextureName, windowTextures, type TextureName } from '../detect/index.ts';
import { spreadOverPieces } from '../lens/corpus-index.ts';
import type { ConceptLens } from '../lens/lens.ts';

/**
 * Which detector (src/detect) checks which concept, and the corpus windows a bank calibrates on.
 * A concept is covered when its name (or a known alias) is a texture the detectors name: the
 * shipped ASAP and synthetic concepts are listed below; a user concept named after a texture
 * (e.g. `name: trills`) is covered too. Concepts without a detector (a galant melody, a prelude's
 * pattern) are never called "present": pages show their rank among corpus windows, in words.
 */
const ALIASES: Record<string, TextureName> = {
  'wide-arpeggios': 'wide-arpeggios',
  arpeggio: 'wide-arpeggios',
  arpeggios: 'wide-arpeggios',
  'slow-block-chords': 'block-chords',
  'chromatic-runs': 'chromatic-runs',
  chromatic: 'chromatic-runs',
  'fugal-imitation': 'imitation',
  canon: 'imitation',
  'broken-chord-figuration': 'broken-chords',
  trill: 'trills',
};

export function detectorFor(concept: string): TextureName | undefined {
  const name = concept.toLowerCase();
  if (isTextureName(name)) return name;
  return ALIASES[name];
}

/**
 * Labels of windows by the detectors: per texture, whether it covers at least half of each window
 * (src/detect's window rule). Each file is read and detected once.
 */
export function labelWindows(
  lens: ConceptLens,
  windows: readonly Excerpt[],
  textures: readonly TextureName[],
): Map<TextureName, boolean[]> {
  const out = new Map<TextureName, boolean[]>(textures.map((t) => [t, Array(windows.length)]));
  const byFile = new Map<string, number[]>();
  windows.forEach((w, i) => {
    if (!byFile.has(w.file)) byFile.set(w.file, []);
    byFile.get(w.file)!.push(i);
  });
  for (const [file, idx] of byFile) {
    const content = lens.index.content(file);
    const piece = detectPiece(content.notes, content.timeMap, textures);
    for (const i of idx) {
      const w = windowTextures(piece, windows[i].start, windows[i].end);
      for (const t of textures) out.get(t)![i] = w.present[t];
    }
  }
  return out;
}

/**
 * The windows a bank calibrates on and checks with: `count` windows of training-split pieces and
 * `count` of held-out pieces (validation and test), the model's composers only, spread over pieces
 * (pieces in seeded order, one window each, round after round). Held-out windows leave out every
 * piece a concept of the bank draws its examples from (`excluded`, piece names).
 */
export function calibrationWindows(
  lens: ConceptLens,
  options: { splitSeed: number; count: number; seed: string; excluded: ReadonlySet<string> },
): { training: Excerpt[]; heldOut: Excerpt[] } {
  const sides = splitPieces([...lens.index.entries.values()], { seed: options.splitSeed });
  const pool = lens.index.excerpts(lens.targets());
  const spread = (windows: Excerpt[], tag: string): Excerpt[] =>
    spreadOverPieces(windows, options.count, `${options.seed}/${tag}`);
  return {
    training: spread(
      pool.filter((x) => sides.get(x.piece) === 'train'),
      'training',
    ),
    heldOut: spread(
      pool.filter((x) => sides.get(x.piece) !== 'train' && !options.excluded.has(x.piece)),
      'held-out',
    ),
  };
}
