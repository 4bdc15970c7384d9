/**
 * Find passages of a texture with the detectors (src/detect) over a corpus split and print them as
 * concept example entries (corpus: file, bars: [first, last]), spread over pieces, for a concept
 * YAML that lists its pieces explicitly (readable and stable; see docs/concepts-detect.md).
 *
 *   npx tsx scripts/gather-examples.ts --corpus <ASAP> --texture octaves [--split train]
 *     [--max 12] [--per-piece 3] [--min-share 0.6] [--exclude Bach/Fugue/bwv_857,...]
 *
 * --exclude drops files whose path contains any of the given strings (e.g. pieces kept unseen for
 * an evaluation); --include keeps only files whose path contains one of them. Windows last 20 s (the shipped models' window); the bars printed are those wholly
 * inside the window.
 */
import { detectedWindows, spreadOverPieces } from '../src/concepts/detect-examples.ts';
import { isTextureName } from '../src/detect/types.ts';
import { readMidiFile } from '../src/midi/read.ts';
import { barToSeconds } from '../src/midi/timemap.ts';
import { join } from 'node:path';
import { opt } from '../bench/args.ts';

const corpus = opt('corpus', '');
const texture = opt('texture', '');
if (!corpus || !isTextureName(texture)) {
  process.stderr.write('usage: --corpus <root> --texture <name> [--split train] [--max 12]\n');
  process.exit(2);
}
const split = opt('split', 'train') as 'train';
const max = Number(opt('max', '12'));
const perPiece = Number(opt('per-piece', '3'));
const exclude = opt('exclude', '')
  .split(',')
  .filter((s) => s.length > 0);
const include = opt('include', '')
  .split(',')
  .filter((s) => s.length > 0);
const windows = (
  await detectedWindows(corpus, texture, {
    windowSeconds: 20,
    split,
    splitSeed: 1,
    minShare: Number(opt('min-share', '0.6')),
  })
).filter(
  (w) =>
    !exclude.some((x) => w.file.includes(x)) &&
    (include.length === 0 || include.some((x) => w.file.includes(x))),
);
const counts = new Map<string, number>();
const chosen = spreadOverPieces(windows, 10_000)
  .filter((w) => {
    const n = counts.get(w.piece) ?? 0;
    counts.set(w.piece, n + 1);
    return n < perPiece;
  })
  .slice(0, max)
  .sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.start - b.start));
const lines: string[] = [];
for (const w of chosen) {
  const map = readMidiFile(join(corpus, w.file)).timeMap;
  let last = w.bars[0];
  while (barToSeconds(map, last + 2) <= w.end + 1e-6) last++;
  lines.push(
    `  - corpus: ${w.file}\n    bars: [${w.bars[0]}, ${last}]   # ${Math.round(w.share * 100)}% ${texture}`,
  );
}
process.stdout.write(
  `# ${new Set(chosen.map((w) => w.piece)).size} pieces, ${chosen.length} windows (of ${windows.length} found)\n${lines.join('\n')}\n`,
);
