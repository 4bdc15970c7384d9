import { readMidiFile } from '../midi/read.ts';
import type { MidiContent } from '../midi/types.ts';
import { UserError } from '../util/errors.ts';
import type { Progress } from '../util/progress.ts';
import type { CorpusEntry } from './types.ts';

export interface SkippedFile {
  file: string;
  reason: string;
}

export interface ReadOptions {
  sustain?: boolean;
  progress?: Progress;
}

/**
 * Read a corpus file by file, handing each parsed file to `visit` and then dropping it, so memory
 * stays bounded. A file that cannot be read is skipped and reported, and the run goes on.
 */
export async function forEachFile(
  entries: readonly CorpusEntry[],
  visit: (entry: CorpusEntry, content: MidiContent) => void | Promise<void>,
  options: ReadOptions = {},
): Promise<SkippedFile[]> {
  const skipped: SkippedFile[] = [];
  options.progress?.start('reading MIDI', entries.length);
  for (const entry of entries) {
    let content: MidiContent;
    try {
      content = readMidiFile(entry.path, { sustain: options.sustain });
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      skipped.push({ file: entry.file, reason: stripPath(err.message, entry.path) });
      options.progress?.tick();
      continue;
    }
    await visit(entry, content);
    options.progress?.tick();
  }
  options.progress?.stop();
  return skipped;
}

function stripPath(message: string, path: string): string {
  return message.startsWith(`${path}: `) ? message.slice(path.length + 2) : message;
}
