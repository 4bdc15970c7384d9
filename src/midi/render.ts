/**
 * Notes -> piano roll. Quantisation rule (fps = layout.fps):
 *   first frame  on  = floor(onset * fps)
 *   frames       [on, max(on + 1, round(offset * fps)))   every note lights at least one frame
 * Frame t covers [t / fps, (t + 1) / fps). Notes outside [lowPitch, highPitch] are dropped; frames
 * past the end of the roll are cut. The 'onset' channel marks frame `on` of each note. Values are
 * 1 ('binary') or velocity / 127 ('velocity'); where notes overlap, the larger value wins.
 * The 'velocity' channel holds velocity / 127 over the frames [on, off) the note lights in the frame
 * channel, whatever `values` says (a 3-channel onset/frame/velocity model reads binary onsets and
 * frames beside it); where notes of one pitch overlap, the louder wins.
 */
import { formatSeconds, limits } from '../util/limits.ts';
import { MidiReadError } from './read.ts';
import { PianoRoll, DEFAULT_LAYOUT, pitchCount, type RollLayout } from './roll.ts';
import type { Note } from './types.ts';

/** Guards floor/round against products like 2.9999999999999996 that mean 3. */
const EPS = 1e-6;

export function onsetFrame(seconds: number, fps: number): number {
  return Math.floor(seconds * fps + EPS);
}

export function offsetFrame(onset: number, offset: number, fps: number): number {
  return Math.max(onsetFrame(onset, fps) + 1, Math.round(offset * fps));
}

/** Frames of a roll that lasts `seconds` (at least 1). */
export function rollFrames(seconds: number, fps: number): number {
  return Math.max(1, Math.ceil(seconds * fps - EPS));
}

/**
 * Refuse (as a problem of the file, so that a corpus run skips and lists it) a roll that would
 * hold more than `limits().maxRollValues` values, before anything is allocated for it.
 */
export function checkRollSize(frames: number, layout: RollLayout): void {
  const values = frames * layout.channels.length * pitchCount(layout);
  const max = limits().maxRollValues;
  if (!(values <= max)) {
    throw new MidiReadError(
      `its piano roll (${formatSeconds(frames / layout.fps)} at ${layout.fps} fps) would hold ${values.toExponential(2)} values, over the limit of ${max.toExponential(2)}`,
    );
  }
}

/**
 * Render notes into a roll of `rollFrames(durationSeconds)` frames; without a duration, the roll
 * ends with the last note.
 */
export function renderRoll(
  notes: readonly Note[],
  layout: RollLayout = DEFAULT_LAYOUT,
  durationSeconds?: number,
): PianoRoll {
  const { fps, lowPitch, highPitch } = layout;
  let frames: number;
  if (durationSeconds !== undefined) {
    frames = rollFrames(durationSeconds, fps);
  } else {
    frames = 1;
    for (const n of notes) frames = Math.max(frames, offsetFrame(n.onset, n.offset, fps));
  }
  checkRollSize(frames, layout);
  const roll = new PianoRoll(layout, frames);
  const P = pitchCount(layout);
  const data = roll.data;
  const frameChannel = layout.channels.indexOf('frame');
  const onsetChannel = layout.channels.indexOf('onset');
  const velocityChannel = layout.channels.indexOf('velocity');
  const velocityValues = layout.values === 'velocity';
  for (const n of notes) {
    if (n.pitch < lowPitch || n.pitch > highPitch) continue;
    const on = onsetFrame(n.onset, fps);
    if (on >= frames || on < 0) continue;
    const off = Math.min(frames, offsetFrame(n.onset, n.offset, fps));
    const value = velocityValues ? n.velocity / 127 : 1;
    const p = n.pitch - lowPitch;
    if (frameChannel >= 0) {
      const base = frameChannel * frames * P + p;
      for (let t = on; t < off; t++) if (data[base + t * P] < value) data[base + t * P] = value;
    }
    if (onsetChannel >= 0) {
      const i = onsetChannel * frames * P + on * P + p;
      if (data[i] < value) data[i] = value;
    }
    if (velocityChannel >= 0) {
      const loudness = n.velocity / 127;
      const base = velocityChannel * frames * P + p;
      for (let t = on; t < off; t++)
        if (data[base + t * P] < loudness) data[base + t * P] = loudness;
    }
  }
  return roll;
}
