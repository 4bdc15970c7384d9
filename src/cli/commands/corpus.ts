import { synthCommand } from './synth.ts';
import type { Argv, CommandModule } from 'yargs';
import { exportWindows } from '../../corpus/export.ts';
import { formatSummary, summarizeCorpus } from '../../corpus/info.ts';
import { loadCorpus, requireLabels } from '../../corpus/manifest.ts';
import { UNKNOWN_COMPOSER } from '../../corpus/types.ts';
import { stderrProgress } from '../../util/progress.ts';
import { UserError } from '../../util/errors.ts';
import { printResult } from '../output.ts';
import { stagedRun } from '../staged-run.ts';

interface CorpusArgs {
  corpus: string;
  root?: string;
  composers?: string[];
  json: boolean;
}

/** Options every command that reads a corpus shares. */
export function corpusOptions<T>(y: Argv<T>) {
  return y
    .option('root', {
      type: 'string',
      describe: "Corpus root folder (overrides the manifest's root)",
    })
    .option('composers', { type: 'string', array: true, describe: 'Only these composers' })
    .option('json', {
      type: 'boolean',
      default: false,
      describe: 'Machine-readable output on stdout',
    });
}

const info: CommandModule<object, CorpusArgs> = {
  command: 'info <corpus>',
  describe: 'Read every file of a corpus and report files, pieces, composers and skipped files',
  builder: (y) =>
    corpusOptions(
      y.positional('corpus', {
        type: 'string',
        demandOption: true,
        describe: 'Folder, manifest (.yaml), `synthetic`, or one MIDI file',
      }),
    ),
  handler: async (args) => {
    const corpus = loadCorpus(args.corpus, { root: args.root, composers: args.composers });
    const summary = await summarizeCorpus(corpus, stderrProgress());
    // One file as the whole input: its problem is the command's error (a corpus lists and goes on).
    if (corpus.entries.length === 1 && summary.skipped.length === 1) {
      throw new UserError(`${args.corpus}: ${summary.skipped[0].reason}`);
    }
    printResult(args.json, summary, () => formatSummary(summary));
  },
};

interface ExportArgs extends CorpusArgs {
  out: string;
  seed: number;
  'min-pieces': number;
  hop?: number;
}

const exportCmd: CommandModule<object, ExportArgs> = {
  command: 'export <corpus>',
  describe:
    'Export piece-level train/validation/test splits as piano-roll windows (.npy) for training/',
  builder: (y) =>
    corpusOptions(
      y.positional('corpus', {
        type: 'string',
        demandOption: true,
        describe: 'Folder, manifest (.yaml), `synthetic`, or one MIDI file',
      }),
    )
      .option('out', { type: 'string', demandOption: true, describe: 'Output folder' })
      .option('seed', { type: 'number', default: 1, describe: 'Seed of the piece-level split' })
      .option('min-pieces', {
        type: 'number',
        default: 1,
        describe: 'Keep composers with at least this many pieces',
      })
      .option('hop', {
        type: 'number',
        describe: 'Hop between training windows, frames (default: half a window)',
      }),
  handler: async (args) => {
    const corpus = loadCorpus(args.corpus, { root: args.root, composers: args.composers });
    requireLabels(corpus, args.corpus, 'corpus export (training data)');
    const summary = await stagedRun(args.out, async (output) => ({
      ...(await exportWindows(
        { ...corpus, entries: corpus.entries.filter((e) => e.composer !== UNKNOWN_COMPOSER) },
        {
          out: output.staging,
          seed: args.seed,
          minPieces: args['min-pieces'],
          trainHopFrames: args.hop,
        },
        stderrProgress(),
      )),
      out: args.out,
    }));
    printResult(args.json, summary, () =>
      [
        `wrote ${args.out}: ${summary.labels.length} composers (${summary.labels.join(', ')})`,
        ...(['train', 'validation', 'test'] as const).map(
          (s) =>
            `  ${s.padEnd(10)} ${String(summary.pieces[s]).padStart(4)} pieces ${String(summary.windows[s]).padStart(6)} windows`,
        ),
        ...(summary.dropped.length
          ? [`  dropped (too few pieces): ${summary.dropped.join(', ')}`]
          : []),
        ...(summary.skipped.length
          ? [`  skipped ${summary.skipped.length} unreadable file(s)`]
          : []),
      ].join('\n'),
    );
  },
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const corpusSubcommands: CommandModule<any, any>[] = [info, exportCmd, synthCommand];

export const corpusCommand: CommandModule = {
  command: 'corpus <command>',
  describe: 'Inspect and export corpora of MIDI files',
  builder: (y) => {
    for (const c of corpusSubcommands) y.command(c);
    return y.demandCommand(1);
  },
  handler: () => {},
};
