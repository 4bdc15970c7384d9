/**
 * Speed of `timeline`: a 10-minute piece (fifteen 40-second sections of the synthetic corpus'
 * textures) with a bank of the 10 texture concepts on the synthetic model, at the default hop
 * (5 s: 117 windows). The bank is built first (not timed); then, in this process (no process
 * start), the run a user waits for: load the model and the bank, read the piece, every window
 * through the model, presence and influence of every concept, the HTML page, the top windows as
 * MIDI and timeline.json, committed to the output folder. Repeated, median reported, with influence
 * by exact gradients and by finite differences side by side.
 *   npx tsx bench/timeline.ts [--repeat 3] [--concepts concepts/textures] [--layer layer3]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBank, CavCollector } from '../src/bank/build.ts';
import { checkBankModel, loadBank, writeBank } from '../src/bank/store.ts';
import { timelineModelIdentity, timelineSink } from '../src/cli/commands/timeline.ts';
import { loadConcepts } from '../src/concepts/load.ts';
import { loadCorpus } from '../src/corpus/manifest.ts';
import { plantedPiece } from '../src/corpus/planted.ts';
import { loadSyntheticSpec, SYNTHETIC_SPEC } from '../src/corpus/synthetic.ts';
import { ConceptLens } from '../src/lens/lens.ts';
import { readMidiFile } from '../src/midi/read.ts';
import { writeMidiFile } from '../src/midi/write.ts';
import { ComposerClassifier } from '../src/model/classifier.ts';
import type { DerivativeMethod } from '../src/model/head.ts';
import { RunOutput } from '../src/results/output.ts';
import { TCAV_DEFAULTS, prepareConcepts, runTcav } from '../src/tcav/run.ts';
import { analysePiece } from '../src/timeline/analyse.ts';
import { runTimeline } from '../src/timeline/run.ts';
import { opt } from './args.ts';

const MODEL = 'models/synthetic.onnx';
const repeat = Number(opt('repeat', '3'));
const layer = opt('layer', 'layer3');
const tmp = mkdtempSync(join(tmpdir(), 'cl-bench-timeline-'));

// The piece: 15 sections x 40 s = 10 minutes.
const spec = loadSyntheticSpec(SYNTHETIC_SPEC);
const textures = [
  'alberti',
  'scales',
  'canon',
  'octaves',
  'chorale',
  'tremolo',
  'stride',
  'arpeggio',
] as const;
const piece = plantedPiece(
  spec,
  Array.from({ length: 15 }, (_, i) => ({ texture: textures[i % textures.length], seconds: 40 })),
  10,
);
const pieceFile = join(tmp, 'ten-minutes.mid');
writeMidiFile(pieceFile, piece.notes, { name: 'ten minutes' });

// The bank (not timed).
const bankDir = join(tmp, 'bank');
{
  const lens = await ConceptLens.open({ model: MODEL, corpus: 'synthetic' });
  const { concepts } = loadConcepts(opt('concepts', 'concepts/textures'));
  const prepared = await prepareConcepts(lens, concepts);
  const collector = new CavCollector();
  await runTcav(lens, prepared, {
    layers: [layer],
    targets: lens.targets(),
    runs: 10,
    setSize: 20,
    targetExcerpts: 10,
    seed: 1,
    onCavs: collector.add,
  });
  const bank = await buildBank(lens, collector.cavs, prepared, {
    modelPath: MODEL,
    seed: 1,
    runs: 10,
    setSize: 20,
    minCavAccuracy: TCAV_DEFAULTS.minCavAccuracy,
  });
  writeBank(bankDir, bank);
  await lens.close();
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const methods: DerivativeMethod[] = ['exact', 'finite-difference'];
const times = Object.fromEntries(
  methods.map((m) => [
    m,
    { total: [] as number[], cpu: [] as number[], load: [] as number[], analysis: [] as number[] },
  ]),
);
let windows = 0;
let lanes = 0;
// Both derivative methods, alternating, so that they share the machine's state side by side.
for (let r = 0; r < repeat; r++) {
  for (const method of methods) {
    const t = times[method];
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const classifier = await ComposerClassifier.load(MODEL);
    classifier.derivatives = method;
    const bank = loadBank(bankDir);
    checkBankModel(bank, classifier);
    const t1 = performance.now();
    const output = new RunOutput(join(tmp, `out-${method}-${r}`));
    const results = await runTimeline(
      classifier,
      bank,
      loadCorpus(pieceFile).entries,
      timelineSink(output),
      {
        command: 'timeline',
        model: timelineModelIdentity(classifier, MODEL),
        startedAt: new Date().toISOString(),
        hopFrames: classifier.input.windowFrames / 4,
        composers: [],
        topWindows: 3,
      },
    );
    output.writeText('timeline.json', JSON.stringify(results));
    output.commit();
    const t2 = performance.now();
    const used = process.cpuUsage(c0);
    t.cpu.push((used.user + used.system) / 1000);
    t.total.push(t2 - t0);
    t.load.push(t1 - t0);
    windows = results.pieces[0].windows.length;
    lanes = results.pieces[0].lanes.length;
    // The analysis alone (model, presence, influence), on the same warm sessions.
    const entry = loadCorpus(pieceFile).entries[0];
    const t3 = performance.now();
    await analysePiece(classifier, bank, entry, readMidiFile(pieceFile), {
      hopFrames: classifier.input.windowFrames / 4,
      composers: [],
      topWindows: 3,
    });
    t.analysis.push(performance.now() - t3);
    await classifier.release();
  }
}
rmSync(tmp, { recursive: true, force: true });

console.log(
  `a ${(piece.durationSeconds / 60).toFixed(0)}-minute piece (${piece.notes.length} notes), ${windows} windows, a bank of ${lanes} concepts at ${layer}, ${MODEL}, no activation cache; median of ${repeat} runs in one process`,
);
for (const method of methods) {
  const t = times[method];
  console.log(`influence by ${method}:`);
  console.log(
    `  whole run (load model and bank, read, analyse, page, MIDI, timeline.json): ${s(median(t.total))}  [${t.total.map(s).join(', ')}]`,
  );
  console.log(
    `    CPU time of the process (user + system, all threads): ${s(median(t.cpu))}  [${t.cpu.map(s).join(', ')}]`,
  );
  console.log(`    of which loading the model and the bank: ${s(median(t.load))}`);
  console.log(
    `  analysis alone (windows through the model, presence, influence), warm sessions: ${s(median(t.analysis))}`,
  );
}
const ratio = (k: 'total' | 'cpu') =>
  (median(times['finite-difference'][k]) / median(times.exact[k])).toFixed(2);
console.log(`finite differences / exact: whole run ${ratio('total')}x, CPU ${ratio('cpu')}x`);
