import type { Argv, CommandModule } from 'yargs';
import { loadConcepts } from '../../concepts/load.ts';
import type { ConceptLens } from '../../lens/lens.ts';
import { defaultTcavLayer } from '../../model/layer-choice.ts';
import { emptyResults } from '../../results/identity.ts';
import type { RunResults, TcavEntry } from '../../results/results.ts';
import {
  prepareConcepts,
  runTcav,
  TCAV_DEFAULTS,
  type PreparedConcept,
  type TcavOptions,
} from '../../tcav/run.ts';
import { bankOptions, bankStage, checkBankFlags, saveBank, type BankFlags } from './bank.ts';
import { UserError } from '../../util/errors.ts';
import { lensOptions, openLens, type LensFlags } from '../lens-options.ts';
import { log, printResult } from '../output.ts';
import { stagedRun } from '../staged-run.ts';

interface TcavArgs extends LensFlags, BankFlags {
  concepts: string[];
  layers: string[];
  targets?: string[];
  'random-runs': number;
  'set-size': number;
  'target-excerpts': number;
  seed: number;
  alpha: number;
  out: string;
  json: boolean;
}

/** Layers to explain when none are named (src/model/layer-choice.ts), saying why on stderr. */
export function defaultLayers(lens: ConceptLens): string[] {
  const choice = defaultTcavLayer(lens.classifier.layers());
  log(`TCAV layer (default): ${choice.why}`);
  return [choice.name];
}

/** Concept files of a run; bad files are reported on stderr and in results.skipped, not fatal. */
export function loadRunConcepts(paths: string[]) {
  const { concepts, errors } = loadConcepts(paths);
  for (const e of errors) log(`skipping ${e.reason}`);
  if (concepts.length === 0) {
    throw new UserError(
      `${paths.join(', ')}: no valid concept files${errors.length ? ` (${errors.length} with errors)` : ''}`,
    );
  }
  return { concepts, errors };
}

export async function tcavStage(
  lens: ConceptLens,
  args: Pick<
    TcavArgs,
    | 'concepts'
    | 'layers'
    | 'targets'
    | 'random-runs'
    | 'set-size'
    | 'target-excerpts'
    | 'seed'
    | 'alpha'
  >,
  results: RunResults,
  onCavs?: TcavOptions['onCavs'],
): Promise<{ prepared: PreparedConcept[] }> {
  const { concepts, errors } = loadRunConcepts(args.concepts);
  results.skipped.push(...errors.map((e) => ({ file: e.file, reason: e.reason })));
  const prepared = await prepareConcepts(lens, concepts);
  results.tcav = await runTcav(lens, prepared, {
    layers: args.layers,
    targets: lens.targets(args.targets),
    runs: args['random-runs'],
    setSize: args['set-size'],
    targetExcerpts: args['target-excerpts'],
    seed: args.seed,
    alpha: args.alpha,
    onCavs,
  });
  Object.assign(results.run.parameters, {
    randomRuns: args['random-runs'],
    setSize: args['set-size'],
    targetExcerpts: args['target-excerpts'],
    alpha: args.alpha,
    concepts: concepts.map((c) => c.spec.name),
  });
  return { prepared };
}

/** One line per target: its significant concepts, highest score first. */
export function tcavSummary(entries: TcavEntry[]): string[] {
  const lines: string[] = [];
  for (const target of [...new Set(entries.map((e) => e.target))]) {
    const sig = entries
      .filter((e) => e.target === target && e.significant && e.effect > e.randomEffect)
      .sort((a, b) => b.score - a.score)
      .map((e) => `${e.concept} ${e.score.toFixed(2)}${e.cavReliable ? '' : ' (weak CAV)'}`);
    lines.push(
      `  ${target.padEnd(14)} ${sig.length ? sig.join(', ') : '(no significant concept)'}`,
    );
  }
  return lines;
}

export const tcavCommand: CommandModule<object, TcavArgs> = {
  command: 'tcav',
  describe:
    'Test concepts (YAML) with TCAV: scores per composer against random counterexamples, with statistics',
  builder: (y) =>
    bankOptions(lensOptions(y))
      .option('concepts', {
        type: 'string',
        array: true,
        demandOption: true,
        describe: 'Concept YAML files or folders',
      })
      .option('layers', {
        type: 'string',
        array: true,
        default: [],
        describe:
          'Layers to test at (default: layer3 in a ResNet, else the middle layer with a time or pitch map)',
      })
      .option('targets', {
        type: 'string',
        array: true,
        describe: 'Composers to explain (default: all model labels in the corpus)',
      })
      .option('random-runs', {
        type: 'number',
        default: TCAV_DEFAULTS.runs,
        describe: 'Random counterexample sets (CAVs per concept)',
      })
      .option('set-size', {
        type: 'number',
        default: TCAV_DEFAULTS.setSize,
        describe: 'Excerpts per random set',
      })
      .option('target-excerpts', {
        type: 'number',
        default: TCAV_DEFAULTS.targetExcerpts,
        describe: 'Excerpts per composer for derivatives',
      })
      .option('seed', { type: 'number', default: 1 })
      .option('alpha', {
        type: 'number',
        default: TCAV_DEFAULTS.alpha,
        describe: 'Significance level after Holm correction',
      })
      .option('out', {
        type: 'string',
        demandOption: true,
        describe: 'Output folder (results.json)',
      })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'Print results.json on stdout',
      }) as unknown as Argv<TcavArgs>,
  handler: async (args) => {
    const started = Date.now();
    checkBankFlags(args);
    const lens = await openLens(args);
    try {
      const results = await stagedRun(args.out, async (output) => {
        const layers = args.layers.length ? args.layers : defaultLayers(lens);
        const results = emptyResults(lens, args.model, {
          command: 'tcav',
          startedAt: new Date(started).toISOString(),
          seed: args.seed,
          layers,
          targets: lens.targets(args.targets),
          parameters: {},
        });
        const bank = args['save-bank'] ? bankStage(args) : undefined;
        const { prepared } = await tcavStage(
          lens,
          { ...args, layers },
          results,
          bank?.collector.add,
        );
        const built = await bank?.build(lens, prepared, args.model);
        results.run.seconds = (Date.now() - started) / 1000;
        results.layers = await lens.derivativesRecord(results.run.layers);
        output.writeResults(results);
        saveBank(args, built);
        return results;
      });
      printResult(args.json, results, () =>
        [
          `wrote ${args.out}/results.json (${results.tcav.length} cells, ${results.run.seconds.toFixed(1)} s)`,
          ...(args['save-bank'] ? [`wrote the concept bank ${args['save-bank']}`] : []),
          'significant concepts per composer:',
          ...tcavSummary(results.tcav),
        ].join('\n'),
      );
    } finally {
      await lens.close();
    }
  },
};
