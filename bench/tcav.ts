/**
 * Time of a full TCAV run, split by stage, with exact gradients and with finite differences side
 * by side in one process: every concept of a folder x random runs x all composers of the model,
 * at one layer, on a real model and corpus (the issue's benchmark: the ASAP model, its 8 concepts,
 * 50 excerpts per composer; runs, null concepts, pool and CAV method as in the CLI's defaults
 * unless given).
 *   npx tsx bench/tcav.ts [--model models/asap.onnx] [--corpus ../shared/corpora/asap | synthetic]
 *                         [--concepts concepts/asap] [--layer layer3] [--runs R] [--excerpts 50]
 *                         [--null-concepts M] [--pool-size N] [--cav logistic|fast|both]
 *                         [--methods exact,finite-difference] [--effect-windows W]
 * Without --methods, exact gradients and finite differences side by side at the previous TCAV
 * defaults (see `withFd`); `--methods exact` times a run at the CLI's defaults (docs/method.md, Cost).
 * With `--cav both` the logistic CAV and FastCAV run side by side (exact derivatives) on the same
 * draws, and their agreement is printed: cosine of the two CAVs run by run, verdicts, effects.
 * With `--corpus synthetic` the defaults become models/synthetic.onnx and concepts/textures.
 * Activations are not cached (each method starts cold). Stages:
 *   reading      the corpus index and the concept examples (MIDI, rendering)
 *   activations  model runs for target excerpts, random sets and concept examples
 *   derivatives  building the head (and its gradient graph), the derivative tables (gradients,
 *                or finite differences, along the pool's and the concepts' rows: derivatives.ts)
 *   CAV fitting  Gram matrices, the concepts' CAVs and the nulls' random concepts (TcavLayer
 *                minus its derivatives); TcavLayer.cost splits concepts from nulls
 *   tests        the rest of the run: scores, t-tests, Holm's correction
 * The stages are timed by wrapping the methods that do them (bench instrumentation only).
 */
import { loadConcepts } from '../src/concepts/load.ts';
import { ConceptLens } from '../src/lens/lens.ts';
import { ComposerClassifier } from '../src/model/classifier.ts';
import { HeadModel, type DerivativeMethod } from '../src/model/head.ts';
import type { TcavEntry } from '../src/results/results.ts';
import type { CavMethod } from '../src/tcav/cav.ts';
import { DerivativeTable } from '../src/tcav/derivatives.ts';
import { TcavLayer } from '../src/tcav/layer.ts';
import {
  defaultNullConcepts,
  prepareConcepts,
  runTcav,
  TCAV_DEFAULTS,
  type ConceptCavs,
} from '../src/tcav/run.ts';
import { stderrProgress } from '../src/util/progress.ts';
import { opt } from './args.ts';

const corpus = opt('corpus', '../shared/corpora/asap');
const synthetic = corpus === 'synthetic';
const model = opt('model', synthetic ? 'models/synthetic.onnx' : 'models/asap.onnx');
const conceptDir = opt('concepts', synthetic ? 'concepts/textures' : 'concepts/asap');
const layer = opt('layer', 'layer3');
const runs = Number(opt('runs', String(TCAV_DEFAULTS.runs)));
const excerpts = Number(opt('excerpts', '50'));
const cavArg = opt('cav', TCAV_DEFAULTS.cav);
const cav = (cavArg === 'both' ? TCAV_DEFAULTS.cav : cavArg) as CavMethod;
const methods = opt('methods', 'exact,finite-difference').split(',') as DerivativeMethod[];
// With finite differences in the run, every method gets the previous defaults (nulls of 1000, a pool
// of 1000, effects on the target excerpts): finite differences cannot take the effects' mean
// gradients (src/tcav/effects.ts), and at the CLI's defaults their derivative tables (pool x
// excerpts, two head runs each) would take hours. `--methods exact` times the CLI's defaults.
const withFd = methods.includes('finite-difference');
const nullConcepts = opt('null-concepts', '')
  ? Number(opt('null-concepts', ''))
  : withFd
    ? 1000
    : undefined;
const poolSize = Number(opt('pool-size', withFd ? '1000' : String(TCAV_DEFAULTS.poolSize)));
const effectWindows = Number(
  opt('effect-windows', withFd ? '0' : String(TCAV_DEFAULTS.effectWindows)),
);

/**
 * Wall-clock and CPU milliseconds spent inside each wrapped stage (outermost call only). CPU time
 * (all threads of this process) is the steadier figure on a machine shared with other jobs.
 */
interface Time {
  wall: number;
  cpu: number;
}
const zero = (): Time => ({ wall: 0, cpu: 0 });
const spent = { activations: zero(), derivatives: zero(), heads: zero(), tcavLayer: zero() };
type Stage = keyof typeof spent;
const depth: Record<Stage, number> = { activations: 0, derivatives: 0, heads: 0, tcavLayer: 0 };

function now(): Time {
  const c = process.cpuUsage();
  return { wall: performance.now(), cpu: (c.user + c.system) / 1000 };
}
const minus = (a: Time, b: Time): Time => ({ wall: a.wall - b.wall, cpu: a.cpu - b.cpu });
const plus = (a: Time, b: Time): Time => ({ wall: a.wall + b.wall, cpu: a.cpu + b.cpu });

function timed<T extends object, K extends keyof T>(target: T, key: K, stage: Stage) {
  const original = target[key] as unknown as (...a: unknown[]) => Promise<unknown>;
  (target as Record<K, unknown>)[key] = async function (this: unknown, ...a: unknown[]) {
    const t0 = now();
    depth[stage]++;
    try {
      return await original.apply(this, a);
    } finally {
      depth[stage]--;
      if (depth[stage] === 0) spent[stage] = plus(spent[stage], minus(now(), t0));
    }
  } as unknown as T[K];
}
timed(ConceptLens.prototype, 'activations', 'activations');
timed(HeadModel.prototype, 'directionalDerivatives', 'derivatives');
timed(HeadModel.prototype, 'rowDerivatives', 'derivatives');
timed(DerivativeTable, 'create', 'derivatives');
timed(DerivativeTable.prototype, 'along', 'derivatives');
timed(ComposerClassifier.prototype, 'head', 'heads');
timed(TcavLayer.prototype, 'testConcept', 'tcavLayer');
timed(TcavLayer, 'prepare', 'tcavLayer');

interface Split {
  reading: Time;
  activations: Time;
  cavs: Time;
  derivatives: Time;
  tests: Time;
  tcav: Time;
  entries: TcavEntry[];
  composers: number;
  concepts: number;
  cost: TcavLayer['cost'];
  pool: number;
  directions: Map<string, ConceptCavs>;
}

async function open(derivatives: DerivativeMethod) {
  const lens = await ConceptLens.open({
    model,
    corpus,
    cacheDir: false,
    progress: stderrProgress(),
    derivatives,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const { concepts } = loadConcepts(conceptDir);
  return { lens, concepts, prepared: await prepareConcepts(lens, concepts) };
}

async function measure(derivatives: DerivativeMethod, method: CavMethod = cav): Promise<Split> {
  for (const k of Object.keys(spent) as Stage[]) spent[k] = zero();
  const t0 = now();
  const { lens, concepts, prepared } = await open(derivatives);
  const tRead = now();
  let tcavLayer: TcavLayer | undefined;
  const directions = new Map<string, ConceptCavs>();
  const entries = await runTcav(lens, prepared, {
    layers: [layer],
    targets: lens.targets(),
    runs,
    targetExcerpts: excerpts,
    nullConcepts,
    poolSize,
    effectWindows,
    cav: method,
    seed: 1,
    onCavs: (c) => directions.set(c.concept, c),
    onLayer: (_l, t) => (tcavLayer = t),
  });
  const tEnd = now();
  const record = await lens.derivativesRecord([layer]);
  if (record[0].derivatives !== derivatives)
    throw new Error(`${layer}: asked for ${derivatives}, got ${record[0].derivatives}`);
  const composers = lens.targets().length;
  await lens.close();
  // Activations are computed outside TcavLayer, directional derivatives inside it, heads (and
  // their gradient graphs) are built outside it.
  const cavs = minus(spent.tcavLayer, spent.derivatives);
  const tcav = minus(tEnd, tRead);
  const derivativesTotal = plus(spent.derivatives, spent.heads);
  return {
    reading: minus(tRead, t0),
    activations: spent.activations,
    cavs,
    derivatives: derivativesTotal,
    tests: minus(minus(minus(tcav, spent.activations), cavs), derivativesTotal),
    tcav,
    entries,
    composers,
    concepts: concepts.length,
    cost: tcavLayer!.cost,
    pool: tcavLayer!.pool.n,
    directions,
  };
}

// Warm-up (module loading, onnxruntime start, first corpus read), not timed.
await (await open('finite-difference')).lens.close();
const results = new Map<DerivativeMethod, Split>();
for (const m of methods) results.set(m, await measure(m));

const first = results.values().next().value!;
console.log(`model ${model}, corpus ${corpus}, layer ${layer}`);
console.log(
  `${first.concepts} concepts x ${runs} runs x ${first.composers} composers x ${excerpts} excerpts = ${first.entries.length} cells; CAV ${cav}; ` +
    `nulls of ${nullConcepts ?? defaultNullConcepts(cav)} random concepts per concept size, drawn with the counterexamples from a pool of ${first.pool} windows`,
);
const s = (t: Time) => `${(t.wall / 1000).toFixed(1)} s (cpu ${(t.cpu / 1000).toFixed(1)})`;
const rows: [string, keyof Split][] = [
  ['reading', 'reading'],
  ['activations', 'activations'],
  ['CAV fitting', 'cavs'],
  ['derivatives', 'derivatives'],
  ['tests', 'tests'],
  ['TCAV (all but reading)', 'tcav'],
];
const exact = results.get('exact');
const fd = results.get('finite-difference');
const ratio = (a: Time, b: Time) =>
  `${(a.wall / b.wall).toFixed(1)}x (cpu ${(a.cpu / b.cpu).toFixed(1)}x)`;
console.log(
  `${'stage, wall (cpu) seconds'.padEnd(26)}${methods.map((m) => m.padStart(24)).join('')}${exact && fd ? '   fd / exact' : ''}`,
);
for (const [label, key] of rows) {
  const cells = methods.map((m) => s(results.get(m)![key] as Time).padStart(24)).join('');
  const r = exact && fd ? `   ${ratio(fd[key] as Time, exact[key] as Time)}` : '';
  console.log(`${label.padEnd(26)}${cells}${r}`);
}
if (exact && fd) {
  const total = (x: Split) => plus(x.reading, x.tcav);
  console.log(
    `${'total'.padEnd(26)}${s(total(exact)).padStart(24)}${s(total(fd)).padStart(24)}   ${ratio(total(fd), total(exact))}`,
  );
  const verdict = (e: TcavEntry) =>
    `${e.concept}/${e.target}: ${e.significant ? (e.effect > e.randomEffect ? '+' : '-') : '0'}`;
  const same = exact.entries.filter((e, i) => verdict(e) === verdict(fd.entries[i])).length;
  let worst = 0;
  let scale = 0;
  exact.entries.forEach((e, i) => {
    worst = Math.max(worst, Math.abs(e.effect - fd.entries[i].effect));
    scale = Math.max(scale, Math.abs(e.effect));
  });
  console.log(
    `verdicts: ${same}/${exact.entries.length} cells the same with both methods; effects differ by at most ${(worst / scale).toExponential(1)} of the largest`,
  );
}
for (const m of methods) {
  const r = results.get(m)!;
  const e = r.entries;
  const c = r.cost;
  console.log(
    `${m}: significant cells ${e.filter((x) => x.significant).length}/${e.length}; inside TcavLayer: ` +
      `derivative tables ${c.derivativeRows} rows, ${(c.derivativeMs / 1000).toFixed(1)} s; concepts' own runs ${(c.conceptMs / 1000).toFixed(1)} s; ` +
      `nulls ${c.randomConcepts} random concepts x ${runs} runs, ${(c.nullMs / 1000).toFixed(1)} s; ${c.cavFits} CAV fits`,
  );
}

if (cavArg === 'both') {
  // Logistic and FastCAV on the same draws (the random streams do not depend on the method).
  const other: CavMethod = cav === 'fast' ? 'logistic' : 'fast';
  const a = results.get('exact') ?? (await measure('exact'));
  const b = await measure('exact', other);
  console.log(
    `\nCAV ${other} (exact derivatives): TCAV ${s(b.tcav)}; nulls ${(b.cost.nullMs / 1000).toFixed(1)} s, ${b.cost.cavFits} CAV fits; CAV ${cav}: TCAV ${s(a.tcav)}, nulls ${(a.cost.nullMs / 1000).toFixed(1)} s`,
  );
  const cosines: number[] = [];
  for (const [name, ca] of a.directions) {
    const cb = b.directions.get(name)!;
    const perRun = ca.directions.map((d, r) => {
      let dot = 0;
      for (let i = 0; i < d.length; i++) dot += d[i] * cb.directions[r][i];
      return dot;
    });
    cosines.push(...perRun);
    console.log(
      `  ${name.padEnd(34)} cosine(${cav}, ${other}) per run: mean ${(perRun.reduce((x, y) => x + y, 0) / perRun.length).toFixed(3)}, min ${Math.min(...perRun).toFixed(3)}`,
    );
  }
  const key = (e: TcavEntry) => `${e.concept}/${e.target}`;
  const byKey = new Map(b.entries.map((e) => [key(e), e]));
  const verdict = (e: TcavEntry) => (e.significant ? Math.sign(e.effect - e.randomEffect) : 0);
  const same = a.entries.filter((e) => verdict(e) === verdict(byKey.get(key(e))!)).length;
  const z = (e: TcavEntry) => (e.effect - e.randomEffect) / e.randomEffectStd;
  console.log(
    `${cav} vs ${other}: mean cosine ${(cosines.reduce((x, y) => x + y, 0) / cosines.length).toFixed(3)}; ` +
      `verdicts agree in ${same}/${a.entries.length} cells (${a.entries.filter((e) => e.significant).length} and ${b.entries.filter((e) => e.significant).length} significant); ` +
      `standardised effects correlate r = ${pearson(
        a.entries.map(z),
        a.entries.map((e) => z(byKey.get(key(e))!)),
      ).toFixed(3)}`,
  );
}

function pearson(x: number[], y: number[]): number {
  const mx = x.reduce((p, q) => p + q, 0) / x.length;
  const my = y.reduce((p, q) => p + q, 0) / y.length;
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
