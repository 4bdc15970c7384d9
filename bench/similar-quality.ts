/**
 * Retrieval quality and hubness on ASAP (the must-show of `similar`, docs/similar.md):
 * precision@10 for "same piece" and "same composer" over queries from pieces with 3+ files, with
 * no scaling and both Mutual Proximity variants, and the k-occurrence skewness before and after,
 * at two layers.
 *   npm run bench:similar-quality -- [--corpus ../shared/corpora/asap] [--model models/asap.onnx]
 *     [--layers layer3 layer4] [--queries 600] [--pool time] [--metric euclidean] [--windows N]
 */
import { ConceptLens } from '../src/lens/lens.ts';
import { evaluateRetrieval } from '../src/retrieval/evaluate.ts';
import { INDEX_DEFAULTS, RetrievalIndex } from '../src/retrieval/index.ts';
import { SCALINGS, type Metric, type Pooling } from '../src/retrieval/types.ts';
import { stderrProgress } from '../src/util/progress.ts';
import { args, opt } from './args.ts';

const list = (name: string, fallback: string[]) => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const out: string[] = [];
  for (let j = i + 1; j < args.length && !args[j].startsWith('--'); j++) out.push(args[j]);
  return out;
};
const corpus = opt('corpus', '../shared/corpora/asap');
const model = opt('model', 'models/asap.onnx');
const layers = list('layers', ['layer3', 'layer4']);
const queries = Number(opt('queries', '600'));
const pooling = opt('pool', 'time') as Pooling;
const metric = opt('metric', 'euclidean') as Metric;
const cacheDir = opt('cache-dir', '.cache/activations');
// A seeded sample of windows (spread over pieces) instead of all: for comparisons that would not
// fit otherwise (unpooled activations of every window).
const windows = Number(opt('windows', '0'));

const lens = await ConceptLens.open({ model, corpus, cacheDir, progress: stderrProgress(true) });
const excerpts = windows > 0 ? lens.index.sample(windows, 'similar-quality') : undefined;
if (excerpts) console.log(`a sample of ${excerpts.length} windows`);
console.log(
  `${corpus}: ${lens.index.excerpts().length} windows of ${lens.targets().length} composers; model ${model}`,
);
for (const layer of layers) {
  const index = await RetrievalIndex.open(
    lens,
    { ...INDEX_DEFAULTS, layer, pooling, metric },
    { cacheDir, excerpts },
  );
  console.log(
    `\n${layer} (pooling ${index.meta.pooling}, ${index.meta.dims} values, ${metric}): index ${index.built ? 'built' : 'read'} in ${index.openSeconds.toFixed(1)} s`,
  );
  const t0 = Date.now();
  const hub = await index.hubness([5, 10]);
  console.log(`hubness over ${hub.windows} windows (${((Date.now() - t0) / 1000).toFixed(1)} s):`);
  console.log('  scaling        k  skewness  hubs (N_k>2k)  anti-hubs (N_k=0)  max N_k');
  for (const s of hub.scalings)
    for (const o of s.occurrence)
      console.log(
        `  ${s.scaling.padEnd(13)} ${String(o.k).padStart(2)}  ${o.skewness.toFixed(2).padStart(8)}  ${(100 * o.hubShare).toFixed(2).padStart(11)} %  ${(100 * o.antiHubShare).toFixed(2).padStart(15)} %  ${String(o.max).padStart(7)}`,
      );
  const ev = await evaluateRetrieval(index, { queries, k: 10, seed: 1, scalings: SCALINGS });
  console.log(
    `precision@${ev.k} over ${ev.queries} queries from ${ev.queryPieces} pieces with ${ev.minFiles}+ files (own file excluded; chance: piece ${ev.chancePiece.toFixed(3)}, composer ${ev.chanceComposer.toFixed(3)}; ${(1000 * ev.secondsPerQuery).toFixed(0)} ms per query, all scalings):`,
  );
  for (const s of ev.scores)
    console.log(
      `  ${s.scaling.padEnd(13)} same piece ${s.samePiece.toFixed(3)}  same composer ${s.sameComposer.toFixed(3)}`,
    );
}
await lens.close();
