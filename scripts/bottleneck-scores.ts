/**
 * The TypeScript half of the concept-bottleneck model (training/bottleneck.py builds the rest):
 * CAVs of named concepts at a layer of a trained classifier, and every exported window's concept
 * scores (the projection of its activation on each concept's CAV).
 *
 *   npx tsx scripts/bottleneck-scores.ts --model models/asap.onnx --corpus <asap root> \
 *     --export <corpus export folder> --concepts concepts/asap concepts/textures \
 *     --layers layer3 layer4 --out <folder> [--runs 20] [--set-size 30] [--seed 1]
 *
 * Only training-split pieces are used for the CAVs: the random counterexamples are drawn from a
 * corpus made of the training side of the export's split, and the concepts' own examples (bars of
 * named pieces) are listed with their split in `cavs.json`, so a reader sees which of them sit in
 * validation or test pieces. A concept's direction is the normalised mean of its runs' unit CAVs.
 *
 * Writes to --out: cavs.json (concepts, layers, tensors, shapes, CAV accuracies, example pieces),
 * cavs-<layer>.f32 (directions, [concepts x layer size], float32 little-endian) and
 * scores-<layer>.f32 ([windows x concepts], windows in index.json order) with scores.json (labels
 * and split of each window).
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { loadConcepts } from '../src/concepts/load.ts';
import { loadCorpus } from '../src/corpus/manifest.ts';
import { ConceptLens } from '../src/lens/lens.ts';
import { prepareConcepts, runTcav } from '../src/tcav/run.ts';
import { stderrProgress } from '../src/util/progress.ts';

const argv = process.argv.slice(2);
const many = (name: string): string[] => {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return [];
  const out: string[] = [];
  for (let j = i + 1; j < argv.length && !argv[j].startsWith('--'); j++) out.push(argv[j]);
  return out;
};
const one = (name: string, fallback?: string): string => {
  const v = many(name)[0] ?? fallback;
  if (v === undefined) throw new Error(`--${name} is required`);
  return v;
};
const model = one('model');
const corpusPath = one('corpus');
const exportDir = one('export');
const out = resolve(one('out'));
const layers = many('layers').length ? many('layers') : ['layer3'];
const conceptPaths = many('concepts');
const runs = Number(one('runs', '20'));
const seed = Number(one('seed', '1'));
const setSize = Number(one('set-size', '30'));
mkdirSync(out, { recursive: true });

interface IndexItem {
  split: string;
  shard: string;
  row: number;
  label: number;
  composer: string;
  piece: string;
  file: string;
  startFrame: number;
}
const index = JSON.parse(readFileSync(join(exportDir, 'index.json'), 'utf8')) as {
  labels: string[];
  input: { windowFrames: number; lowPitch: number; highPitch: number };
  items: IndexItem[];
};

// A corpus of the training side only (the files of the export's training windows).
const full = loadCorpus(corpusPath);
const trainFiles = new Set(index.items.filter((it) => it.split === 'train').map((it) => it.file));
const trainEntries = full.entries.filter((e) => trainFiles.has(e.file));
const manifest = join(out, 'train-corpus.yaml');
writeFileSync(
  manifest,
  stringify({
    name: `${full.name}-train`,
    description: `Training side of ${exportDir} (concept CAVs of the bottleneck model)`,
    root: full.root,
    layout: 'list',
    files: trainEntries.map((e) => ({
      file: e.file,
      composer: e.composer,
      piece: e.piece,
      ...(e.kind ? { kind: e.kind } : {}),
    })),
  }),
);

const progress = stderrProgress();
const lens = await ConceptLens.open({ model, corpus: manifest, progress });
const { concepts, errors } = loadConcepts(conceptPaths);
if (errors.length) throw new Error(errors.map((e) => `${e.file}: ${e.reason}`).join('\n'));
const prepared = await prepareConcepts(lens, concepts);

// Which pieces each concept's examples come from, and on which side of the split they are.
const splitOfFile = new Map(index.items.map((it) => [it.file, it.split]));
const examplePieces: Record<string, { file: string; split: string }[]> = {};
for (const c of concepts) {
  const files = new Set<string>();
  for (const ex of c.spec.examples) if ('corpus' in ex && ex.corpus) files.add(ex.corpus);
  examplePieces[c.spec.name] = [...files].map((f) => ({
    file: f,
    split: splitOfFile.get(f) ?? 'not in the export',
  }));
}

const directions = new Map<string, Map<string, Float32Array>>(); // layer -> concept -> unit mean
const accuracies: Record<string, Record<string, number>> = {};
await runTcav(lens, prepared, {
  layers,
  targets: lens.targets(),
  runs,
  setSize,
  // Only the CAVs are used here; TCAV's own scores, effects and tests are not, so the smallest
  // null and no pass over every window.
  targetExcerpts: 5,
  nullConcepts: 3,
  effectWindows: 0,
  seed,
  onCavs: (c) => {
    const sum = new Float32Array(c.directions[0].length);
    for (const d of c.directions) for (let i = 0; i < d.length; i++) sum[i] += d[i];
    let norm = 0;
    for (const x of sum) norm += x * x;
    norm = Math.sqrt(norm);
    if (!directions.has(c.layer)) directions.set(c.layer, new Map());
    directions.get(c.layer)!.set(
      c.concept,
      sum.map((x) => x / norm),
    );
    (accuracies[c.layer] ??= {})[c.concept] =
      c.accuracies.reduce((a, b) => a + b, 0) / c.accuracies.length;
  },
});

// Concept scores of every exported window, read from the shards the trainer reads.
const T = index.input.windowFrames;
const P = index.input.highPitch - index.input.lowPitch + 1;
const size = T * P;
const shards = new Map<string, Uint8Array>();
const shard = (file: string) => {
  if (!shards.has(file)) {
    const bytes = readFileSync(join(exportDir, file));
    const headerLength = bytes.readUInt16LE(8);
    shards.set(file, new Uint8Array(bytes.buffer, bytes.byteOffset + 10 + headerLength));
  }
  return shards.get(file)!;
};
const names = prepared.map((c) => c.name);
const K = names.length;
const N = index.items.length;
const scores = Object.fromEntries(layers.map((l) => [l, new Float32Array(N * K)]));
progress.start('concept scores', N);
const batch = 64;
for (let s = 0; s < N; s += batch) {
  const items = index.items.slice(s, s + batch);
  const input = new Float32Array(items.length * size);
  items.forEach((it, i) => {
    const data = shard(it.shard);
    for (let j = 0; j < size; j++) input[i * size + j] = data[it.row * size + j];
  });
  const r = await lens.classifier.run(input, items.length, layers);
  for (const l of layers) {
    const acts = r.activations[l];
    const D = acts.length / items.length;
    names.forEach((name, k) => {
      const v = directions.get(l)!.get(name)!;
      for (let i = 0; i < items.length; i++) {
        let dot = 0;
        for (let e = 0; e < D; e++) dot += acts[i * D + e] * v[e];
        scores[l][(s + i) * K + k] = dot;
      }
    });
  }
  progress.tick(items.length);
}
progress.stop();

const f32 = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
for (const l of layers) {
  const D = lens.classifier.layer(l).shape.reduce((a, b) => a * b, 1);
  const all = new Float32Array(K * D);
  names.forEach((n, k) => all.set(directions.get(l)!.get(n)!, k * D));
  writeFileSync(join(out, `cavs-${l}.f32`), f32(all));
  writeFileSync(join(out, `scores-${l}.f32`), f32(scores[l]));
}
writeFileSync(
  join(out, 'cavs.json'),
  JSON.stringify(
    {
      model,
      modelSha256: lens.classifier.sha256,
      concepts: names,
      descriptions: Object.fromEntries(prepared.map((c) => [c.name, c.description ?? ''])),
      layers: layers.map((l) => ({
        name: l,
        tensor: lens.classifier.layer(l).tensor,
        shape: lens.classifier.layer(l).shape,
        cavAccuracy: accuracies[l],
      })),
      runs,
      seed,
      randomCounterexamples: `${trainEntries.length} files of the training side`,
      examplePieces,
    },
    null,
    1,
  ),
);
writeFileSync(
  join(out, 'scores.json'),
  JSON.stringify({
    labels: index.labels,
    items: index.items.map((it) => ({ split: it.split, label: it.label })),
  }),
);
await lens.close();
console.log(`wrote ${out}: ${K} concepts x ${layers.join(', ')}; ${N} windows`);
