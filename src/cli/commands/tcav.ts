import type { Argv, CommandModule } from 'yargs';
import { loadConcepts } from '../../concepts/load.ts';
import type { ConceptLens } from '../../lens/lens.ts';
import { defaultTcavLayer } from '../../model/layer-choice.ts';
import { emptyResults } from '../../results/identity.ts';
import type { RunResults, TcavEntry } from '../../results/results.ts';
import type { CavMethod } from '../../tcav/cav.ts';
import {
  defaultNullConcepts,
  prepareConcepts,
  TCAV_DEFAULTS,
  type PreparedConcept,
  type TcavOptions,
} from '../../tcav/run.ts';
import { runTcavSeeds, stableShare } from '../../tcav/stability.ts';
import { bankOptions, bankStage, checkBankFlags, saveBank, type BankFlags } from './bank.ts';
import { UserError } from '../../util/errors.ts';
import { lensOptions, openLens, type LensFlags } from '../lens-options.ts';
import { log, printResult } from '../output.ts';
import { stagedRun } from '../staged-run.ts';
import { publicPath } from '../../results/public-path.ts';

/** The flags of a TCAV run (tcavFlags). */
export interface TcavFlags {
  'random-runs': number;
  'set-size': number;
  'target-excerpts': number;
  'effect-windows': number;
  'null-concepts'?: number;
  'pool-size': number;
  cav: CavMethod;
  seed: number;
  seeds: number;
  alpha: number;
  'resampling-risk'?: number;
}

interface TcavArgs extends LensFlags, BankFlags, TcavFlags {
  concepts: string[];
  layers: string[];
  targets?: string[];
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
    | 'effect-windows'
    | 'null-concepts'
    | 'pool-size'
    | 'cav'
    | 'seed'
    | 'seeds'
    | 'alpha'
    | 'resampling-risk'
  >,
  results: RunResults,
  onCavs?: TcavOptions['onCavs'],
): Promise<{ prepared: PreparedConcept[] }> {
  const { concepts, errors } = loadRunConcepts(args.concepts);
  results.skipped.push(
    ...errors.map((e) => ({
      file: publicPath(e.file),
      reason: e.reason.split(e.file).join(publicPath(e.file)),
    })),
  );
  const prepared = await prepareConcepts(lens, concepts);
  checkTcavFlags(args);
  const seeds = [...Array(args.seeds).keys()].map((i) => args.seed + i);
  results.tcav = await runTcavSeeds(
    lens,
    prepared,
    {
      layers: args.layers,
      targets: lens.targets(args.targets),
      runs: args['random-runs'],
      setSize: args['set-size'],
      targetExcerpts: args['target-excerpts'],
      effectWindows: args['effect-windows'],
      nullConcepts: args['null-concepts'],
      poolSize: args['pool-size'],
      cav: args.cav,
      seed: args.seed,
      alpha: args.alpha,
      resamplingRisk: args['resampling-risk'],
      onCavs,
    },
    seeds,
  );
  Object.assign(results.run.parameters, {
    randomRuns: args['random-runs'],
    setSize: args['set-size'],
    targetExcerpts: args['target-excerpts'],
    effectWindows: args['effect-windows'],
    nullConcepts: args['null-concepts'] ?? defaultNullConcepts(args.cav),
    poolSize: args['pool-size'],
    cav: args.cav,
    ...(seeds.length > 1 ? { seeds } : {}),
    alpha: args.alpha,
    resamplingRisk: args['resampling-risk'],
    concepts: concepts.map((c) => c.spec.name),
  });
  return { prepared };
}

/** Checks of the TCAV flags that need no model: call before opening anything. */
export function checkTcavFlags(
  args: Pick<TcavFlags, 'seeds' | 'null-concepts'> & Partial<Pick<TcavFlags, 'effect-windows'>>,
): void {
  const w = args['effect-windows'];
  if (w !== undefined && (!Number.isInteger(w) || w < 0))
    throw new UserError(`--effect-windows: a whole number, 0 or more, got ${w}`);
  if (!Number.isInteger(args.seeds) || args.seeds < 1 || args.seeds > 100)
    throw new UserError(`--seeds: a whole number of seeds from 1 to 100, got ${args.seeds}`);
  const risk = (args as Partial<Pick<TcavFlags, 'resampling-risk'>>)['resampling-risk'];
  if (risk !== undefined && !(risk > 0 && risk < 1))
    throw new UserError(`--resampling-risk: a probability between 0 and 1, got ${risk}`);
  const m = args['null-concepts'];
  if (m !== undefined && (!Number.isInteger(m) || m < 3))
    throw new UserError(`--null-concepts: a whole number, at least 3, got ${m}`);
}

/** Flags of a TCAV run, shared by tcav and explain. */
export function tcavFlags<T>(y: Argv<T>) {
  return y
    .option('random-runs', {
      type: 'number',
      default: TCAV_DEFAULTS.runs,
      describe: 'CAVs per concept (and per random concept), each against a fresh random set',
    })
    .option('set-size', {
      type: 'number',
      default: TCAV_DEFAULTS.setSize,
      describe: 'Excerpts per random counterexample set',
    })
    .option('target-excerpts', {
      type: 'number',
      default: TCAV_DEFAULTS.targetExcerpts,
      describe:
        'Excerpts per composer where scores (share of excerpts pushed up) are read (fewer at a layer too wide to hold them: a note says so)',
    })
    .option('effect-windows', {
      type: 'number',
      default: TCAV_DEFAULTS.effectWindows,
      describe:
        "Windows per composer whose mean gradient gives the effects that are tested (every window up to this many; 0: the target excerpts')",
    })
    .option('null-concepts', {
      type: 'number',
      describe:
        'Budget of random concepts per concept size: a null starts at 1000 (FastCAV; 50 logistic) and is doubled only while a cell that uses it is undecided (default 32000 with FastCAV, 200 with the logistic CAV)',
    })
    .option('pool-size', {
      type: 'number',
      default: TCAV_DEFAULTS.poolSize,
      describe:
        'Random corpus windows that counterexamples and random concepts are drawn from (fewer at a layer too wide to hold them: a note says so)',
    })
    .option('cav', {
      choices: ['logistic', 'fast'] as const,
      default: TCAV_DEFAULTS.cav,
      describe: 'CAV: logistic regression, or FastCAV (closed form, class means)',
    })
    .option('seed', { type: 'number', default: 1 })
    .option('seeds', {
      type: 'number',
      default: 1,
      describe: 'Repeat TCAV with seeds seed..seed+N-1 and report which verdicts hold in all',
    })
    .option('alpha', {
      type: 'number',
      default: TCAV_DEFAULTS.alpha,
      describe: 'Significance level after Holm correction',
    })
    .option('resampling-risk', {
      type: 'number',
      default: TCAV_DEFAULTS.resamplingRisk,
      describe:
        'Bound on the chance that more random concepts would reverse a decided verdict (cells closer to the line say "undecided")',
    });
}

/** With --seeds N: how many of the cells significant in some seed were significant in all. */
export function stabilitySummary(entries: TcavEntry[]): string[] {
  if (!entries.some((e) => e.stability)) return [];
  const { anySeed, allSeeds } = stableShare(entries);
  const seeds = entries[0].stability!.seeds.length;
  return [
    `stability over ${seeds} seeds: ${allSeeds} of ${anySeed} cells significant in some seed are significant in all (stable); ${entries.filter((e) => e.stability!.reversed).length} significant in one seed and not significant in another`,
  ];
}

/**
 * One line per target: the significant concepts that raise it (highest score first) and those that
 * lower it (lowest score first). A cell that lowers a composer is as much a finding as one that
 * raises it; listing only the raising ones would hide half of what the run found.
 */
export function tcavSummary(entries: TcavEntry[]): string[] {
  const lines: string[] = [];
  const cell = (e: TcavEntry) =>
    `${e.concept} ${e.score.toFixed(2)}${e.cavReliable ? '' : ' (weak CAV)'}${stabilityNote(e)}`;
  for (const target of [...new Set(entries.map((e) => e.target))]) {
    const significant = entries.filter((e) => e.target === target && e.significant);
    const raise = significant
      .filter((e) => e.effect > e.randomEffect)
      .sort((a, b) => b.score - a.score)
      .map(cell);
    const lower = significant
      .filter((e) => e.effect < e.randomEffect)
      .sort((a, b) => a.score - b.score)
      .map(cell);
    const open = entries
      .filter((e) => e.target === target && e.outcome === 'undecided')
      .map((e) => `${e.concept} (p ${pRange(e)})`);
    const parts = [
      ...(raise.length ? [`raise: ${raise.join(', ')}`] : []),
      ...(lower.length ? [`lower: ${lower.join(', ')}`] : []),
    ];
    lines.push(
      `  ${target.padEnd(14)} ${parts.length ? parts.join('; ') : '(no significant concept)'}${open.length ? `; undecided: ${open.join(', ')}` : ''}`,
    );
  }
  const decided = entries.filter((e) => e.outcome);
  if (decided.length) {
    const count = (o: string) => decided.filter((e) => e.outcome === o).length;
    lines.push(
      `  outcomes: ${count('significant')} significant, ${count('not significant')} not significant, ${count('undecided')} undecided (resampling risk at most ${decided[0].resamplingRisk})`,
    );
  }
  return lines;
}

function pRange(e: TcavEntry): string {
  const [lo, hi] = e.pValueInterval ?? [e.pValue, e.pValue];
  return `${lo.toExponential(1)}-${hi.toExponential(1)}`;
}

/** The stability of a cell over `--seeds`, in words, after its score in the summary. */
export function stabilityNote(e: TcavEntry): string {
  const s = e.stability;
  if (!s) return '';
  if (s.stable) return ' (stable)';
  // Counted in the cell's own direction: a lowering cell is significant when it lowers.
  const both = s.significantUp > 0 && s.significantDown > 0;
  const called = both
    ? `raises in ${s.significantUp}, lowers in ${s.significantDown}`
    : `significant in ${s.significantUp + s.significantDown}`;
  return ` (${called} of ${s.seeds.length} seeds${s.undecided ? `, undecided in ${s.undecided}` : ''})`;
}

export const tcavCommand: CommandModule<object, TcavArgs> = {
  command: 'tcav',
  describe:
    'Test concepts (YAML) with TCAV: scores per composer against random counterexamples, with statistics',
  builder: (y) =>
    tcavFlags(bankOptions(lensOptions(y)))
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
    checkTcavFlags(args);
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
          'significant concepts per composer (score; raise: the concept raises the composer, lower: lowers it):',
          ...tcavSummary(results.tcav),
          ...stabilitySummary(results.tcav),
        ].join('\n'),
      );
    } finally {
      await lens.close();
    }
  },
};
