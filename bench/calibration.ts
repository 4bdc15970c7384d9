/**
 * Calibration and power of the TCAV test, measured on concepts whose truth is known.
 *  - Null concepts: random corpus windows of all composers mixed, at two sizes (default 10 and 40).
 *    Nothing ties them to any composer, so each cell's p-value should be uniform: about 5% below
 *    0.05 for every composer and size, and (almost) none significant after Holm's correction.
 *  - One-composer concepts: random windows of one composer (default 40). Each should be
 *    significant, and positive, for its own composer (power).
 * Every concept is drawn afresh per seed (keyed by the seed, not by a name); each seed is a full
 * TCAV run with the default settings unless flags change them.
 *
 *   npm run bench:calibration -- [--model models/asap.onnx] [--corpus ../shared/corpora/asap]
 *        [--seeds 1,2,3] [--null 40] [--sizes 10,40] [--composer-size 40] [--family 8]
 *        [--layer layer3] [--cav logistic|fast] [--runs R] [--null-concepts M] [--excerpts E]
 *        [--draw pieces|uniform]
 *   npm run bench:calibration -- --model models/synthetic.onnx --corpus synthetic
 *   npm run bench:calibration -- --yaml-only --corpus <asap>   (through YAML and the CLI only:
 *        calibration-yaml.ts; [--yaml-null 20] concepts per size and seed, [--cache-dir D])
 *
 * Families for Holm's correction: the null concepts of one seed in groups of `--family` concepts
 * (8 concepts x the composers: the size of the shipped ASAP run), and also all the seed's null cells
 * at once; the one-composer concepts of one seed form one family.
 */
import { ConceptLens } from '../src/lens/lens.ts';
import type { TcavEntry } from '../src/results/results.ts';
import { holm } from '../src/tcav/stats.ts';
import {
  defaultNullConcepts,
  runTcav,
  TCAV_DEFAULTS,
  type PreparedConcept,
} from '../src/tcav/run.ts';
import type { CavMethod } from '../src/tcav/cav.ts';
import { stderrProgress } from '../src/util/progress.ts';
import { Rng } from '../src/util/random.ts';
import { args, opt } from './args.ts';
import { calibrateThroughYaml } from './calibration-yaml.ts';

const model = opt('model', 'models/asap.onnx');
const corpus = opt('corpus', '../shared/corpora/asap');
const layer = opt('layer', 'layer3');
const seeds = opt('seeds', '1,2,3').split(',').map(Number);
const nullPerSize = Number(opt('null', '40'));
const sizes = opt('sizes', '10,40').split(',').map(Number);
const composerSize = Number(opt('composer-size', '40'));
const family = Number(opt('family', '8'));
// How null concepts are drawn: spread over pieces (CorpusIndex.sample, as target excerpts and the
// pool are) or as a uniform sample of all windows.
const drawing = opt('draw', 'pieces');
const settings = {
  runs: Number(opt('runs', String(TCAV_DEFAULTS.runs))),
  nullConcepts: opt('null-concepts', '') ? Number(opt('null-concepts', '')) : undefined,
  targetExcerpts: Number(opt('excerpts', String(TCAV_DEFAULTS.targetExcerpts))),
  poolSize: Number(opt('pool-size', String(TCAV_DEFAULTS.poolSize))),
  cav: opt('cav', TCAV_DEFAULTS.cav) as CavMethod,
};

// The same calibration through YAML files and the CLI (calibration-yaml.ts), after the in-process
// one; `--yaml-only` runs just that, `--no-yaml` skips it.
const yaml = {
  model,
  corpus,
  seeds,
  sizes,
  perSize: Number(opt('yaml-null', '20')),
  composerSize,
  ...(opt('cache-dir', '') ? { cacheDir: opt('cache-dir', '') } : {}),
};
if (args.includes('--yaml-only')) {
  await calibrateThroughYaml(yaml);
  process.exit(0);
}

const t0 = performance.now();
const lens = await ConceptLens.open({ model, corpus, progress: stderrProgress() });
const targets = lens.targets();
console.log(
  `model ${model}, corpus ${corpus}, layer ${layer}, ${targets.length} composers, seeds ${seeds.join(',')}`,
);
console.log(
  `settings: ${settings.runs} runs, ${settings.nullConcepts ?? defaultNullConcepts(settings.cav)} random concepts per null, ${settings.targetExcerpts} excerpts per composer, pool ${settings.poolSize}, CAV ${settings.cav}`,
);

interface NullCell extends TcavEntry {
  size: number;
  seed: number;
  holmFamily: number;
  holmAll: number;
}
const nullCells: NullCell[] = [];
const powerCells: (TcavEntry & { seed: number; own: string })[] = [];
let seconds = 0;

for (const seed of seeds) {
  const concepts: (PreparedConcept & { size: number })[] = [];
  for (const size of sizes) {
    for (let k = 0; k < nullPerSize; k++) {
      const key = `calibration/${seed}/null/${size}/${k}`;
      const windows =
        drawing === 'uniform'
          ? new Rng(key).sample(lens.index.excerpts(targets), size)
          : lens.index.sample(size, key, targets);
      concepts.push({ name: `null-${size}-${k}`, examples: lens.corpusItems(windows), size });
    }
  }
  const started = performance.now();
  const entries = await runTcav(lens, concepts, {
    ...settings,
    layers: [layer],
    targets,
    seed,
  });
  const ownComposer: PreparedConcept[] = targets.map((t) => ({
    name: `only-${t}`,
    examples: lens.corpusItems(
      lens.index.sample(composerSize, `calibration/${seed}/composer/${t}`, [t]),
    ),
  }));
  const power = await runTcav(lens, ownComposer, { ...settings, layers: [layer], targets, seed });
  seconds += (performance.now() - started) / 1000;
  // Holm within families of `family` concepts (in concept order), and over all null cells.
  const sizeOf = new Map(concepts.map((c) => [c.name, c.size]));
  const names = concepts.map((c) => c.name);
  const famOf = new Map(names.map((n, i) => [n, Math.floor(i / family)]));
  const byFamily = new Map<number, TcavEntry[]>();
  for (const e of entries) {
    const f = famOf.get(e.concept)!;
    if (!byFamily.has(f)) byFamily.set(f, []);
    byFamily.get(f)!.push(e);
  }
  const familyP = new Map<TcavEntry, number>();
  for (const cells of byFamily.values()) {
    const adjusted = holm(cells.map((c) => c.pValue));
    cells.forEach((c, i) => familyP.set(c, adjusted[i]));
  }
  for (const e of entries) {
    nullCells.push({
      ...e,
      size: sizeOf.get(e.concept)!,
      seed,
      holmFamily: familyP.get(e)!,
      holmAll: e.pValueCorrected,
    });
  }
  for (const e of power) powerCells.push({ ...e, seed, own: e.concept.slice('only-'.length) });
  const sig = entries.filter((e) => e.pValue < 0.05).length;
  console.error(
    `seed ${seed}: ${entries.length} null cells, ${sig} with p < 0.05; one-composer: ${power.filter((e) => e.target === e.concept.slice(5) && e.significant && e.effect > e.randomEffect).length}/${targets.length}`,
  );
}
await lens.close();

const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(1)}%` : '–');
console.log('\nNull concepts (random windows, all composers mixed): share of cells with p < 0.05');
console.log(`${'composer'.padEnd(12)}${sizes.map((s) => `size ${s}`.padStart(18)).join('')}`);
for (const t of [...targets, 'all']) {
  const row = sizes.map((s) => {
    const cells = nullCells.filter((c) => c.size === s && (t === 'all' || c.target === t));
    const hits = cells.filter((c) => c.pValue < 0.05).length;
    return `${pct(hits, cells.length)} (${hits}/${cells.length})`.padStart(18);
  });
  console.log(`${t.padEnd(12)}${row.join('')}`);
}
for (const s of sizes) {
  const cells = nullCells.filter((c) => c.size === s);
  const below = (a: number) => pct(cells.filter((c) => c.pValue < a).length, cells.length);
  const up = cells.filter((c) => c.pValue < 0.05 && c.effect > c.randomEffect).length;
  console.log(
    `size ${s}: p < 0.1 ${below(0.1)}, p < 0.05 ${below(0.05)} (${up} up, ${cells.filter((c) => c.pValue < 0.05).length - up} down), p < 0.01 ${below(0.01)}, p < 0.001 ${below(0.001)}; ` +
      `significant after Holm: ${cells.filter((c) => c.holmFamily < 0.05).length} (families of ${family} concepts), ${cells.filter((c) => c.holmAll < 0.05).length} (all null cells of a seed); ` +
      `CAV reliable: ${pct(cells.filter((c) => c.cavReliable).length, cells.length)} (mean balanced accuracy ${(cells.reduce((a, c) => a + c.cavAccuracy, 0) / cells.length).toFixed(3)})`,
  );
}
for (const seed of seeds) {
  const cells = nullCells.filter((c) => c.seed === seed);
  console.log(
    `seed ${seed}: ${sizes.map((s) => `size ${s} ${pct(cells.filter((c) => c.size === s && c.pValue < 0.05).length, cells.filter((c) => c.size === s).length)}`).join(', ')}`,
  );
}

console.log(
  `\nOne-composer concepts (${composerSize} random windows of one composer): own composer`,
);
for (const t of targets) {
  const own = powerCells.filter((c) => c.own === t && c.target === t);
  const hit = own.filter((c) => c.significant && c.effect > c.randomEffect).length;
  const others = powerCells.filter((c) => c.own === t && c.target !== t && c.significant);
  console.log(
    `${t.padEnd(12)} significant and positive ${hit}/${own.length}; effect ${own.map((c) => c.effect.toPrecision(2)).join(', ')} (null ${own.map((c) => `${c.randomEffect.toPrecision(1)}±${c.randomEffectStd.toPrecision(1)}`).join(', ')}); other composers significant: ${others.length} (${others.filter((c) => c.effect > c.randomEffect).length} up)`,
  );
}
const own = powerCells.filter((c) => c.own === c.target);
console.log(
  `power: ${pct(own.filter((c) => c.significant && c.effect > c.randomEffect).length, own.length)} (${own.filter((c) => c.significant && c.effect > c.randomEffect).length}/${own.length})`,
);
console.log(
  `\nTCAV time: ${seconds.toFixed(1)} s over ${seeds.length} seeds; total ${((performance.now() - t0) / 1000).toFixed(1)} s (shared machine)`,
);
if (!args.includes('--no-yaml')) await calibrateThroughYaml(yaml);
