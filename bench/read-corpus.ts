/**
 * Benchmark of the corpus hot path: read every .mid file under a folder and render 20 fps rolls.
 *   npx tsx bench/read-corpus.ts [folder]   (default ../shared/corpora/asap)
 */
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readMidiFile } from '../src/midi/read.ts';
import { renderRoll } from '../src/midi/render.ts';
import { DEFAULT_LAYOUT } from '../src/midi/roll.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const folder = resolve(process.argv[2] ?? join(here, '../../shared/corpora/asap'));
const files = readdirSync(folder, { recursive: true, encoding: 'utf8' })
  .filter((f) => /\.midi?$/i.test(f))
  .sort()
  .map((f) => join(folder, f));

const t0 = performance.now();
let notes = 0;
let frames = 0;
let failed = 0;
for (const file of files) {
  try {
    const content = readMidiFile(file);
    notes += content.notes.length;
    frames += renderRoll(content.notes, DEFAULT_LAYOUT, content.durationSeconds).frames;
  } catch (err) {
    failed++;
    console.error(err instanceof Error ? err.message : String(err));
  }
}
const seconds = (performance.now() - t0) / 1000;
console.log(
  `${files.length} files (${failed} failed), ${notes} notes, ${frames} frames at ${DEFAULT_LAYOUT.fps} fps: ` +
    `${seconds.toFixed(2)} s, ${(files.length / seconds).toFixed(0)} files/s`,
);
