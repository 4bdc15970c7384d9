import type { PianoRoll } from '../midi/roll.ts';
import { UserError } from '../util/errors.ts';
import { inputItemDims, pitchCount, type InputSpec } from './spec.ts';

/**
 * Piano rolls to the model's input tensor. PianoRoll.data is [channel][frame][pitch] (see
 * src/midi/roll.ts), which is exactly one NCTP item (and one NTP item: one channel); other
 * layouts (NCPT, NTPC, NPTC, NPT) get each item's axes permuted.
 */
export function rollsToBatch(rolls: PianoRoll[], spec: InputSpec): Float32Array {
  const C = spec.channels.length;
  const T = spec.windowFrames;
  const P = pitchCount(spec);
  const item = C * T * P;
  const batch = new Float32Array(rolls.length * item);
  const { sc, st, sp } = layoutStrides(spec);
  const identity = sc === T * P && st === P && sp === 1;
  rolls.forEach((roll, n) => {
    checkRoll(roll, spec);
    const out = batch.subarray(n * item, (n + 1) * item);
    if (identity || (C === 1 && st === P && sp === 1)) {
      out.set(roll.data);
      return;
    }
    for (let c = 0; c < C; c++) {
      const base = c * T * P;
      for (let t = 0; t < T; t++)
        for (let p = 0; p < P; p++) out[c * sc + t * st + p * sp] = roll.data[base + t * P + p];
    }
  });
  return batch;
}

/**
 * The inverse of rollsToBatch for one item: values laid out as the model's input (any of the six
 * layouts) back in the roll's [channel][frame][pitch] order, e.g. an input gradient for a heat map.
 */
export function itemToRollOrder(item: Float32Array, spec: InputSpec): Float32Array {
  const C = spec.channels.length;
  const T = spec.windowFrames;
  const P = pitchCount(spec);
  if (item.length !== C * T * P)
    throw new Error(`itemToRollOrder: ${item.length} values, the input spec has ${C * T * P}`);
  const { sc, st, sp } = layoutStrides(spec);
  const out = new Float32Array(C * T * P);
  for (let c = 0; c < C; c++)
    for (let t = 0; t < T; t++)
      for (let p = 0; p < P; p++) out[(c * T + t) * P + p] = item[c * sc + t * st + p * sp];
  return out;
}

/**
 * Stride of each roll axis (channel, time, pitch) in one item of the model's input, from the
 * layout's letters (C absent: one channel, stride 0).
 */
function layoutStrides(spec: InputSpec): { sc: number; st: number; sp: number } {
  const dims = inputItemDims(spec);
  const letters = spec.layout.slice(1);
  const stride = (letter: string) => {
    const i = letters.indexOf(letter);
    return i < 0 ? 0 : dims.slice(i + 1).reduce((a, b) => a * b, 1);
  };
  return { sc: stride('C'), st: stride('T'), sp: stride('P') };
}

/** A roll rendered differently from what the model was trained on would give meaningless results. */
export function checkRoll(roll: PianoRoll, spec: InputSpec): void {
  const l = roll.layout;
  const problems: string[] = [];
  if (l.fps !== spec.fps) problems.push(`fps ${l.fps} (model: ${spec.fps})`);
  if (l.lowPitch !== spec.lowPitch || l.highPitch !== spec.highPitch) {
    problems.push(
      `pitches ${l.lowPitch}..${l.highPitch} (model: ${spec.lowPitch}..${spec.highPitch})`,
    );
  }
  if (l.channels.join(',') !== spec.channels.join(',')) {
    problems.push(`channels ${l.channels.join(',')} (model: ${spec.channels.join(',')})`);
  }
  if (l.values !== spec.values) problems.push(`values ${l.values} (model: ${spec.values})`);
  if (roll.frames !== spec.windowFrames)
    problems.push(`${roll.frames} frames (model: ${spec.windowFrames})`);
  if (problems.length > 0)
    throw new UserError(`piano roll does not match the model's input spec: ${problems.join('; ')}`);
}

/** The roll layout a model expects (to render excerpts for it). */
export function rollLayoutOf(spec: InputSpec) {
  return {
    fps: spec.fps,
    lowPitch: spec.lowPitch,
    highPitch: spec.highPitch,
    channels: [...spec.channels],
    values: spec.values,
  };
}
