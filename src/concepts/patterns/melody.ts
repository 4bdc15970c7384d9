import type { Rng } from '../../util/random.ts';
import { chordPitchClasses, pitchesIn, scalePitchClasses } from './harmony.ts';
import type { BaseParams } from './params.ts';
import { chordAt, type Timing } from './render.ts';

/** A simple tonal melody for the textures that need a line (canon, octaves). */

export interface MelodyNote {
  pitch: number;
  onset: number;
  duration: number;
  bar: number;
  beat: number;
  offBeat: boolean;
}

/** Rhythm cells in beats; each bar is filled with cells that fit. */
const CELLS: number[][] = [[1], [0.5, 0.5], [1.5, 0.5], [2], [0.5, 0.5, 1]];

/**
 * A stepwise random walk on the scale inside [low, high]: mostly steps, sometimes a third,
 * landing on a chord tone at each downbeat, turning back at the edges of the register.
 */
export function melodyLine(
  p: BaseParams,
  t: Timing,
  rng: Rng,
  low: number,
  high: number,
): MelodyNote[] {
  const scale = pitchesIn(scalePitchClasses(p.key), low, high);
  let index = Math.floor(scale.length / 2);
  let direction = rng.chance(0.5) ? 1 : -1;
  const out: MelodyNote[] = [];
  for (let bar = 0; bar < t.bars; bar++) {
    const chord = chordPitchClasses(p.key, chordAt(p.progression, bar));
    let beat = 0;
    while (beat < p.beatsPerBar - 1e-9) {
      const fitting = CELLS.filter((c) => sum(c) <= p.beatsPerBar - beat + 1e-9);
      const cell = rng.pick(fitting);
      for (const length of cell) {
        if (beat === 0) {
          index = nearestChordTone(scale, index, chord);
        } else {
          if (rng.chance(0.25)) direction = -direction;
          index += direction * (rng.chance(0.2) ? 2 : 1);
        }
        if (index < 0 || index >= scale.length) {
          direction = -direction;
          index = Math.max(0, Math.min(scale.length - 1, index + 2 * direction));
        }
        const whole = Math.abs(beat - Math.round(beat)) < 1e-9;
        out.push({
          pitch: scale[index],
          onset: bar * t.bar + beat * t.beat,
          duration: length * t.beat * 0.95,
          bar,
          beat: Math.floor(beat + 1e-9),
          offBeat: !whole,
        });
        beat += length;
      }
    }
  }
  return out;
}

function nearestChordTone(
  scale: readonly number[],
  index: number,
  chord: readonly number[],
): number {
  for (let d = 0; d < scale.length; d++) {
    for (const i of [index - d, index + d]) {
      if (i >= 0 && i < scale.length && chord.includes(scale[i] % 12)) return i;
    }
  }
  return index;
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}
