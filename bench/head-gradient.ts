/**
 * CPU cost of one exact gradient run of a head (the part of a model after a layer), against the
 * forward pass of the whole model over the same excerpts: how much a new backward rule (Resize's
 * Gathers, say) adds where TCAV spends its time. In-process, `process.cpuUsage` (all threads)
 * and wall time, after one warm-up run of each; reports every repeat, since a shared machine
 * makes single figures noisy.
 *   npx tsx bench/head-gradient.ts [--model test/fixtures/matrix/unet_upsample.onnx]
 *                                  [--layer conv] [--n 32] [--repeat 3]
 * The excerpts are sparse random rolls (2% of the cells on), seeded; one class weight per row.
 */
import { ComposerClassifier } from '../src/model/classifier.ts';
import { Rng } from '../src/util/random.ts';
import { opt } from './args.ts';

const modelPath = opt('model', 'test/fixtures/matrix/unet_upsample.onnx');
const layer = opt('layer', 'conv');
const n = Number(opt('n', '32'));
const repeat = Number(opt('repeat', '3'));

const classifier = await ComposerClassifier.load(modelPath);
try {
  const D = classifier.inputSize;
  const C = classifier.classes;
  const rng = new Rng('bench/head-gradient');
  const x = Float32Array.from({ length: n * D }, () => (rng.next() < 0.02 ? 1 : 0));
  const w = new Float32Array(n * C);
  for (let i = 0; i < n; i++) w[i * C + (i % C)] = 1;
  const run = await classifier.run(x, n, [layer]);
  const head = await classifier.head(layer);
  console.log(`${modelPath} at ${layer}: derivatives ${head.derivatives}`);
  await head.gradients(run.activations[layer], n, w);
  await classifier.run(x, n, []);
  const cpu = async (f: () => Promise<unknown>) => {
    const start = process.cpuUsage();
    const t0 = performance.now();
    await f();
    const used = process.cpuUsage(start);
    return `${((used.user + used.system) / 1000).toFixed(0)} ms CPU (${(performance.now() - t0).toFixed(0)} ms wall)`;
  };
  for (let r = 0; r < repeat; r++) {
    const forward = await cpu(() => classifier.run(x, n, []));
    const gradient = await cpu(() => head.gradients(run.activations[layer], n, w));
    console.log(`${n} excerpts: forward ${forward}, gradient at ${layer} ${gradient}`);
  }
} finally {
  await classifier.release();
}
