/**
 * Limits that keep time and memory bounded whatever an input claims: a 55-byte MIDI file can
 * announce a note 100 hours in, a model's metadata a window of a million frames, a concept a
 * billion examples. Inputs over a limit are refused before anything is allocated for them: a file
 * is skipped and listed with the reason, a model or a concept is a user error (one line, exit 2).
 *
 * The configurable ones (`Limits`) are set once by the CLI (`--max-piece-minutes`,
 * `--lenient-midi`) and read where files are read; the fixed bounds below are far beyond anything
 * musical and exist only so that a typo or a hostile file cannot exhaust the machine.
 */
export interface Limits {
  /** Longest piece read, in seconds (default 2 hours); a longer file is skipped with the reason. */
  maxPieceSeconds: number;
  /** Largest MIDI file read, in bytes (default 16 MiB; the largest ASAP file is 0.3 MiB). */
  maxMidiBytes: number;
  /** Most values in one rendered piano roll (default 2^26, 256 MB of float32). */
  maxRollValues: number;
  /**
   * Read a MIDI file whose events run past the end of their track (or that is cut short) by
   * keeping the events before the break, and say how many notes were lost. Default false: such a
   * file is skipped with the reason.
   */
  lenientMidi: boolean;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxPieceSeconds: 2 * 3600,
  maxMidiBytes: 16 * 1024 * 1024,
  maxRollValues: 2 ** 26,
  lenientMidi: false,
});

let current: Limits = { ...DEFAULT_LIMITS };

export function limits(): Readonly<Limits> {
  return current;
}

/** Set limits for the process (the CLI does it once from its flags); returns the previous ones. */
export function setLimits(changes: Partial<Limits>): Limits {
  const previous = current;
  current = { ...current, ...changes };
  return previous;
}

/** Bounds of a model's input spec (checked with the spec, before the model is run). */
export const INPUT_BOUNDS = Object.freeze({
  /** Frames per second of the piano roll (1 ms frames). */
  maxFps: 1000,
  maxWindowFrames: 100_000,
  /** Seconds one window may last. */
  maxWindowSeconds: 600,
  /** Values of one model input (channels x frames x pitches): 2^20, 30x the reference models'. */
  maxItemValues: 2 ** 20,
});

/** Bounds of concept files. */
export const CONCEPT_BOUNDS = Object.freeze({
  /** `count` of one pattern example. */
  maxCount: 1000,
  /** Examples (or counterexamples) one concept may yield in all. */
  maxExamples: 2000,
});

export function formatSeconds(seconds: number): string {
  if (seconds >= 3600) return `${(seconds / 3600).toFixed(1)} h`;
  if (seconds >= 60) return `${(seconds / 60).toFixed(1)} min`;
  return `${seconds.toFixed(seconds < 1 ? 3 : 1)} s`;
}
