import { fileURLToPath } from 'node:url';
import type { CommandModule } from 'yargs';
import { writeSyntheticCorpusAsync } from '../../corpus/synthetic.ts';
import { printResult } from '../output.ts';
import { stagedRun } from '../staged-run.ts';

interface SynthArgs {
  spec: string;
  out: string;
  seed?: number;
  pieces?: number;
  json: boolean;
}

const DEFAULT_SPEC = fileURLToPath(new URL('../../../corpora/synthetic.yaml', import.meta.url));

/** `concept-lens corpus synth`: write the synthetic-style corpus (MIDI, manifest, ground truth). */
export const synthCommand: CommandModule<object, SynthArgs> = {
  command: 'synth',
  describe:
    'Generate the synthetic corpus of fictional composers (MIDI files, corpus.yaml, ground-truth.json)',
  builder: (y) =>
    y
      .option('spec', { type: 'string', default: DEFAULT_SPEC, describe: 'Corpus spec (YAML)' })
      .option('out', { type: 'string', demandOption: true, describe: 'Output folder' })
      .option('seed', { type: 'number', describe: "Overrides the spec's seed" })
      .option('pieces', { type: 'number', describe: "Pieces per composer (overrides the spec's)" })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'Machine-readable output on stdout',
      }),
  handler: async (args) => {
    const summary = await stagedRun(args.out, async (output) => ({
      ...(await writeSyntheticCorpusAsync(args.spec, output.staging, {
        seed: args.seed,
        piecesPerComposer: args.pieces,
      })),
      out: args.out,
    }));
    printResult(args.json, summary, () =>
      [
        `wrote ${summary.out}: ${summary.pieces} pieces, ${summary.notes} notes, ${(summary.seconds / 60).toFixed(1)} min`,
        ...Object.entries(summary.composers).map(
          ([c, n]) => `  ${c.padEnd(12)} ${String(n).padStart(4)} pieces`,
        ),
      ].join('\n'),
    );
  },
};
