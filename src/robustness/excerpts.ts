import { splitPieces, type SplitName } from '../corpus/split.ts';
import type { Excerpt } from '../corpus/types.ts';
import type { EditPlace } from '../edits/describe.ts';
import { editGrid, type EditGrid } from '../edits/types.ts';
import { spreadOverPieces } from '../lens/corpus-index.ts';
import type { ConceptLens } from '../lens/lens.ts';
import { parseMidi } from '../midi/read.ts';
import { renderRoll } from '../midi/render.ts';
import type { PianoRoll, RollLayout } from '../midi/roll.ts';
import type { MidiContent, Note } from '../midi/types.ts';
import { excerptNotes, notesToMidiBytes } from '../midi/write.ts';
import { hashString } from '../util/random.ts';
import { localKeys, type LocalKeys } from '../key/estimate.ts';
import type { Key } from '../key/spell.ts';

/** An excerpt ready to attack: its notes as the MIDI file written for it holds them, and its roll. */
export interface AttackExcerpt {
  excerpt: Excerpt;
  /**
   * Notes of the window, seconds from its start, after one MIDI write and read: exactly what the
   * excerpt's MIDI file holds (times on the file's tick grid), so edits of them survive a round trip.
   */
  notes: Note[];
  roll: PianoRoll;
  place: EditPlace;
  /** Notes the model sees (inside its pitch range). */
  visible: number;
  /**
   * The local key at a time (seconds from the excerpt's start), from the whole file's notes
   * (src/key): added notes stay in it and pitches are spelled in it.
   */
  keyAt?: (seconds: number) => Key;
  /** Derived from the notes, for seeding the excerpt's random choices (content, not names). */
  contentKey: string;
}

/**
 * `count` windows of the target composers from one side of the piece-level split (the split the
 * model was trained with, given its seed), spread over pieces as `CorpusIndex.sample` does: pieces
 * in random order, one random window each, round after round.
 */
export function selectExcerpts(
  lens: ConceptLens,
  options: {
    split: SplitName | 'all';
    splitSeed: number;
    count: number;
    seed: number;
    targets: string[];
  },
): Excerpt[] {
  const sides = splitPieces([...lens.index.entries.values()], { seed: options.splitSeed });
  const pool = lens.index
    .excerpts(options.targets)
    .filter((x) => options.split === 'all' || sides.get(x.piece) === options.split);
  return spreadOverPieces(pool, options.count, `${options.seed}/attack/${options.split}`);
}

/** Notes, rolls and places of the excerpts (each file read once); silent windows are left out. */
export function loadExcerpts(
  lens: ConceptLens,
  excerpts: readonly Excerpt[],
): { loaded: AttackExcerpt[]; silent: Excerpt[] } {
  const byFile = new Map<string, Excerpt[]>();
  for (const x of excerpts) {
    if (!byFile.has(x.file)) byFile.set(x.file, []);
    byFile.get(x.file)!.push(x);
  }
  const frames = lens.classifier.input.windowFrames;
  const loaded = new Map<Excerpt, AttackExcerpt>();
  const silent: Excerpt[] = [];
  for (const [file, list] of byFile) {
    const content = lens.index.content(file);
    const keys = fileKeys(content, list[0].bars !== undefined);
    for (const x of list) {
      const a = prepareExcerpt(x, content, lens.layout, frames, keys);
      if (a) loaded.set(x, a);
      else silent.push(x);
    }
  }
  return { loaded: excerpts.filter((x) => loaded.has(x)).map((x) => loaded.get(x)!), silent };
}

/** Local keys of a file: per bar when its bars mean something, else per span of seconds. */
export function fileKeys(content: MidiContent, bars: boolean): LocalKeys | undefined {
  return localKeys(content.notes, { timeMap: content.timeMap, bars }) ?? undefined;
}

export function prepareExcerpt(
  excerpt: Excerpt,
  content: MidiContent,
  layout: RollLayout,
  frames: number,
  keys?: LocalKeys,
): AttackExcerpt | undefined {
  const raw = excerptNotes(content.notes, excerpt.start, excerpt.start + frames / layout.fps);
  if (raw.length === 0) return undefined;
  const notes = parseMidi(notesToMidiBytes(raw)).notes;
  const grid = editGrid(layout, frames);
  const roll = renderRoll(notes, layout, frames / layout.fps);
  const visible = notes.filter(
    (n) => n.pitch >= grid.lowPitch && n.pitch <= grid.highPitch && n.onset * grid.fps < frames,
  ).length;
  if (visible === 0) return undefined;
  const key = notes.map((n) => `${n.pitch},${n.onset.toFixed(4)},${n.offset.toFixed(4)}`).join(';');
  return {
    excerpt,
    notes,
    roll,
    place: {
      start: excerpt.start,
      ...(excerpt.bars ? { timeMap: content.timeMap } : {}),
      ...(keys ? { keys } : {}),
    },
    ...(keys ? { keyAt: (t: number) => keys.keyAt(excerpt.start + t) } : {}),
    visible,
    contentKey: hashString(key).toString(16),
  };
}

export function excerptGrid(lens: ConceptLens): EditGrid {
  return editGrid(lens.layout, lens.classifier.input.windowFrames);
}
