/**
 * The ONNX gradient graph (src/model/autodiff, run by onnxruntime) against PyTorch autograd
 * computing the same gradients on the same machine, side by side in one run: d(sum w * logits)/dx
 * for a reference model at its input and at layers (the head after the layer only, as TCAV uses
 * it), same rows, same batch size, same number of threads.
 *   npx tsx bench/autodiff.ts [--model models/asap.onnx] [--at input,layer1,layer3]
 *                             [--n 64] [--batch 32] [--threads 1] [--repeat 3]
 * PyTorch runs in training/bench_autograd.py (Debian's /usr/bin/python3 with torch 1.13). Both
 * sides time forward + backward after one warm-up pass; the gradients are compared too.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { PianoRoll } from '../src/midi/roll.ts';
import { gradientGraph } from '../src/model/autodiff/index.ts';
import { ComposerClassifier } from '../src/model/classifier.ts';
import { rollLayoutOf, rollsToBatch } from '../src/model/input.ts';
import { decodeModel, encodeModel } from '../src/model/onnx.ts';
import { inputItemDims } from '../src/model/spec.ts';
import { Rng } from '../src/util/random.ts';
import { opt } from './args.ts';

const modelPath = opt('model', 'models/asap.onnx');
const points = opt('at', 'input,layer1,layer3').split(',');
const n = Number(opt('n', '64'));
const batch = Number(opt('batch', '32'));
const threads = Number(opt('threads', '1'));
const repeat = Number(opt('repeat', '3'));

const classifier = await ComposerClassifier.load(modelPath);
const spec = classifier.input;
const C = classifier.classes;
const rng = new Rng('bench/autodiff');
// Piano rolls with note-like runs (random pitch, onset and length), as in the fixtures.
const rolls = [...Array(n).keys()].map(() => {
  const roll = new PianoRoll(rollLayoutOf(spec), spec.windowFrames);
  for (let k = 0; k < 60; k++) {
    const pitch = spec.lowPitch + 20 + Math.floor(rng.next() * 50);
    const onset = Math.floor(rng.next() * (spec.windowFrames - 2));
    const length = 2 + Math.floor(rng.next() * 19);
    for (let t = onset; t < Math.min(spec.windowFrames, onset + length); t++)
      roll.data[roll.index(0, t, pitch)] = 1;
  }
  return roll;
});
const x = rollsToBatch(rolls, spec);
const weights = new Float32Array(n * C);
for (let i = 0; i < n; i++) weights[i * C + Math.floor(rng.next() * C)] = 1;

const tmp = mkdtempSync(join(tmpdir(), 'cl-bench-autodiff-'));
console.log(
  `${modelPath}: gradients of one logit per row, ${n} rows in batches of ${batch}, ${threads} thread(s), best of ${repeat} passes after a warm-up`,
);
try {
  for (const at of points) {
    let inputs = x;
    let itemDims = inputItemDims(spec);
    let bytes = encodeModel(classifier.graph.model);
    if (at !== 'input') {
      const info = classifier.layer(at);
      itemDims = info.shape;
      bytes = classifier.graph.headModel(info.tensor, info.shape);
      inputs = (await classifier.run(x, n, [at])).activations[at];
    }
    const size = itemDims.reduce((a, b) => a * b, 1);
    const graph = await gradientGraph(decodeModel(bytes), { itemDims });
    const session = await ort.InferenceSession.create(graph.model, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
    });
    const ours = new Float32Array(n * size);
    const pass = async () => {
      for (let start = 0; start < n; start += batch) {
        const rows = Math.min(batch, n - start);
        const out = await session.run({
          [graph.input]: new ort.Tensor(
            'float32',
            inputs.subarray(start * size, (start + rows) * size),
            [rows, ...itemDims],
          ),
          [graph.weights]: new ort.Tensor(
            'float32',
            weights.subarray(start * C, (start + rows) * C),
            [rows, C],
          ),
        });
        ours.set(out[graph.gradient].data as Float32Array, start * size);
      }
    };
    await pass();
    let best = Infinity;
    for (let r = 0; r < repeat; r++) {
      const t0 = performance.now();
      await pass();
      best = Math.min(best, (performance.now() - t0) / 1000);
    }
    await session.release();

    writeFileSync(join(tmp, 'x.f32'), inputs);
    writeFileSync(join(tmp, 'w.f32'), weights);
    const py = spawnSync(
      '/usr/bin/python3',
      [
        'training/bench_autograd.py',
        '--model',
        modelPath,
        '--at',
        at,
        '--inputs',
        join(tmp, 'x.f32'),
        '--weights',
        join(tmp, 'w.f32'),
        '--n',
        String(n),
        '--shape',
        ...itemDims.map(String),
        '--out',
        join(tmp, 'g.f32'),
        '--batch',
        String(batch),
        '--threads',
        String(threads),
        '--repeat',
        String(repeat),
      ],
      { encoding: 'utf8' },
    );
    if (py.status !== 0) throw new Error(`bench_autograd.py failed:\n${py.stderr}`);
    const torchBest = JSON.parse(py.stdout.trim().split('\n').pop()!).seconds as number;
    const theirs = new Float32Array(readFileSync(join(tmp, 'g.f32')).buffer.slice(0));
    let diff = 0;
    let scale = 0;
    ours.forEach((g, i) => {
      diff = Math.max(diff, Math.abs(g - theirs[i]));
      scale = Math.max(scale, Math.abs(theirs[i]));
    });
    console.log(
      `${at.padEnd(8)} [${itemDims}]  onnxruntime ${best.toFixed(2)} s (${(n / best).toFixed(0)} rows/s), PyTorch ${torchBest.toFixed(2)} s (${(n / torchBest).toFixed(0)} rows/s): PyTorch / onnxruntime = ${(torchBest / best).toFixed(2)}x; gradients differ by at most ${(diff / scale).toExponential(1)} of the largest`,
    );
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
  await classifier.release();
}
