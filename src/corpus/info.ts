import type { Progress } from '../util/progress.ts';
import { forEachFile, type SkippedFile } from './read.ts';
import type { Corpus } from './types.ts';

export interface ComposerSummary {
  files: number;
  pieces: number;
  seconds: number;
}

export interface CorpusSummary {
  name: string;
  root: string;
  license?: string;
  source?: string;
  files: number;
  pieces: number;
  notes: number;
  composers: Record<string, ComposerSummary>;
  skipped: SkippedFile[];
  /** Files read leniently (--lenient-midi), with what each lost. */
  recovered: SkippedFile[];
  /** Files read whole with a notice (more track chunks than the header counts: all read). */
  notices: SkippedFile[];
}

/** Read every file of a corpus and count what is there; unreadable files are listed, not fatal. */
export async function summarizeCorpus(corpus: Corpus, progress?: Progress): Promise<CorpusSummary> {
  const composers: Record<string, ComposerSummary> = {};
  const pieces = new Map<string, Set<string>>();
  let files = 0;
  let notes = 0;
  const recovered: SkippedFile[] = [];
  const notices: SkippedFile[] = [];
  const skipped = await forEachFile(
    corpus.entries,
    (entry, content) => {
      const c = (composers[entry.composer] ??= { files: 0, pieces: 0, seconds: 0 });
      c.files += 1;
      c.seconds += content.durationSeconds;
      if (!pieces.has(entry.composer)) pieces.set(entry.composer, new Set());
      pieces.get(entry.composer)!.add(entry.piece);
      files += 1;
      notes += content.notes.length;
    },
    { progress, recovered, notices },
  );
  for (const [composer, set] of pieces) composers[composer].pieces = set.size;
  for (const c of Object.values(composers)) c.seconds = Math.round(c.seconds * 10) / 10;
  const allPieces = new Set([...pieces.values()].flatMap((s) => [...s]));
  return {
    name: corpus.name,
    root: corpus.root,
    license: corpus.license,
    source: corpus.source,
    files,
    pieces: allPieces.size,
    notes,
    composers: Object.fromEntries(Object.entries(composers).sort(([a], [b]) => a.localeCompare(b))),
    skipped,
    recovered,
    notices,
  };
}

export function formatSummary(s: CorpusSummary): string {
  const lines = [
    `${s.name}: ${s.files} files, ${s.pieces} pieces, ${s.notes} notes (${s.root})`,
    ...(s.license ? [`license: ${s.license}`] : []),
    '',
    `${'composer'.padEnd(16)} ${'files'.padStart(6)} ${'pieces'.padStart(6)} ${'hours'.padStart(7)}`,
    ...Object.entries(s.composers).map(
      ([name, c]) =>
        `${name.padEnd(16)} ${String(c.files).padStart(6)} ${String(c.pieces).padStart(6)} ${(c.seconds / 3600).toFixed(2).padStart(7)}`,
    ),
  ];
  if (s.skipped.length > 0) {
    lines.push(
      '',
      `skipped ${s.skipped.length} file(s):`,
      ...s.skipped.map((k) => `  ${k.file}: ${k.reason}`),
    );
  }
  if (s.recovered.length > 0) {
    lines.push(
      '',
      `read leniently ${s.recovered.length} damaged file(s):`,
      ...s.recovered.map((k) => `  ${k.file}: ${k.reason}`),
    );
  }
  if (s.notices.length > 0) {
    lines.push(
      '',
      `read with a notice ${s.notices.length} file(s):`,
      ...s.notices.map((k) => `  ${k.file}: ${k.reason}`),
    );
  }
  return lines.join('\n');
}
