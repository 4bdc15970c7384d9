/**
 * Speed of `similar` on ASAP (docs/similar.md): building the index of every window at
 * a layer (model + distance profiles), reading it back from the cache, and answering queries
 * (one distance row by Gemm, then each scaling), side by side in one run.
 *   npm run bench:similar -- [--corpus ../shared/corpora/asap] [--model models/asap.onnx]
 *     [--layer layer3] [--queries 20]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConceptLens } from '../src/lens/lens.ts';
import { INDEX_DEFAULTS, RetrievalIndex } from '../src/retrieval/index.ts';
import { PassageExporter } from '../src/retrieval/export.ts';
import { SCALINGS } from '../src/retrieval/types.ts';
import { Rng } from '../src/util/random.ts';
import { stderrProgress } from '../src/util/progress.ts';
import { opt } from './args.ts';

const corpus = opt('corpus', '../shared/corpora/asap');
const model = opt('model', 'models/asap.onnx');
const layer = opt('layer', 'layer3');
const count = Number(opt('queries', '20'));
const cacheDir = mkdtempSync(join(tmpdir(), 'cl-bench-similar-'));

try {
  const lens = await ConceptLens.open({
    model,
    corpus,
    cacheDir: false,
    progress: stderrProgress(true),
  });
  const settings = { ...INDEX_DEFAULTS, layer };
  const built = await RetrievalIndex.open(lens, settings, { cacheDir });
  const m = built.meta;
  console.log(
    `${corpus} at ${layer}: ${m.n} windows, ${m.dims} values each (pooled: ${m.pooling}); machine shared, timings noisy`,
  );
  console.log(
    `build:  ${m.buildSeconds.toFixed(1)} s  (model ${m.activationSeconds.toFixed(1)} s, distance profiles ${m.distanceSeconds.toFixed(1)} s)`,
  );
  const read = await RetrievalIndex.open(lens, settings, { cacheDir });
  console.log(`read from the cache: ${read.openSeconds.toFixed(2)} s`);

  // Queries from outside the index's point of view: the notes of corpus windows, rendered and run
  // through the model again, searched as new points (their own file left out).
  const rng = new Rng('bench-similar');
  const picks = rng.sample([...Array(read.n).keys()], count);
  const reader = new PassageExporter(lens, () => '');
  const times: Record<string, number[]> = {
    model: [],
    row: [],
    ...Object.fromEntries(SCALINGS.map((s) => [s, []])),
  };
  for (const [j, i] of picks.entries()) {
    const x = read.excerpts[i];
    let t = performance.now();
    const vector = await read.embed([lens.notesItem(`bench/${x.id}`, reader.notes(x))]);
    times.model.push(performance.now() - t);
    t = performance.now();
    const row = await read.queryRows(vector, 1);
    times.row.push(performance.now() - t);
    for (const scaling of SCALINGS) {
      t = performance.now();
      read.search(row, { k: 10, scaling, skip: (y) => read.excerpts[y].file === x.file });
      if (j > 0) times[scaling].push(performance.now() - t); // the first run warms the JIT
    }
  }
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
  console.log(
    `query (median of ${count}): model ${median(times.model).toFixed(0)} ms, distance row ${median(times.row).toFixed(0)} ms`,
  );
  for (const s of SCALINGS)
    console.log(
      `  search ${s.padEnd(13)} ${median(times[s]).toFixed(1)} ms  (total ${(median(times.model) + median(times.row) + median(times[s])).toFixed(0)} ms)`,
    );
  await lens.close();
} finally {
  rmSync(cacheDir, { recursive: true, force: true });
}
