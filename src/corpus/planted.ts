import { generateTexture, type TextureName } from '../concepts/patterns/index.ts';
import type { Note } from '../midi/types.ts';
import { Rng } from '../util/random.ts';
import type { SyntheticSpec } from './synthetic.ts';

/**
 * A piece with planted ground truth for timelines: sections of given textures and lengths, each
 * played the way the synthetic corpus' composer of that texture plays it (their tempo and meter,
 * the corpus' full register and progressions), so that where each texture sounds, and whose
 * signature it is, is known to the second.
 */
export interface PlantedSection {
  texture: TextureName;
  seconds: number;
}

export interface PlantedPiece {
  notes: Note[];
  durationSeconds: number;
  sections: {
    texture: TextureName;
    /** The synthetic composer whose signature the texture is, if any. */
    composer?: string;
    start: number;
    end: number;
  }[];
}

export function plantedPiece(
  spec: SyntheticSpec,
  sections: readonly PlantedSection[],
  seed: number,
): PlantedPiece {
  const rng = new Rng(`planted/${seed}`);
  const notes: Note[] = [];
  const out: PlantedPiece['sections'] = [];
  let time = 0;
  sections.forEach((section, i) => {
    const composer = spec.composers.find((c) => c.signature === section.texture);
    const tempoRange = composer?.tempo ?? [90, 110];
    const generated = generateTexture(section.texture, {
      key: { tonic: rng.int(0, 11), mode: rng.chance(0.3) ? 'minor' : 'major' },
      progression: spec.progressions[i % spec.progressions.length],
      register: spec.registers.full,
      tempo: Math.round((tempoRange[0] + tempoRange[1]) / 2),
      beatsPerBar: composer?.meters[0] ?? 4,
      seconds: section.seconds,
      velocity: rng.int(62, 78),
      seed: rng.int(0, 2 ** 31 - 1),
      vary: true,
    });
    for (const n of generated) {
      notes.push({ ...n, onset: round(n.onset + time), offset: round(n.offset + time) });
    }
    out.push({
      texture: section.texture,
      ...(composer ? { composer: composer.name } : {}),
      start: round(time),
      end: round(time + section.seconds),
    });
    time += section.seconds;
  });
  notes.sort((a, b) => a.onset - b.onset || a.pitch - b.pitch);
  return { notes, durationSeconds: round(time), sections: out };
}

function round(t: number): number {
  return Math.round(t * 1e6) / 1e6;
}
