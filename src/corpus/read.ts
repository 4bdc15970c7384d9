import { MidiReadError, readMidiFile } from '../midi/read.ts';
import type { MidiContent } from '../midi/types.ts';
import { UserError } from '../util/errors.ts';
import { yieldToSignals } from '../util/interrupt.ts';
import type { Progress } from '../util/progress.ts';
import { warn } from '../util/warn.ts';
import type { CorpusEntry } from './types.ts';

export interface SkippedFile {
  file: string;
  reason: string;
}

export interface ReadOptions {
  sustain?: boolean;
  progress?: Progress;
  /** Files a lenient read (--lenient-midi) recovered, with what was lost, are added here. */
  recovered?: SkippedFile[];
  /** Files read whole with something to say (more track chunks than the header counts). */
  notices?: SkippedFile[];
}

/**
 * Read a corpus file by file, handing each parsed file to `visit` and then dropping it, so memory
 * stays bounded. A file that cannot be read, or that `visit` refuses with a MidiReadError (e.g. its
 * roll would be over the size limit), is skipped and reported, and the run goes on. A file read
 * leniently is reported with what it lost (a warning, and `options.recovered`).
 */
export async function forEachFile(
  entries: readonly CorpusEntry[],
  visit: (entry: CorpusEntry, content: MidiContent) => void | Promise<void>,
  options: ReadOptions = {},
): Promise<SkippedFile[]> {
  const skipped: SkippedFile[] = [];
  options.progress?.start('reading MIDI', entries.length);
  for (const entry of entries) {
    let content: MidiContent | undefined;
    try {
      content = readMidiFile(entry.path, { sustain: options.sustain });
      if (content.damage) {
        const reason = `read leniently: ${content.damage.map((d) => d.description).join('; ')}`;
        options.recovered?.push({ file: entry.file, reason });
        warn(`${entry.file}: ${reason}`);
      }
      for (const notice of content.notices ?? []) {
        options.notices?.push({ file: entry.file, reason: notice });
        warn(`${entry.file}: ${notice}`);
      }
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      skipped.push({ file: entry.file, reason: stripPath(err.message, entry.path) });
    }
    try {
      if (content) await visit(entry, content);
    } catch (err) {
      // A problem of the file found later (its roll over the size limit): skipped too. Other
      // errors (a full disk, a bad model) stop the run.
      if (!(err instanceof MidiReadError)) throw err;
      skipped.push({ file: entry.file, reason: stripPath(err.message, entry.path) });
    }
    options.progress?.tick();
    await yieldToSignals();
  }
  options.progress?.stop();
  return skipped;
}

function stripPath(message: string, path: string): string {
  return message.startsWith(`${path}: `) ? message.slice(path.length + 2) : message;
}
