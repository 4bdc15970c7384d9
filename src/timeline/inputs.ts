import { loadCorpus } from '../corpus/manifest.ts';
import type { CorpusEntry } from '../corpus/types.ts';
import { isDirectory } from '../util/files.ts';

/**
 * The pieces of timeline inputs: MIDI files, folders of MIDI files or manifests, labelled or not.
 * A file given on its own is named by the path as the user gave it (score files are often all
 * called `midi_score.mid`), a file of a folder or manifest by its path inside it.
 */
export function pieceEntries(inputs: readonly string[], root?: string): CorpusEntry[] {
  return inputs.flatMap((input) => {
    const entries = loadCorpus(input, { root }).entries;
    if (isDirectory(input) || !/\.(mid|midi)$/i.test(input)) return entries;
    const shown = input;
    return entries.map((e) => ({ ...e, file: shown, piece: shown.replace(/\.(mid|midi)$/i, '') }));
  });
}
