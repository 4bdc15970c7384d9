/**
 * TCAV at large layers (issue 13, item 5: a VGG layer of ~140k dimensions took 11 minutes): where
 * the time goes, measured side by side at layers of 70k, 140k and 280k dimensions of one VGG, so
 * that anything growing faster than the layer size shows up in the ratios.
 *   /usr/bin/python3 training/fixtures/make_foreign_fixtures.py --bench-vgg /tmp/vgg_bench.onnx
 *   npx tsx bench/large-layer.ts [--model /tmp/vgg_bench.onnx] [--corpus synthetic]
 *       [--layers features.8,features.5,features.2] [--runs 10] [--set-size 20] [--excerpts 20]
 *       [--derivatives exact|finite-difference|both]
 * Stages: model runs for activations; directional derivatives (exact: one backward pass per
 * excerpt and composer, then dot products; finite differences: two head runs per excerpt and
 * direction); and everything else (Gram matrices, CAV fits, scores, tests), which should grow
 * linearly with the layer size.
 */
import { loadConcepts } from '../src/concepts/load.ts';
import { ConceptLens } from '../src/lens/lens.ts';
import { prepareConcepts, runTcav } from '../src/tcav/run.ts';
import { silentProgress } from '../src/util/progress.ts';
import { opt } from './args.ts';

const model = opt('model', '/tmp/vgg_bench.onnx');
const corpus = opt('corpus', 'synthetic');
const layers = opt('layers', 'features.8,features.5,features.2').split(',');
const runs = Number(opt('runs', '10'));
const setSize = Number(opt('set-size', '20'));
const excerpts = Number(opt('excerpts', '20'));
const methodArg = opt('derivatives', 'exact');
const methods = (methodArg === 'both' ? ['exact', 'finite-difference'] : [methodArg]) as (
  'exact' | 'finite-difference'
)[];

const lens = await ConceptLens.open({
  model,
  corpus,
  cacheDir: false,
  progress: silentProgress,
  log: (line) => console.log(line),
});
const { concepts } = loadConcepts(opt('concepts', 'concepts/textures/alberti.yaml'));
const prepared = await prepareConcepts(lens, concepts);
const targets = lens.targets();
console.log(
  `model ${model}, corpus ${corpus}: ${concepts.length} concept(s) x ${runs} random runs of ${setSize} x ${targets.length} composers x ${excerpts} excerpts`,
);

// Time spent in the lens's model runs and in the heads' derivatives, by wrapping them.
let activationMs = 0;
const activations = lens.activations.bind(lens);
lens.activations = async (...a: Parameters<typeof lens.activations>) => {
  const t = performance.now();
  try {
    return await activations(...a);
  } finally {
    activationMs += performance.now() - t;
  }
};
const rows: string[][] = [];
for (const layer of layers) {
  for (const method of methods) {
    // Heads are built once per layer; releasing them makes the next one use this method.
    lens.classifier.derivatives = method;
    await lens.classifier.release();
    const info = lens.classifier.layer(layer);
    const size = info.shape.reduce((a, b) => a * b, 1);
    const head = await lens.head(layer);
    let derivativeMs = 0;
    let pairs = 0;
    const dd = head.directionalDerivatives.bind(head);
    head.directionalDerivatives = async (...a: Parameters<typeof head.directionalDerivatives>) => {
      const t = performance.now();
      try {
        return await dd(...a);
      } finally {
        derivativeMs += performance.now() - t;
        pairs += a[1] * a[2].length;
      }
    };
    activationMs = 0;
    const t0 = performance.now();
    await runTcav(lens, prepared, {
      layers: [layer],
      targets,
      runs,
      setSize,
      targetExcerpts: excerpts,
      seed: 1,
    });
    const total = performance.now() - t0;
    const rest = total - activationMs - derivativeMs;
    rows.push([
      `${layer} [${info.shape.join(', ')}]`,
      String(size),
      head.derivatives,
      (total / 1000).toFixed(1),
      (activationMs / 1000).toFixed(1),
      `${(derivativeMs / 1000).toFixed(1)} (${pairs} pairs)`,
      (rest / 1000).toFixed(2),
      ((rest / size) * 1e3).toFixed(2),
    ]);
  }
}
await lens.close();

const header = [
  'layer',
  'dims',
  'derivatives',
  'total s',
  'activations s',
  'derivatives s',
  'rest s',
  'rest ms per 1k dims',
];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
for (const r of [header, ...rows]) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  '));
console.log(
  'rest = Gram matrices, CAV fits, scores, tests: linear in the layer size if "rest ms per 1k dims" stays flat.',
);
// Peak resident memory of this process (maxRSS is in kB): bounded whatever the layer size (src/tcav/memory.ts).
console.log(`peak resident memory: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
