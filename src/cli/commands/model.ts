import type { Argv, CommandModule } from 'yargs';
import { LAYOUTS } from '../../model/axes.ts';
import type { BatchInfo } from '../../model/batch.ts';
import { ComposerClassifier } from '../../model/classifier.ts';
import type { LayerInfo } from '../../model/graph.ts';
import type { Dim } from '../../model/onnx.ts';
import { describeOutput, type OutputInfo } from '../../model/output.ts';
import {
  CHANNELS,
  OUTPUT_KINDS,
  type InputSpec,
  type ModelOverrides,
  type OutputKind,
} from '../../model/spec.ts';
import { ConceptLens } from '../../lens/lens.ts';
import { evaluateOnCorpus, readModelCard, type CorpusEvaluation } from '../../lens/evaluate.ts';
import { DEFAULT_CACHE_DIR } from '../../model/cache.ts';
import { stderrProgress } from '../../util/progress.ts';
import { printResult } from '../output.ts';
import { gradientCmd } from './gradient.ts';

/** Flags describing a model that lacks concept-lens metadata; every command loading a model shares them. */
export interface ModelFlags {
  labels?: string[];
  sidecar?: string;
  fps?: number;
  'window-frames'?: number;
  'low-pitch'?: number;
  'high-pitch'?: number;
  channels?: string[];
  values?: string;
  layout?: string;
  'output-kind'?: string;
}

export function modelOptions<T>(y: Argv<T>) {
  return y
    .option('labels', {
      type: 'string',
      array: true,
      describe: 'Class names, in output order (overrides the model metadata)',
    })
    .option('sidecar', {
      type: 'string',
      describe: 'YAML with labels and input spec (default <model>.concept-lens.yaml)',
    })
    .option('fps', { type: 'number', describe: 'Input spec: piano-roll frames per second' })
    .option('window-frames', { type: 'number', describe: 'Input spec: frames per input' })
    .option('low-pitch', { type: 'number', describe: 'Input spec: lowest MIDI pitch' })
    .option('high-pitch', {
      type: 'number',
      describe: 'Input spec: highest MIDI pitch (inclusive)',
    })
    .option('channels', {
      type: 'string',
      array: true,
      choices: [...CHANNELS],
      describe: 'Input spec: channels, in order',
    })
    .option('values', {
      type: 'string',
      choices: ['binary', 'velocity'],
      describe: 'Input spec: roll values',
    })
    .option('layout', {
      type: 'string',
      choices: [...LAYOUTS],
      describe:
        'Input spec: tensor layout (N batch, C channels, T time, P pitch; NTP/NPT: one channel, no C axis)',
    })
    .option('output-kind', {
      type: 'string',
      choices: [...OUTPUT_KINDS],
      describe:
        "What the model outputs (default: from the graph's last op, Softmax: probabilities, LogSoftmax: log-probabilities); derivatives and scores are of the logits under a trailing Softmax or LogSoftmax, of log-probabilities for probabilities declared without one",
    });
}

/** `--derivatives`: shared by every command that takes derivatives of a model. */
export const derivativesOption = {
  choices: ['exact', 'finite-difference'] as const,
  default: 'exact' as const,
  describe:
    'exact: gradients by reverse-mode differentiation of the ONNX graph (finite differences for a layer whose head has an op without a backward rule, saying so); finite-difference: central differences everywhere (a cross-check)',
};

export function overridesFromFlags(f: ModelFlags): ModelOverrides {
  const input: Partial<InputSpec> = {
    fps: f.fps,
    windowFrames: f['window-frames'],
    lowPitch: f['low-pitch'],
    highPitch: f['high-pitch'],
    channels: f.channels as InputSpec['channels'] | undefined,
    values: f.values as InputSpec['values'] | undefined,
    layout: f.layout as InputSpec['layout'] | undefined,
  };
  return {
    labels: f.labels,
    sidecar: f.sidecar,
    input,
    ...(f['output-kind'] ? { output: f['output-kind'] as OutputKind } : {}),
  };
}

export interface ModelInspection {
  model: string;
  sha256: string;
  inputs: { name: string; dims: Dim[] }[];
  outputs: { name: string; dims: Dim[] }[];
  labels: string[];
  input: InputSpec;
  /** What the model outputs and what derivatives and scores are taken of (src/model/output.ts). */
  output: OutputInfo & { description: string };
  /** Fixed or symbolic batch, and how concept-lens runs it (src/model/batch.ts). */
  batch: BatchInfo;
  layers: LayerInfo[];
}

export async function inspectModel(
  path: string,
  overrides: ModelOverrides = {},
): Promise<ModelInspection> {
  const c = await ComposerClassifier.load(path, overrides);
  try {
    return {
      model: path,
      sha256: c.sha256,
      inputs: c.inputs(),
      outputs: c.outputs(),
      labels: c.labels,
      input: c.input,
      output: { ...c.output, description: describeOutput(c.output) },
      batch: c.batchInfo,
      layers: c.layers(),
    };
  } finally {
    await c.release();
  }
}

export function formatInspection(m: ModelInspection): string {
  const dims = (d: Dim[]) => `[${d.map((x) => x ?? '?').join(', ')}]`;
  const s = m.input;
  const width = Math.max(...m.layers.map((l) => l.name.length));
  const shapeWidth = Math.max(...m.layers.map((l) => `[${l.shape.join(', ')}]`.length));
  const axesWidth = Math.max(...m.layers.map((l) => l.axes.join(' x ').length));
  return [
    `${m.model} (sha256 ${m.sha256.slice(0, 12)})`,
    ...m.inputs.map((i) => `input   ${i.name} ${dims(i.dims)}`),
    ...m.outputs.map((o) => `output  ${o.name} ${dims(o.dims)}`),
    `labels  ${m.labels.join(', ')}`,
    `gives   ${m.output.description}`,
    `input spec: ${s.layout}, ${s.channels.join('+')} (${s.values}), ${s.windowFrames} frames at ${s.fps} fps, pitches ${s.lowPitch}..${s.highPitch}`,
    `batch   ${batchLine(m.batch)}`,
    'layers (axes: what each dimension is; >= 0: non-negative, NMF can factorise it):',
    ...m.layers.map((l) => {
      const shape = `[${l.shape.join(', ')}]`.padEnd(shapeWidth);
      const axes = l.axes.join(' x ').padEnd(axesWidth);
      const also = l.aliases.length ? `  (also ${l.aliases.join(', ')})` : '';
      return `  ${l.name.padEnd(width)}  ${shape}  ${axes}  ${l.nonNegative ? '>= 0' : '    '}${also}`.trimEnd();
    }),
  ].join('\n');
}

function batchLine(b: BatchInfo): string {
  switch (b.mode) {
    case 'dynamic':
      return `symbolic (${b.declared ?? 'unnamed'})`;
    case 'rewritten':
      return `fixed at ${b.declared} in the file; rewritten: ${b.reason}`;
    case 'fixed':
      return `${typeof b.declared === 'number' ? `fixed at ${b.declared}` : 'symbolic'} in the file; runs ${b.size} excerpt${b.size === 1 ? '' : 's'} at a time: ${b.reason}`;
  }
}

interface InspectArgs extends ModelFlags {
  model: string;
  json: boolean;
}

const inspect: CommandModule<object, InspectArgs> = {
  command: 'inspect <model>',
  describe:
    'Show a model: inputs, outputs, labels, input spec, and the layers it can be explained at',
  builder: (y) =>
    modelOptions(
      y.positional('model', { type: 'string', demandOption: true, describe: 'ONNX model file' }),
    ).option('json', {
      type: 'boolean',
      default: false,
      describe: 'Machine-readable output on stdout',
    }),
  handler: async (args) => {
    const m = await inspectModel(args.model, overridesFromFlags(args));
    printResult(args.json, m, () => formatInspection(m));
  },
};

export const modelCommand: CommandModule = {
  command: 'model <command>',
  describe: 'Inspect, evaluate and look inside composer classifiers (ONNX)',
  builder: (y) =>
    y
      .command(inspect)
      .command(evaluateCmd)
      .command(gradientCmd)
      .demandCommand(1, 'Name a model command; see --help.'),
  handler: () => {},
};

interface EvaluateArgs extends ModelFlags {
  model: string;
  corpus: string;
  root?: string;
  split: 'train' | 'validation' | 'test' | 'all';
  seed?: number;
  'cache-dir': string;
  cache: boolean;
  json: boolean;
}

const evaluateCmd: CommandModule<object, EvaluateArgs> = {
  command: 'evaluate <model>',
  describe:
    "Accuracy, balanced accuracy and confusion matrices on a corpus split, by windows and by pieces (a vote of each piece's windows); the model card's split seed by default",
  builder: (y) =>
    modelOptions(
      y.positional('model', { type: 'string', demandOption: true, describe: 'ONNX model file' }),
    )
      .option('corpus', {
        type: 'string',
        demandOption: true,
        describe: 'Corpus: folder, manifest YAML, or `synthetic`',
      })
      .option('root', { type: 'string', describe: "Corpus root folder (overrides the manifest's)" })
      .option('split', {
        choices: ['train', 'validation', 'test', 'all'] as const,
        default: 'test' as const,
        describe: 'Which pieces',
      })
      .option('seed', {
        type: 'number',
        describe: 'Split seed (default: from the model card, else 1)',
      })
      .option('cache-dir', {
        type: 'string',
        default: DEFAULT_CACHE_DIR,
        describe: 'Activation cache folder',
      })
      .option('cache', { type: 'boolean', default: true, describe: 'Use the activation cache' })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'Machine-readable output on stdout',
      }) as unknown as Argv<EvaluateArgs>,
  handler: async (args) => {
    const card = readModelCard(args.model);
    const cardSeed = (card?.split as { seed?: unknown } | undefined)?.seed;
    const seed = args.seed ?? (typeof cardSeed === 'number' ? cardSeed : 1);
    const lens = await ConceptLens.open({
      model: args.model,
      corpus: args.corpus,
      root: args.root,
      overrides: overridesFromFlags(args),
      cacheDir: args.cache ? args['cache-dir'] : false,
      progress: stderrProgress(!args.json || process.stderr.isTTY),
    });
    try {
      const r = await evaluateOnCorpus(lens, args.split, seed);
      printResult(args.json, r, () => formatEvaluation(r));
    } finally {
      await lens.close();
    }
  },
};

export function formatEvaluation(r: CorpusEvaluation): string {
  const w = Math.max(8, ...r.labels.map((l) => l.length));
  const matrix = (confusion: number[][]) => [
    `${''.padEnd(w)} ${r.labels.map((l) => l.slice(0, 6).padStart(6)).join(' ')}`,
    ...confusion.map(
      (row, i) => `${r.labels[i].padEnd(w)} ${row.map((v) => String(v).padStart(6)).join(' ')}`,
    ),
  ];
  const p = r.byPiece;
  const wrong = p.verdicts.filter((v) => v.predicted !== v.composer);
  return [
    `${r.split} split (seed ${r.seed}): ${r.excerpts} windows of ${r.pieces} pieces`,
    `windows (each judged alone): accuracy ${r.accuracy.toFixed(3)}, balanced accuracy ${r.balancedAccuracy.toFixed(3)}`,
    `pieces (vote: ${p.vote}): accuracy ${p.accuracy.toFixed(3)}, balanced accuracy ${p.balancedAccuracy.toFixed(3)}`,
    `windows confusion (rows: true composer, columns: predicted)`,
    ...matrix(r.confusion),
    `pieces confusion (rows: true composer, columns: predicted)`,
    ...matrix(p.confusion),
    wrong.length === 0
      ? 'every piece heard as its composer'
      : `pieces heard as another composer (${wrong.length}):`,
    ...wrong.map(
      (v) => `  ${v.piece} (${v.composer}, ${v.windows} windows): heard as ${v.predicted}`,
    ),
  ].join('\n');
}
