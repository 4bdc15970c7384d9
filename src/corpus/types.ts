/**
 * A corpus of MIDI files, labelled with composers or not. Pieces, not files, are the unit of
 * identity.
 */

/**
 * The composer of an entry whose composer nobody gave: a single MIDI file, a MIDI file at the top
 * of a folder, a manifest entry without one. (A folder of that name means the same.)
 */
export const UNKNOWN_COMPOSER = '(unknown)';

export interface CorpusEntry {
  /** Absolute path of the MIDI file. */
  path: string;
  /** Path relative to the corpus root; the file's identity in results and caches. */
  file: string;
  /** Composer label, or UNKNOWN_COMPOSER. */
  composer: string;
  /** Piece identity: several files (performances, score) of one piece share it. */
  piece: string;
  /** Human-readable title, when the source gives one. */
  title?: string;
  /** 'score' for quantised score MIDI (bars are meaningful), 'performance' for played MIDI. */
  kind?: 'score' | 'performance';
}

export interface Corpus {
  name: string;
  /** Folder the entries' `file` paths are relative to. */
  root: string;
  entries: CorpusEntry[];
  license?: string;
  source?: string;
  description?: string;
}

/** A window of a piece: what the model sees as one input. */
export interface Excerpt {
  /** Stable identity, e.g. `Bach/Fugue/bwv_846/Shi05M.mid@800+400` (file @ start frame + frames). */
  id: string;
  file: string;
  piece: string;
  composer: string;
  startFrame: number;
  frames: number;
  /** Seconds. */
  start: number;
  end: number;
  /** Bars where the file is a score MIDI with a meter (1-based, inclusive). */
  bars?: { start: number; end: number };
}
