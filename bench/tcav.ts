/**
 * Time of a full TCAV run: every concept of a folder x random runs x all composers of the model,
 * at one layer, on a real model and corpus (the issue's benchmark: the ASAP model, >= 8 concepts,
 * 20 random runs, 50 excerpts per composer).
 *   npx tsx bench/tcav.ts [--model models/asap.onnx] [--corpus ../shared/corpora/asap]
 *                         [--concepts concepts/asap] [--layer layer3] [--runs 20] [--excerpts 50]
 * Activations are not cached (a cold run); the stages' times are printed on stderr.
 */
import { loadConcepts } from '../src/concepts/load.ts';
import { ConceptLens } from '../src/lens/lens.ts';
import { prepareConcepts, runTcav } from '../src/tcav/run.ts';
import { stderrProgress } from '../src/util/progress.ts';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const model = opt('model', 'models/asap.onnx');
const corpus = opt('corpus', '../shared/corpora/asap');
const layer = opt('layer', 'layer3');
const runs = Number(opt('runs', '20'));
const excerpts = Number(opt('excerpts', '50'));

const t0 = performance.now();
const lens = await ConceptLens.open({ model, corpus, cacheDir: false, progress: stderrProgress() });
const tOpen = performance.now();
const { concepts } = loadConcepts(opt('concepts', 'concepts/asap'));
const prepared = await prepareConcepts(lens, concepts);
const tConcepts = performance.now();
const entries = await runTcav(lens, prepared, {
  layers: [layer],
  targets: lens.targets(),
  runs,
  targetExcerpts: excerpts,
  seed: 1,
});
const tEnd = performance.now();
await lens.close();

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
console.log(`model ${model}, corpus ${corpus}, layer ${layer}`);
console.log(
  `${concepts.length} concepts x ${runs} random runs x ${lens.targets().length} composers x ${excerpts} excerpts = ${entries.length} cells`,
);
console.log(
  `reading the corpus: ${s(tOpen - t0)}; concept examples: ${s(tConcepts - tOpen)}; TCAV (activations, CAVs, derivatives, tests): ${s(tEnd - tConcepts)}`,
);
console.log(`total: ${s(tEnd - t0)}`);
console.log(`significant cells: ${entries.filter((e) => e.significant).length}/${entries.length}`);
