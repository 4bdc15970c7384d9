import { loadCorpus } from '../corpus/manifest.ts';
import type { CorpusEntry } from '../corpus/types.ts';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { isDirectory } from '../util/files.ts';

export function shownPath(input: string): string {
  const rel = relative(process.cwd(), resolve(input));
  if (rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)) return rel.split(sep).join('/');
  return resolve(input).split(/[\\/]/).filter(Boolean).slice(-4).join('/');
}

/**
 * The pieces of timeline inputs: MIDI files, folders of MIDI files or manifests, labelled or not.
 * A file given on its own is named by the path as the user gave it (score files are often all
 * called `midi_score.mid`), a file of a folder or manifest by its path inside it. A path outside the
 * working folder (or absolute) is shown by its last four parts (`Bach/Fugue/bwv_856/midi_score.mid`):
 * pages and results never carry a path of the machine.
 */
export function pieceEntries(inputs: readonly string[], root?: string): CorpusEntry[] {
  return inputs.flatMap((input) => {
    const entries = loadCorpus(input, { root }).entries;
    if (isDirectory(input) || !/\.(mid|midi)$/i.test(input)) return entries;
    const shown = shownPath(input);
    return entries.map((e) => ({ ...e, file: shown, piece: shown.replace(/\.(mid|midi)$/i, '') }));
  });
}
