/**
 * NMF on the default explain run's discovery input: the synthetic model's layer4 maps of 40
 * excerpts per composer (200 excerpts, 7,800 rows of 128 channels), factorised into 10 components
 * as `explain` does. Prints the time and the relative error of each solver, side by side in one
 * run (the machine is shared, so ratios matter more than seconds).
 *   npm run bench:nmf -- [--repeats 3]
 */
import { layerMap } from '../src/model/axes.ts';
import { nmf, type NmfSolver } from '../src/discovery/nmf.ts';
import { ConceptLens } from '../src/lens/lens.ts';
import { SYNTHETIC_MODEL } from '../test/synthetic/helpers.ts';

const args = process.argv.slice(2);
const r = args.indexOf('--repeats');
const repeats = r >= 0 ? Number(args[r + 1]) : 3;

const lens = await ConceptLens.open({ model: SYNTHETIC_MODEL, corpus: 'synthetic' });
const layer = lens.classifier.layer('layer4');
const windows = lens.targets().flatMap((t) => lens.index.sample(40, `1/discovery/${t}`, [t]));
const acts = await lens.activations(await lens.corpusItemsAsync(windows), ['layer4'], 'layer4');
const A = acts.layers.layer4;
const D = acts.sizes.layer4;
const { positions, features: C, index } = layerMap(layer.shape, layer.axes);
const n = windows.length * positions;
const V = new Float32Array(n * C);
for (let i = 0; i < windows.length; i++)
  for (let e = 0; e < positions * C; e++)
    V[i * positions * C + e] = Math.max(0, A[i * D + index[e]]);
console.log(`V: ${n} rows x ${C} columns, 10 components, ${repeats} repeats`);
for (const solver of ['mu', 'hals'] as NmfSolver[]) {
  const times: number[] = [];
  const cpu: number[] = [];
  let last;
  for (let k = 0; k < repeats; k++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    last = nmf(V, n, C, 10, { seed: 1, maxIterations: 300, solver });
    const c = process.cpuUsage(c0);
    times.push((performance.now() - t0) / 1000);
    cpu.push((c.user + c.system) / 1e6);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(
    `${solver.padEnd(5)} median ${median(times).toFixed(2)} s wall, ${median(cpu).toFixed(2)} s CPU, ${last!.iterations} iterations, relative error ${last!.relativeError.toFixed(4)}`,
  );
}
await lens.close?.();
