/**
 * Stability of TCAV verdicts across seeds: the shipped concepts run with seeds s..s+N-1, per cell
 * its z (the concept's effect against the null, in the null's standard deviations) in every seed,
 * and the share of cells significant in some seed that are significant in all.
 *
 *   npm run bench:stability -- [--model models/asap.onnx] [--corpus ../shared/corpora/asap]
 *        [--concepts concepts/asap] [--seeds 10 | 1,2,3] [--layer layer3] [--cav fast|logistic]
 *        [--runs R] [--null-concepts M] [--excerpts E] [--pool-size P] [--effect-windows W]
 */
import { loadConcepts } from '../src/concepts/load.ts';
import { ConceptLens } from '../src/lens/lens.ts';
import { prepareConcepts, runTcav, TCAV_DEFAULTS, defaultNullConcepts } from '../src/tcav/run.ts';
import { stableShare, withStability } from '../src/tcav/stability.ts';
import type { TcavEntry } from '../src/results/results.ts';
import type { CavMethod } from '../src/tcav/cav.ts';
import { stderrProgress } from '../src/util/progress.ts';
import { opt } from './args.ts';

const model = opt('model', 'models/asap.onnx');
const corpus = opt('corpus', '../shared/corpora/asap');
const layer = opt('layer', 'layer3');
const seedList = opt('seeds', '1,2,3,4,5,6,7,8,9,10');
// `--seeds 10` means seeds 1-10; a list names them.
const seeds = seedList.includes(',')
  ? seedList.split(',').map(Number)
  : [...Array(Number(seedList)).keys()].map((i) => i + 1);
const cav = opt('cav', TCAV_DEFAULTS.cav) as CavMethod;
const settings = {
  runs: Number(opt('runs', String(TCAV_DEFAULTS.runs))),
  nullConcepts: Number(opt('null-concepts', String(defaultNullConcepts(cav)))),
  resamplingRisk: Number(opt('resampling-risk', String(TCAV_DEFAULTS.resamplingRisk))),
  targetExcerpts: Number(opt('excerpts', String(TCAV_DEFAULTS.targetExcerpts))),
  poolSize: Number(opt('pool-size', String(TCAV_DEFAULTS.poolSize))),
  effectWindows: Number(opt('effect-windows', String(TCAV_DEFAULTS.effectWindows))),
  cav,
};

const lens = await ConceptLens.open({ model, corpus, progress: stderrProgress() });
const { concepts, errors } = loadConcepts(opt('concepts', 'concepts/asap'));
if (errors.length) throw new Error(errors.map((e) => `${e.file}: ${e.reason}`).join('\n'));
const prepared = await prepareConcepts(lens, concepts);
console.log(
  `model ${model}, layer ${layer}, seeds ${seeds.join(',')}, ${settings.runs} runs, ${settings.nullConcepts} random concepts, ${settings.targetExcerpts} excerpts, effects over up to ${settings.effectWindows} windows, pool ${settings.poolSize}, CAV ${cav}`,
);
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const runs: TcavEntry[][] = [];
for (const seed of seeds)
  runs.push(
    await runTcav(lens, prepared, { layers: [layer], targets: lens.targets(), seed, ...settings }),
  );
const cells = withStability(runs, seeds);
const wall = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const sds: number[] = [];
for (const [k, c] of cells.entries()) {
  const st = c.stability!;
  // z of each seed against its own null (the effect in the null's standard deviations).
  const z = runs.map((r) => (r[k].effect - r[k].randomEffect) / r[k].randomEffectStd);
  const m = z.reduce((a, b) => a + b, 0) / z.length;
  sds.push(Math.sqrt(z.reduce((a, b) => a + (b - m) ** 2, 0) / (z.length - 1)));
  if (st.significantUp + st.significantDown > 0 && !st.stable)
    console.log(
      `  effect ${runs.map((r) => r[k].effect.toPrecision(3)).join(' ')}; null ${runs.map((r) => `${r[k].randomEffect.toPrecision(2)}±${r[k].randomEffectStd.toPrecision(3)}`).join(' ')}`,
    );
  if (st.significantUp + st.significantDown > 0)
    console.log(
      `${c.concept.padEnd(28)} ${c.target.padEnd(10)} up ${st.significantUp} down ${st.significantDown} ${st.stable ? 'STABLE  ' : 'unstable'} z ${z.map((v) => v.toFixed(2)).join(' ')}  pHolm ${st.pValuesCorrected.map((p) => p.toExponential(1)).join(' ')}`,
    );
}
// Decided verdicts (src/tcav/decide.ts): a reversal is a cell decided significant in one seed and
// decided not significant in another; undecided is allowed.
const ever = cells.filter((c) => c.stability!.outcomes!.includes('significant'));
const reversed = cells.filter((c) => c.stability!.reversed);
const undecidedSlots = ever.reduce(
  (a, c) => a + c.stability!.outcomes!.filter((x) => x === 'undecided').length,
  0,
);
for (const c of ever)
  console.log(
    `${c.concept.padEnd(28)} ${c.target.padEnd(10)} ${c.stability!.outcomes!.map((x) => (x === 'significant' ? 'S' : x === 'undecided' ? '?' : 'n')).join('')}`,
  );
console.log(
  `decided verdicts over ${seeds.length} seeds: ${reversed.length} cells significant in one seed and not significant in another; ` +
    `${ever.length} cells significant in some seed, undecided in ${undecidedSlots} of their ${ever.length * seeds.length} cell-seeds ` +
    `(${((100 * undecidedSlots) / Math.max(1, ever.length * seeds.length)).toFixed(1)}%), ${ever.filter((c) => c.stability!.outcomes!.includes('undecided')).length} cells undecided in some seed`,
);
sds.sort((a, b) => a - b);
const share = stableShare(cells);
console.log(
  `stable ${share.allSeeds} of ${share.anySeed} cells significant in some seed (${(100 * share.share).toFixed(0)}%); median sd of z across seeds ${sds[Math.floor(sds.length / 2)].toFixed(3)}`,
);
console.log(
  `time: ${wall.toFixed(0)} s wall for ${seeds.length} seeds (${((cpu.user + cpu.system) / 1e6).toFixed(0)} s CPU), load ${(await import('node:os')).loadavg()[0].toFixed(1)}`,
);
await lens.close();
