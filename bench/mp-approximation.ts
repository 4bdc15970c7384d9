/**
 * How much the empirical MP of the index (exact within each window's 100 nearest, estimated
 * beyond) departs from the exact count, on a sample of ASAP small enough to keep every distance:
 * the same windows indexed with nearest lists of 100 and of all windows; overlap of the 10 nearest
 * under MP for every window, and the skewness of N_10 both ways. docs/similar.md.
 *   npm run bench:mp-approximation -- [--windows 3000] [--layer layer3]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConceptLens } from '../src/lens/lens.ts';
import { kOccurrence, skewness } from '../src/retrieval/hubness.ts';
import { INDEX_DEFAULTS, RetrievalIndex } from '../src/retrieval/index.ts';
import { stderrProgress } from '../src/util/progress.ts';
import { opt } from './args.ts';

const windows = Number(opt('windows', '3000'));
const layer = opt('layer', 'layer3');
const cacheDir = mkdtempSync(join(tmpdir(), 'cl-mp-approx-'));
try {
  const lens = await ConceptLens.open({
    model: opt('model', 'models/asap.onnx'),
    corpus: opt('corpus', '../shared/corpora/asap'),
    progress: stderrProgress(true),
  });
  const excerpts = lens.index.sample(windows, 'mp-approximation');
  const n = excerpts.length;
  const short = await RetrievalIndex.open(
    lens,
    { ...INDEX_DEFAULTS, layer },
    { cacheDir, excerpts },
  );
  const exact = await RetrievalIndex.open(
    lens,
    { ...INDEX_DEFAULTS, layer, near: n, referenceSize: n },
    { cacheDir, excerpts },
  );
  const k = 10;
  const a = (await short.neighbourLists(k, ['mp-empirical']))['mp-empirical'];
  const b = (await exact.neighbourLists(k, ['mp-empirical']))['mp-empirical'];
  let same = 0;
  for (let i = 0; i < n; i++) {
    const set = new Set(b.subarray(i * k, (i + 1) * k));
    for (let r = 0; r < k; r++) if (set.has(a[i * k + r])) same++;
  }
  console.log(
    `${n} windows at ${layer}; empirical MP with nearest lists of ${INDEX_DEFAULTS.near} against exact (lists of all ${n}):`,
  );
  console.log(`  10 nearest under MP shared: ${((100 * same) / (n * k)).toFixed(1)} %`);
  console.log(
    `  skewness of N_10: ${skewness(kOccurrence(a, n, k, k)).toFixed(3)} (index) vs ${skewness(kOccurrence(b, n, k, k)).toFixed(3)} (exact)`,
  );
  await lens.close();
} finally {
  rmSync(cacheDir, { recursive: true, force: true });
}
