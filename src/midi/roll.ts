/**
 * Piano rolls: the picture of the music a composer classifier sees.
 *
 * Layout of `PianoRoll.data` (documented contract, relied on by src/model):
 *   data[c * frames * pitches + t * pitches + (pitch - lowPitch)]
 * i.e. channel-major, then time frame, then pitch ascending from `lowPitch`.
 * Frame t covers [t / fps, (t + 1) / fps) seconds.
 */

export type RollChannel = 'frame' | 'onset' | 'velocity';

export interface RollLayout {
  /** Frames per second (default 20: 0.05 s per frame, as in the ISMIR 2022 paper). */
  fps: number;
  /** Lowest MIDI pitch (default 21, A0). */
  lowPitch: number;
  /** Highest MIDI pitch, inclusive (default 108, C8). */
  highPitch: number;
  /**
   * 'frame': 1 while a note sounds; 'onset': 1 on the frame where a note starts; 'velocity': the
   * note's velocity / 127 on every frame it sounds (whatever `values` says).
   */
  channels: RollChannel[];
  /** 'binary': 0/1; 'velocity': velocity / 127. */
  values: 'binary' | 'velocity';
}

export const DEFAULT_LAYOUT: RollLayout = {
  fps: 20,
  lowPitch: 21,
  highPitch: 108,
  channels: ['frame'],
  values: 'binary',
};

export function pitchCount(layout: RollLayout): number {
  return layout.highPitch - layout.lowPitch + 1;
}

export class PianoRoll {
  readonly pitches: number;

  constructor(
    readonly layout: RollLayout,
    readonly frames: number,
    readonly data: Float32Array = new Float32Array(
      layout.channels.length * frames * pitchCount(layout),
    ),
  ) {
    this.pitches = pitchCount(layout);
    if (data.length !== layout.channels.length * frames * this.pitches) {
      throw new Error(
        `PianoRoll data has ${data.length} values, expected ${layout.channels.length * frames * this.pitches}`,
      );
    }
  }

  index(channel: number, frame: number, pitch: number): number {
    return (
      channel * this.frames * this.pitches + frame * this.pitches + (pitch - this.layout.lowPitch)
    );
  }

  get(channel: number, frame: number, pitch: number): number {
    return this.data[this.index(channel, frame, pitch)];
  }

  /** Frames [start, start + frames), zero-padded where they fall outside the roll. */
  slice(start: number, frames: number): PianoRoll {
    const out = new PianoRoll(this.layout, frames);
    const P = this.pitches;
    for (let c = 0; c < this.layout.channels.length; c++) {
      const from = Math.max(0, start);
      const to = Math.min(this.frames, start + frames);
      if (to <= from) continue;
      out.data.set(
        this.data.subarray(c * this.frames * P + from * P, c * this.frames * P + to * P),
        c * frames * P + (from - start) * P,
      );
    }
    return out;
  }
}
