/** The musical data concept-lens reads from MIDI files. Times are in seconds, tempo map applied. */

export interface Note {
  /** MIDI pitch 0..127 (60 = middle C). */
  pitch: number;
  /** Seconds from the start of the file. */
  onset: number;
  /** Seconds from the start of the file; > onset. */
  offset: number;
  /** MIDI velocity 1..127. */
  velocity: number;
  /** Index of the track in the file (0 for type 0 files). */
  track: number;
  /** MIDI channel 0..15. */
  channel: number;
}

/** Sustain pedal (CC64) changes; value >= 64 is "down". */
export interface PedalEvent {
  time: number;
  down: boolean;
  channel: number;
}

export interface TempoChange {
  tick: number;
  /** Seconds at `tick`. */
  seconds: number;
  microsecondsPerBeat: number;
}

export interface TimeSignatureChange {
  tick: number;
  seconds: number;
  /** 1-based bar number that starts at `tick`. */
  bar: number;
  numerator: number;
  denominator: number;
}

/** Everything needed to turn ticks into seconds and seconds into bars and beats. */
export interface TimeMap {
  ticksPerBeat: number;
  tempos: TempoChange[];
  timeSignatures: TimeSignatureChange[];
  /**
   * True when the file has a time-signature event. Otherwise the 4/4 in `timeSignatures` is
   * assumed, and bar numbers mean little. (Performance MIDI often carries a meaningless 4/4 too.)
   */
  explicitMeter?: boolean;
}

/** A position in bars: bar is 1-based, beat is 1-based and may be fractional (2.5 = halfway through beat 2). */
export interface BarPosition {
  bar: number;
  beat: number;
}

/** A parsed MIDI file. */
export interface MidiContent {
  format: 0 | 1;
  notes: Note[];
  pedal: PedalEvent[];
  timeMap: TimeMap;
  /** End of the last note (or last event), seconds. */
  durationSeconds: number;
  trackNames: string[];
  /** Damage a lenient read (`--lenient-midi`) recovered from; absent for a sound file. */
  damage?: MidiDamage[];
  /**
   * Facts about a sound file a reader should be told, one line each (more MTrk chunks than the
   * header counts: all are read); absent when there are none.
   */
  notices?: string[];
}

/** One break in a damaged file that a lenient read got past by dropping what followed it. */
export interface MidiDamage {
  /** What was wrong and what was dropped, for people. */
  description: string;
  /**
   * Notes lost with the dropped bytes: note-ons found by decoding them after the break (resyncing
   * at each malformed event, so an estimate), or null when the bytes are missing from the file.
   */
  notesLost: number | null;
}
