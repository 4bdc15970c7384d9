/**
 * Throughput of src/model on a classifier: excerpts/s for logits + activations at a layer, and
 * directional derivatives/s through the head from that layer, exact (gradients) and by finite
 * differences.
 *   npx tsx bench/model.ts <model.onnx> [layer] [--excerpts 512] [--directions 10]
 * Layer defaults to the middle one of `model inspect`'s list. Inputs are seeded random sparse rolls.
 *
 * Without a model (`npm run bench:model`): what every shipped model (models/*.onnx) gets right on
 * the test split of its corpus, by windows and by pieces (the vote of `model evaluate`), so that a
 * retrained model is compared with the others on the same figures. The corpus is the one its card
 * names: `synthetic`, or ASAP from $CONCEPT_LENS_ASAP or ../shared/corpora/asap (models on an
 * absent corpus are listed as skipped).
 *   npx tsx bench/model.ts [--split test|validation|train|all]
 */
import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SplitName } from '../src/corpus/split.ts';
import { evaluateOnCorpus, readModelCard } from '../src/lens/evaluate.ts';
import { ConceptLens } from '../src/lens/lens.ts';
import { PianoRoll } from '../src/midi/roll.ts';
import { activations } from '../src/model/activations.ts';
import { ComposerClassifier } from '../src/model/classifier.ts';
import { rollLayoutOf } from '../src/model/input.ts';
import { Rng } from '../src/util/random.ts';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args.splice(i, 2)[1]) : fallback;
};
const stringFlag = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args.splice(i, 2)[1] : fallback;
};
const excerpts = flag('excerpts', 512);
const directionCount = flag('directions', 10);
const split = stringFlag('split', 'test') as SplitName | 'all';
const [modelPath, layerArg] = args;
if (!modelPath) {
  await shippedModelFigures(split);
  process.exit(0);
}

/** Windows and pieces figures of every models/*.onnx on its corpus's split, one table. */
async function shippedModelFigures(split: SplitName | 'all'): Promise<void> {
  const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
  const asap = process.env.CONCEPT_LENS_ASAP ?? resolve(repo, '../shared/corpora/asap');
  const models = readdirSync(resolve(repo, 'models'))
    .filter((f) => f.endsWith('.onnx'))
    .sort();
  const rows: string[] = [];
  const head = `${'model'.padEnd(24)} ${'corpus'.padEnd(9)} ${'windows'.padStart(7)} ${'acc'.padStart(6)} ${'bal'.padStart(6)} ${'pieces'.padStart(6)} ${'acc'.padStart(6)} ${'bal'.padStart(6)}`;
  console.log(`${split} split: windows judged alone, and pieces by the vote of their windows`);
  console.log(head);
  for (const file of models) {
    const path = resolve(repo, 'models', file);
    const card = readModelCard(path);
    const corpusName = (card?.corpus as { name?: string } | undefined)?.name;
    const corpus =
      corpusName === 'synthetic' ? 'synthetic' : corpusName === 'asap' ? asap : undefined;
    if (!corpus || (corpus !== 'synthetic' && !existsSync(corpus))) {
      rows.push(`${file}: skipped (corpus ${corpusName ?? 'unknown'} not available)`);
      continue;
    }
    const seed = (card?.split as { seed?: number } | undefined)?.seed ?? 1;
    const t0 = performance.now();
    const lens = await ConceptLens.open({ model: path, corpus, cacheDir: false });
    try {
      const r = await evaluateOnCorpus(lens, split, seed);
      const p = r.byPiece;
      console.log(
        `${file.padEnd(24)} ${(corpusName ?? '').padEnd(9)} ${String(r.excerpts).padStart(7)} ${r.accuracy.toFixed(3).padStart(6)} ${r.balancedAccuracy.toFixed(3).padStart(6)} ${String(r.pieces).padStart(6)} ${p.accuracy.toFixed(3).padStart(6)} ${p.balancedAccuracy.toFixed(3).padStart(6)}` +
          `   (${((performance.now() - t0) / 1000).toFixed(0)} s)`,
      );
    } finally {
      await lens.close();
    }
  }
  for (const row of rows) console.log(row);
}

const classifier = await ComposerClassifier.load(modelPath);
const layers = classifier.layers();
const layer = classifier.layer(layerArg ?? layers[Math.floor(layers.length / 2)].name);
const size = layer.shape.reduce((a, b) => a * b, 1);
console.log(
  `${modelPath}: input ${classifier.input.windowFrames}x${classifier.input.highPitch - classifier.input.lowPitch + 1}, layer ${layer.name} [${layer.shape}]`,
);

const rng = new Rng(1);
const pool = Array.from({ length: 64 }, () => {
  const roll = new PianoRoll(rollLayoutOf(classifier.input), classifier.input.windowFrames);
  roll.data.forEach((_, i) => (roll.data[i] = rng.next() < 0.05 ? 1 : 0));
  return roll;
});

// Warm-up builds the session outside the timing.
for await (const _ of activations(classifier, 32, (i) => pool[i % 64], [layer.name])) break;
let t0 = performance.now();
let acts = new Float32Array(0);
for await (const batch of activations(classifier, excerpts, (i) => pool[i % 64], [layer.name], {
  batchSize: 32,
})) {
  if (acts.length === 0) acts = batch.activations[layer.name].slice(0, 32 * size);
}
const actSeconds = (performance.now() - t0) / 1000;
console.log(
  `activations at ${layer.name}: ${(excerpts / actSeconds).toFixed(0)} excerpts/s (${excerpts} in ${actSeconds.toFixed(2)} s, batches of 32)`,
);

const directions = Array.from({ length: directionCount }, () =>
  Float32Array.from({ length: size }, () => rng.normal()),
);
const pairs = 32 * directionCount;
for (const method of ['exact', 'finite-difference'] as const) {
  const c = method === 'exact' ? classifier : await ComposerClassifier.load(modelPath);
  c.derivatives = method;
  const head = await c.head(layer.name);
  await head.directionalDerivatives(acts.subarray(0, size), 1, directions.slice(0, 1));
  t0 = performance.now();
  // Fresh activations each time: exact derivatives would otherwise reuse cached gradients.
  await head.directionalDerivatives(acts.slice(), 32, directions);
  const ddSeconds = (performance.now() - t0) / 1000;
  console.log(
    `directional derivatives at ${layer.name}, ${method}: ${(pairs / ddSeconds).toFixed(0)} (input, direction) pairs/s, all ${classifier.classes} classes ` +
      `(${pairs} pairs in ${ddSeconds.toFixed(2)} s: ${head.gradientRunCount} gradient runs, ${head.runCount} head runs)`,
  );
  if (method === 'exact') {
    // TCAV's case: one class per input (its composer).
    const runs = head.gradientRunCount;
    t0 = performance.now();
    await head.rowDerivatives(
      acts.slice(),
      32,
      directions,
      [...Array(32).keys()].map((i) => i % c.classes),
    );
    const rowSeconds = (performance.now() - t0) / 1000;
    console.log(
      `directional derivatives at ${layer.name}, exact, one class per input (TCAV): ${(pairs / rowSeconds).toFixed(0)} pairs/s (${head.gradientRunCount - runs} gradient run)`,
    );
  }
  if (c !== classifier) await c.release();
}
await classifier.release();
