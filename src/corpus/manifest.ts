import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseCsv } from 'csv-parse/sync';
import { z } from 'zod';
import { UserError } from '../util/errors.ts';
import { describeFsError, isDirectory, readUserFile } from '../util/files.ts';
import { parseYamlFile } from '../util/yaml.ts';
import { isSyntheticSpec, materializeSynthetic } from './synthetic.ts';
import { UNKNOWN_COMPOSER, type Corpus, type CorpusEntry } from './types.ts';

/**
 * Where a corpus comes from. Three layouts:
 *  - `metadata-csv`: an ASAP-style table naming files, composer and piece columns;
 *  - `folders`: one sub-folder per composer, each MIDI file its own piece unless a `piece` regex groups them;
 *  - `list`: the manifest lists its files (what `corpus synth` writes).
 * Composers are optional: an entry without one (no composer column, no `composer:`, a MIDI file at
 * the top of the folder) has the composer UNKNOWN_COMPOSER; commands that need labels refuse it.
 */
const fileColumn = z.object({
  column: z.string(),
  kind: z.enum(['score', 'performance']).optional(),
});

export const corpusManifestSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().optional(),
    license: z.string().optional(),
    source: z.string().optional(),
    /** Folder the file paths are relative to; relative to the manifest. Overridden by --root. */
    root: z.string().optional(),
    layout: z.enum(['metadata-csv', 'folders', 'list']),
    metadata: z.string().optional(),
    columns: z
      .object({
        composer: z.string().optional(),
        /** The column naming the piece, or several joined with '/' (e.g. [composer, title]). */
        piece: z.union([z.string(), z.array(z.string()).min(1)]),
        title: z.string().optional(),
      })
      .optional(),
    files: z
      .array(
        z.union([
          fileColumn,
          z.object({
            file: z.string(),
            composer: z.string().optional(),
            piece: z.string().optional(),
            title: z.string().optional(),
            kind: z.enum(['score', 'performance']).optional(),
          }),
        ]),
      )
      .optional(),
    /** Only these composers (default: all). */
    composers: z.array(z.string()).optional(),
  })
  .strict();

export type CorpusManifest = z.infer<typeof corpusManifestSchema>;

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The manifest used for any folder holding an ASAP-style metadata.csv. */
export const ASAP_MANIFEST = join(projectRoot, 'corpora', 'asap.yaml');

export interface LoadCorpusOptions {
  /** Overrides the manifest's root folder. */
  root?: string;
  /** Keep only these composers. */
  composers?: string[];
}

/**
 * Load a corpus from a manifest file, a folder, a single MIDI file, or a synthetic corpus spec
 * (`synthetic` for the shipped one), generated on first use. A folder is read through the manifest
 * it holds (`corpus.yaml`), as ASAP when it has a `metadata.csv`, or else as one sub-folder per
 * composer, MIDI files at its top being of unknown composer (so a flat folder of MIDI files is an
 * unlabelled corpus). A single MIDI file is a corpus of one piece of unknown composer.
 */
export function loadCorpus(path: string, options: LoadCorpusOptions = {}): Corpus {
  if (isSyntheticSpec(path)) path = materializeSynthetic(path);
  if (!existsSync(path)) throw new UserError(`${path}: no such file or directory`);
  let corpus: Corpus;
  if (/\.(mid|midi)$/i.test(path) && !isDirectory(path)) {
    // A single MIDI file: a corpus of one piece whose composer is unknown (its folder's name is
    // no attribution: the question may be exactly who wrote it).
    const full = resolve(path);
    corpus = {
      name: basename(full),
      root: dirname(full),
      entries: [
        entry(dirname(full), basename(full), UNKNOWN_COMPOSER, stripExtension(basename(full))),
      ],
    };
  } else if (isDirectory(path)) {
    if (existsSync(join(path, 'corpus.yaml'))) {
      corpus = fromManifest(join(path, 'corpus.yaml'), options.root ?? path);
    } else if (existsSync(join(path, 'metadata.csv'))) {
      corpus = fromManifest(ASAP_MANIFEST, options.root ?? path);
    } else {
      corpus = fromComposerFolders(path, basename(resolve(path)));
    }
  } else {
    corpus = fromManifest(path, options.root);
  }
  const keep = options.composers;
  if (keep && keep.length > 0) {
    const known = new Set(corpus.entries.map((e) => e.composer));
    const unknown = keep.filter((c) => !known.has(c));
    if (unknown.length > 0) {
      throw new UserError(
        `${path}: no composer named ${unknown.join(', ')} (it has ${[...known].sort().join(', ')})`,
      );
    }
    corpus = { ...corpus, entries: corpus.entries.filter((e) => keep.includes(e.composer)) };
  }
  if (corpus.entries.length === 0) throw new UserError(`${path}: the corpus has no MIDI files`);
  return corpus;
}

export function fromManifest(manifestPath: string, rootOverride?: string): Corpus {
  const manifest = parseYamlFile(manifestPath, corpusManifestSchema);
  const rootSpec =
    rootOverride ?? (manifest.root ? resolve(dirname(manifestPath), manifest.root) : undefined);
  if (!rootSpec) {
    throw new UserError(
      `${manifestPath}: the manifest names no root folder; pass --root <folder>` +
        (manifest.source ? ` (get the data from ${manifest.source})` : ''),
    );
  }
  const root = resolve(rootSpec);
  if (!isDirectory(root)) throw new UserError(`${rootSpec}: corpus root is not a folder`);
  const base = {
    name: manifest.name,
    root,
    license: manifest.license,
    source: manifest.source,
    description: manifest.description,
  };
  let entries: CorpusEntry[];
  switch (manifest.layout) {
    case 'metadata-csv':
      entries = entriesFromCsv(manifestPath, manifest, root);
      break;
    case 'folders':
      entries = fromComposerFolders(root, manifest.name).entries;
      break;
    case 'list':
      entries = (manifest.files ?? []).map((f) => {
        if (!('file' in f))
          throw new UserError(`${manifestPath}: layout 'list' needs files with a 'file'`);
        return entry(
          root,
          f.file,
          f.composer ?? UNKNOWN_COMPOSER,
          f.piece ?? stripExtension(f.file),
          f.title,
          f.kind,
        );
      });
      break;
  }
  if (manifest.composers) entries = entries.filter((e) => manifest.composers!.includes(e.composer));
  return { ...base, entries };
}

function entriesFromCsv(
  manifestPath: string,
  manifest: CorpusManifest,
  root: string,
): CorpusEntry[] {
  const columns = manifest.columns;
  const files = (manifest.files ?? []).filter(
    (f): f is z.infer<typeof fileColumn> => 'column' in f,
  );
  if (!columns || files.length === 0) {
    throw new UserError(
      `${manifestPath}: layout 'metadata-csv' needs 'columns' and 'files' with a 'column'`,
    );
  }
  const csvPath = join(root, manifest.metadata ?? 'metadata.csv');
  let rows: Record<string, string>[];
  try {
    rows = parseCsv(readUserFile(csvPath), { columns: true, skip_empty_lines: true });
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code
      ? describeFsError(err)
      : (err as Error).message;
    throw new UserError(`${csvPath}: ${reason}`);
  }
  const header = Object.keys(rows[0] ?? {});
  const pieceColumns = Array.isArray(columns.piece) ? columns.piece : [columns.piece];
  const named = columns.composer === undefined ? [] : [columns.composer];
  for (const column of [...named, ...pieceColumns, ...files.map((f) => f.column)]) {
    if (!header.includes(column))
      throw new UserError(`${csvPath}: no column '${column}' (manifest ${manifestPath})`);
  }
  const seen = new Set<string>();
  const entries: CorpusEntry[] = [];
  for (const row of rows) {
    for (const { column, kind } of files) {
      const file = row[column]?.trim();
      if (!file || seen.has(file)) continue;
      seen.add(file);
      entries.push(
        entry(
          root,
          file,
          (columns.composer && row[columns.composer]?.trim()) || UNKNOWN_COMPOSER,
          pieceColumns.map((c) => row[c].trim()).join('/'),
          columns.title && row[columns.title],
          kind,
        ),
      );
    }
  }
  return entries;
}

function fromComposerFolders(root: string, name: string): Corpus {
  const entries: CorpusEntry[] = [];
  const items = readdirSync(root, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  );
  // MIDI files at the top: nobody named their composer.
  for (const item of items) {
    if (item.isDirectory() || item.name.startsWith('.') || !/\.(mid|midi)$/i.test(item.name))
      continue;
    entries.push(entry(root, item.name, UNKNOWN_COMPOSER, stripExtension(item.name)));
  }
  for (const composer of items) {
    if (!composer.isDirectory() || composer.name.startsWith('.')) continue;
    for (const file of listMidiFiles(join(root, composer.name))) {
      const rel = relative(root, file).split(sep).join('/');
      entries.push(entry(root, rel, composer.name, stripExtension(rel)));
    }
  }
  if (entries.length === 0) {
    throw new UserError(`${root}: found no corpus.yaml, no metadata.csv and no MIDI files`);
  }
  return { name, root: resolve(root), entries };
}

/** MIDI files below a folder, recursively, in a stable order. */
export function listMidiFiles(folder: string): string[] {
  const out: string[] = [];
  for (const item of readdirSync(folder, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const path = join(folder, item.name);
    if (item.isDirectory()) out.push(...listMidiFiles(path));
    else if (/\.(mid|midi)$/i.test(item.name)) out.push(path);
  }
  return out;
}

function entry(
  root: string,
  file: string,
  composer: string,
  piece: string,
  title?: string,
  kind?: 'score' | 'performance',
): CorpusEntry {
  const e: CorpusEntry = { path: join(root, file), file, composer, piece };
  if (title) e.title = title;
  if (kind) e.kind = kind;
  return e;
}

function stripExtension(file: string): string {
  return file.replace(/\.(mid|midi)$/i, '');
}

/** True when no entry of the corpus has a composer label. */
export function isUnlabelled(corpus: Pick<Corpus, 'entries'>): boolean {
  return corpus.entries.every((e) => e.composer === UNKNOWN_COMPOSER);
}

/**
 * Refuse an unlabelled corpus for something that needs composer labels (TCAV targets, model
 * evaluation, training export), in one line naming the input.
 */
export function requireLabels(corpus: Pick<Corpus, 'entries'>, input: string, what: string): void {
  if (isUnlabelled(corpus)) {
    throw new UserError(
      `${input}: the composers of this corpus are unknown (a MIDI file, a folder of MIDI files or a manifest without composers); ${what} needs a corpus labelled with composers`,
    );
  }
}
