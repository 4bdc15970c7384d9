import { PianoRoll } from '../midi/roll.ts';

/**
 * ACE looks for concepts at several scales by segmenting images; for piano rolls the natural
 * segments are parts of a window in time (halves) and in pitch (bass and treble bands), with the
 * rest of the window silenced, so the model sees that part alone.
 */
export type SegmentName = 'whole' | 'first half' | 'second half' | 'bass' | 'treble';
export const SEGMENTS: readonly SegmentName[] = [
  'whole',
  'first half',
  'second half',
  'bass',
  'treble',
];

/** Middle C splits bass from treble. */
export const BASS_TREBLE_SPLIT = 60;

export interface SegmentBox {
  /** Frames [from, to) of the window. */
  frames: [number, number];
  /** MIDI pitches [low, high], inclusive. */
  pitches: [number, number];
}

export function segmentBox(
  name: SegmentName,
  frames: number,
  lowPitch: number,
  highPitch: number,
): SegmentBox {
  const half = Math.floor(frames / 2);
  switch (name) {
    case 'whole':
      return { frames: [0, frames], pitches: [lowPitch, highPitch] };
    case 'first half':
      return { frames: [0, half], pitches: [lowPitch, highPitch] };
    case 'second half':
      return { frames: [half, frames], pitches: [lowPitch, highPitch] };
    case 'bass':
      return { frames: [0, frames], pitches: [lowPitch, BASS_TREBLE_SPLIT - 1] };
    case 'treble':
      return { frames: [0, frames], pitches: [BASS_TREBLE_SPLIT, highPitch] };
  }
}

/** A copy of the roll with everything outside the box set to 0. */
export function maskRoll(roll: PianoRoll, box: SegmentBox): PianoRoll {
  const out = new PianoRoll(roll.layout, roll.frames);
  const { lowPitch } = roll.layout;
  for (let c = 0; c < roll.layout.channels.length; c++) {
    for (let t = box.frames[0]; t < Math.min(box.frames[1], roll.frames); t++) {
      for (
        let p = Math.max(box.pitches[0], lowPitch);
        p <= Math.min(box.pitches[1], lowPitch + roll.pitches - 1);
        p++
      ) {
        const i = roll.index(c, t, p);
        out.data[i] = roll.data[i];
      }
    }
  }
  return out;
}

/** Share of the window's sounding cells that fall in the box: segments with almost nothing in them are dropped. */
export function activeShare(roll: PianoRoll, box: SegmentBox): number {
  let inside = 0;
  for (let t = box.frames[0]; t < box.frames[1]; t++) {
    for (let p = box.pitches[0]; p <= box.pitches[1]; p++) if (roll.get(0, t, p) > 0) inside++;
  }
  return (
    inside / Math.max(1, (box.frames[1] - box.frames[0]) * (box.pitches[1] - box.pitches[0] + 1))
  );
}
