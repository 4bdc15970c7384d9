/**
 * Time of a full TCAV run: every concept of a folder x random runs x all composers of the model,
 * at one layer, on a real model and corpus (the benchmark: the ASAP model, >= 8 concepts,
 * 20 random runs, 50 excerpts per composer), and where the time goes: the concepts' own CAVs,
 * the size-matched nulls of random concepts, and the derivative tables (exact gradients or finite
 * differences). With `--cav both` it runs the logistic CAV and FastCAV side by side on the same
 * draws and prints their agreement (cosine of the CAVs run by run, and verdicts).
 *   npx tsx bench/tcav.ts [--model models/asap.onnx] [--corpus ../shared/corpora/asap]
 *                         [--concepts concepts/asap] [--layer layer3] [--runs 20] [--excerpts 50]
 *                         [--null-concepts 50] [--cav logistic|fast|both] [--seed 1]
 * Activations are not cached (a cold run); the stages' times are printed on stderr.
 */
import { loadConcepts } from '../src/concepts/load.ts';
import { ConceptLens } from '../src/lens/lens.ts';
import type { TcavEntry } from '../src/results/results.ts';
import type { CavMethod } from '../src/tcav/cav.ts';
import type { TcavLayer } from '../src/tcav/layer.ts';
import { prepareConcepts, runTcav, TCAV_DEFAULTS, type ConceptCavs } from '../src/tcav/run.ts';
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
const nullConcepts = Number(opt('null-concepts', String(TCAV_DEFAULTS.nullConcepts)));
const seed = Number(opt('seed', '1'));
const which = opt('cav', 'logistic');
const methods: CavMethod[] = which === 'both' ? ['logistic', 'fast'] : [which as CavMethod];

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const t0 = performance.now();
const lens = await ConceptLens.open({ model, corpus, cacheDir: false, progress: stderrProgress() });
const tOpen = performance.now();
const { concepts } = loadConcepts(opt('concepts', 'concepts/asap'));
const prepared = await prepareConcepts(lens, concepts);
const tConcepts = performance.now();
console.log(`model ${model}, corpus ${corpus}, layer ${layer}`);
console.log(
  `${concepts.length} concepts x ${runs} runs x ${lens.targets().length} composers x ${excerpts} excerpts; nulls of ${nullConcepts} random concepts per concept size`,
);
console.log(
  `reading the corpus: ${s(tOpen - t0)}; concept examples: ${s(tConcepts - tOpen)} (shared machine: compare ratios within one run)`,
);

const outcomes: { method: CavMethod; entries: TcavEntry[]; cavs: Map<string, ConceptCavs> }[] = [];
for (const method of methods) {
  const cavs = new Map<string, ConceptCavs>();
  let tcav: TcavLayer | undefined;
  const started = performance.now();
  const entries = await runTcav(lens, prepared, {
    layers: [layer],
    targets: lens.targets(),
    runs,
    targetExcerpts: excerpts,
    nullConcepts,
    cav: method,
    seed,
    onCavs: (c) => cavs.set(c.concept, c),
    onLayer: (_l, t) => (tcav = t),
  });
  const elapsed = performance.now() - started;
  const c = tcav!.cost;
  console.log(
    `\nCAV ${method}: TCAV ${s(elapsed)} (activations of ${excerpts * lens.targets().length} excerpts, the ${tcav!.pool.n}-window pool and the examples, CAVs, nulls, tests)`,
  );
  console.log(
    `  derivative tables (${tcav!.exactDerivatives ? 'exact gradients' : 'finite differences'}): ${c.derivativeRows} rows in ${s(c.derivativeMs)}; ` +
      `concepts' own CAVs ${s(c.conceptMs)}; nulls (${c.randomConcepts} random concepts x ${runs} runs) ${s(c.nullMs)}; ${c.cavFits} CAV fits in all`,
  );
  console.log(
    `  significant cells: ${entries.filter((e) => e.significant).length}/${entries.length}`,
  );
  outcomes.push({ method, entries, cavs });
}
console.log(`\ntotal: ${s(performance.now() - t0)}`);

if (outcomes.length === 2) {
  const [a, b] = outcomes;
  const cosines: number[] = [];
  for (const [name, ca] of a.cavs) {
    const cb = b.cavs.get(name)!;
    const perRun = ca.directions.map((d, r) => {
      let dot = 0;
      for (let i = 0; i < d.length; i++) dot += d[i] * cb.directions[r][i];
      return dot;
    });
    const mean = perRun.reduce((x, y) => x + y, 0) / perRun.length;
    cosines.push(mean);
    console.log(
      `  ${name.padEnd(34)} cosine(logistic, fast) per run: mean ${mean.toFixed(3)}, min ${Math.min(...perRun).toFixed(3)}`,
    );
  }
  const key = (e: TcavEntry) => `${e.concept}/${e.target}`;
  const other = new Map(b.entries.map((e) => [key(e), e]));
  const verdict = (e: TcavEntry) => (e.significant ? Math.sign(e.effect - e.randomEffect) : 0);
  const same = a.entries.filter((e) => verdict(e) === verdict(other.get(key(e))!)).length;
  const effA = a.entries.map((e) => e.effect);
  const effB = a.entries.map((e) => other.get(key(e))!.effect);
  console.log(
    `FastCAV vs logistic: mean cosine ${(cosines.reduce((x, y) => x + y, 0) / cosines.length).toFixed(3)}; ` +
      `verdicts agree in ${same}/${a.entries.length} cells; effects correlate r = ${pearson(effA, effB).toFixed(3)}`,
  );
}
await lens.close();

function pearson(x: number[], y: number[]): number {
  const mx = x.reduce((a, b) => a + b, 0) / x.length;
  const my = y.reduce((a, b) => a + b, 0) / y.length;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  x.forEach((v, i) => {
    sxy += (v - mx) * (y[i] - my);
    sxx += (v - mx) ** 2;
    syy += (y[i] - my) ** 2;
  });
  return sxy / Math.sqrt(sxx * syy);
}
