import { resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import type { ConceptBank } from '../../bank/build.ts';
import { checkBankModel, loadBank } from '../../bank/store.ts';
import type { CorpusEntry } from '../../corpus/types.ts';
import { ActivationCache, DEFAULT_CACHE_DIR } from '../../model/cache.ts';
import { ComposerClassifier } from '../../model/classifier.ts';
import type { RunOutput } from '../../results/output.ts';
import { publicPath } from '../../results/public-path.ts';
import type { ModelIdentity } from '../../results/results.ts';
import type { TimelineResults } from '../../results/timeline.ts';
import { pieceEntries } from '../../timeline/inputs.ts';
import { DEFAULT_TOP_WINDOWS, runTimeline, type TimelineSink } from '../../timeline/run.ts';
import { UserError } from '../../util/errors.ts';
import { writeFileAtomic } from '../../util/files.ts';
import { assertInside } from '../../util/paths.ts';
import { stderrProgress } from '../../util/progress.ts';
import { modelOptions, overridesFromFlags, type ModelFlags } from './model.ts';
import { log, printResult } from '../output.ts';
import { stagedRun } from '../staged-run.ts';
import { derivativesOption } from '../lens-options.ts';
import type { DerivativeMethod } from '../../model/head.ts';
import { readModelCard } from '../../lens/evaluate.ts';

/**
 * `concept-lens timeline <midi file | folder | manifest> --model M --bank B --out DIR`: where in
 * each piece the model hears the bank's concepts, window by window, and which composer it hears.
 * The input needs no composer labels.
 */
interface TimelineArgs extends ModelFlags {
  derivatives: DerivativeMethod;
  inputs: string[];
  model: string;
  bank: string;
  hop?: number;
  composer: string[];
  top: number;
  out: string;
  root?: string;
  'cache-dir': string;
  cache: boolean;
  sustain: boolean;
  quiet: boolean;
  json: boolean;
}

/** The flags `timeline` shares with `explain --pieces`. */
export function timelineOptions<T>(y: Argv<T>) {
  return y
    .option('hop', {
      type: 'number',
      describe: 'Seconds between window starts (default: a quarter of the model window)',
    })
    .option('composer', {
      type: 'string',
      array: true,
      default: [] as string[],
      describe: "Also report each window's influence on this composer's score",
    })
    .option('top', {
      type: 'number',
      default: DEFAULT_TOP_WINDOWS,
      describe: 'Windows of highest presence exported as MIDI, per concept and layer',
    });
}

/** Hop in frames from --hop seconds (default a quarter window); UserError on nonsense. */
export function hopFrames(classifier: ComposerClassifier, hop: number | undefined): number {
  const { fps, windowFrames } = classifier.input;
  if (hop === undefined) return Math.max(1, Math.round(windowFrames / 4));
  if (!(Number.isFinite(hop) && hop > 0))
    throw new UserError(`--hop: expected a positive number of seconds, got ${hop}`);
  return Math.max(1, Math.round(hop * fps));
}

export function checkComposers(classifier: ComposerClassifier, composers: string[]): string[] {
  for (const c of composers) {
    if (!classifier.labels.includes(c))
      throw new UserError(
        `--composer: ${c} is not a composer of the model (${classifier.labels.join(', ')})`,
      );
  }
  return composers;
}

export function checkTop(top: number): number {
  if (!(Number.isInteger(top) && top >= 0 && top <= 100))
    throw new UserError(`--top: expected a whole number from 0 to 100, got ${top}`);
  return top;
}

/** Products of a timeline run in a staged output folder (writes stay inside it). */
export function timelineSink(output: RunOutput): TimelineSink {
  return {
    writeText: (rel, text) => output.writeText(rel, text),
    writeBytes: (rel, bytes) =>
      writeFileAtomic(assertInside(output.staging, output.path(rel)), bytes),
  };
}

/** One line per piece: what the model hears overall, and its flags. */
export function timelineSummary(r: TimelineResults): string[] {
  return [
    ...r.pieces.map(
      (p) =>
        `  ${p.file}: ${p.overall.predicted} (${(100 * p.overall.probability[p.overall.predicted]).toFixed(0)} %), ${p.windows.length} window${p.windows.length === 1 ? '' : 's'}${p.padded ? ', padded (shorter than one window)' : ''}`,
    ),
    ...(r.skipped.length
      ? [
          `skipped ${r.skipped.length} file(s):`,
          ...r.skipped.map((s) => `  ${s.file}: ${s.reason}`),
        ]
      : []),
  ];
}

export function timelineModelIdentity(classifier: ComposerClassifier, path: string): ModelIdentity {
  const card = readModelCard(path);
  return {
    path: publicPath(path),
    sha256: classifier.sha256,
    labels: classifier.labels,
    input: { ...classifier.input },
    ...(card && typeof card.name === 'string' ? { card: { name: card.name } } : {}),
  };
}

export const timelineCommand: CommandModule<object, TimelineArgs> = {
  command: 'timeline <inputs..>',
  describe:
    'Where in a piece the model hears the concepts of a bank, window by window (any MIDI, no labels needed)',
  builder: (y) =>
    timelineOptions(
      modelOptions(
        y.positional('inputs', {
          type: 'string',
          array: true,
          demandOption: true,
          describe: 'MIDI files, folders of MIDI files, or corpus manifests',
        }),
      ),
    )
      .option('model', { type: 'string', demandOption: true, describe: 'ONNX composer classifier' })
      .option('bank', {
        type: 'string',
        demandOption: true,
        describe: 'Concept bank folder (written by tcav --save-bank) for this model',
      })
      .option('out', { type: 'string', demandOption: true, describe: 'Output folder' })
      .option('root', { type: 'string', describe: "Root folder of a manifest's files" })
      .option('cache-dir', {
        type: 'string',
        default: DEFAULT_CACHE_DIR,
        describe: 'Activation cache folder',
      })
      .option('cache', { type: 'boolean', default: true, describe: 'Use the activation cache' })
      .option('sustain', {
        type: 'boolean',
        default: false,
        describe: 'Apply the sustain pedal (CC64) to note lengths',
      })
      .option('quiet', { type: 'boolean', default: false, describe: 'No progress on stderr' })
      .option('derivatives', derivativesOption)
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'Print timeline.json on stdout',
      }) as unknown as Argv<TimelineArgs>,
  handler: async (args) => {
    const started = new Date();
    // Inputs first: a bad model, bank, or input leaves no output folder behind.
    const classifier = await ComposerClassifier.load(args.model, overridesFromFlags(args));
    classifier.derivatives = args.derivatives;
    try {
      const bank = loadBank(args.bank);
      checkBankModel(bank, classifier);
      const entries = pieceEntries(args.inputs, args.root);
      const hop = hopFrames(classifier, args.hop);
      const top = checkTop(args.top);
      const composers = checkComposers(classifier, args.composer);
      const results = await stagedRun(args.out, (output) =>
        timelineStage(classifier, bank, entries, output, {
          input: args.inputs.join(', '),
          model: timelineModelIdentity(classifier, args.model),
          startedAt: started.toISOString(),
          hopFrames: hop,
          composers,
          topWindows: top,
          cache: args.cache ? new ActivationCache(args['cache-dir']) : undefined,
          sustain: args.sustain,
          quiet: args.quiet,
          command: 'timeline',
        }),
      );
      printResult(args.json, results, () =>
        [
          `wrote ${resolve(args.out, 'timeline.json')} and ${results.pieces.length} page(s) in ${resolve(args.out, 'timeline')} (${results.run.seconds.toFixed(1)} s)`,
          'what the model hears in each piece (whole-piece probability):',
          ...timelineSummary(results),
        ].join('\n'),
      );
    } finally {
      await classifier.release();
    }
  },
};

/**
 * Timelines of the entries into a staged output (timeline.json, timeline/); shared with explain.
 * No readable piece at all is an error (one file: that file's problem).
 */
export async function timelineStage(
  classifier: ComposerClassifier,
  bank: ConceptBank,
  entries: readonly CorpusEntry[],
  output: RunOutput,
  o: {
    input: string;
    model: ModelIdentity;
    startedAt: string;
    hopFrames: number;
    composers: string[];
    topWindows: number;
    cache?: ActivationCache;
    sustain: boolean;
    quiet: boolean;
    command: 'timeline' | 'explain';
  },
): Promise<TimelineResults> {
  const results = await runTimeline(classifier, bank, entries, timelineSink(output), {
    ...o,
    progress: stderrProgress(!o.quiet),
    warn: (m) => log(`warning: ${m}`),
  });
  for (const s of results.skipped) log(`skipped ${s.file}: ${s.reason}`);
  if (results.pieces.length === 0) {
    if (entries.length === 1 && results.skipped.length === 1)
      throw new UserError(`${o.input}: ${results.skipped[0].reason}`);
    throw new UserError(`${o.input}: no readable MIDI file (${results.skipped.length} skipped)`);
  }
  output.writeText('timeline.json', `${JSON.stringify(results, null, 1)}\n`);
  return results;
}
