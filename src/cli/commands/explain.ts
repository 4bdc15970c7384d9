import { existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Argv, CommandModule } from 'yargs';
import { z } from 'zod';
import { emptyResults } from '../../results/identity.ts';
import { renderReport } from '../../report/html.ts';
import { UserError } from '../../util/errors.ts';
import { parseYamlFile } from '../../util/yaml.ts';
import { lensOptions, openLens, type LensFlags } from '../lens-options.ts';
import { printResult } from '../output.ts';
import { stagedRun } from '../staged-run.ts';
import {
  defaultDiscoveryLayer,
  discoverStage,
  discoveryOptions,
  discoverySummary,
  type DiscoverFlags,
} from './discover.ts';
import { hubnessOptions, hubnessStage, type HubnessFlags } from './similar.ts';
import {
  defaultLayers,
  checkTcavFlags,
  stabilitySummary,
  tcavFlags,
  tcavStage,
  tcavSummary,
  type TcavFlags,
} from './tcav.ts';
import {
  attackOptions,
  attackStage,
  attackSummary,
  parseAttackFlags,
  type AttackFlags,
} from './attack.ts';
import { bankOptions, bankStage, checkBankFlags, saveBank, type BankFlags } from './bank.ts';
import {
  checkComposers,
  checkTop,
  hopFrames,
  timelineModelIdentity,
  timelineOptions,
  timelineStage,
  timelineSummary,
} from './timeline.ts';
import { pieceEntries } from '../../timeline/inputs.ts';
import type { CorpusEntry } from '../../corpus/types.ts';
import { publicPath } from '../../results/public-path.ts';
import type { TimelineResults } from '../../results/timeline.ts';
import type { ConceptBank } from '../../bank/build.ts';

/**
 * `concept-lens explain`: TCAV over the given concepts and discovery over the target composers in
 * one run, sharing the model session and the activation cache, writing results.json, report.html
 * and excerpts/. With no arguments it explains the embedded default: the synthetic-style model and
 * corpus with the shipped texture concepts, offline.
 */
const PROJECT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const EMBEDDED_DEFAULT = {
  model: resolve(PROJECT, 'models', 'synthetic.onnx'),
  corpus: 'synthetic',
  concepts: [resolve(PROJECT, 'concepts', 'textures')],
  out: 'out/explain',
};

/** The config file: every key is optional and the same as the flag of that name. */
const configSchema = z
  .object({
    model: z.string(),
    corpus: z.string(),
    root: z.string(),
    concepts: z.union([z.string(), z.array(z.string())]),
    layers: z.array(z.string()),
    targets: z.array(z.string()),
    seed: z.number().int(),
    out: z.string(),
    randomRuns: z.number().int().min(2),
    setSize: z.number().int().min(4),
    targetExcerpts: z.number().int().min(2),
    effectWindows: z.number().int().min(0),
    alpha: z.number().gt(0).lt(1),
    nullConcepts: z.number().int().min(3),
    poolSize: z.number().int().min(10),
    cav: z.enum(['logistic', 'fast']),
    seeds: z.number().int().min(1).max(100),
    discovery: z
      .object({
        method: z.enum(['kmeans', 'nmf']),
        layers: z.array(z.string()),
        targets: z.array(z.string()),
        conceptsCount: z.number().int().min(2),
        excerpts: z.number().int().min(2),
        minPieces: z.number().int().min(1),
        skip: z.boolean(),
      })
      .partial()
      .strict(),
    tcav: z.object({ skip: z.boolean() }).partial().strict(),
    /** MIDI files or folders whose timelines the report shows. */
    pieces: z.array(z.string()),
    /** Folder to write the run's concept bank to. */
    saveBank: z.string(),
  })
  .partial()
  .strict();
export type ExplainConfig = z.infer<typeof configSchema>;

interface ExplainArgs
  extends LensFlags, DiscoverFlags, BankFlags, TcavFlags, AttackFlags, HubnessFlags {
  attack: boolean;
  pieces: string[];
  hop?: number;
  composer: string[];
  top: number;
  concepts: string[];
  layers: string[];
  'discovery-layers': string[];
  targets?: string[];
  'discovery-targets'?: string[];
  'skip-tcav': boolean;
  'skip-discovery': boolean;
  out: string;
  json: boolean;
}

export const explainCommand: CommandModule<object, ExplainArgs> = {
  command: 'explain',
  describe:
    'TCAV and concept discovery in one run, with an HTML report (no arguments: the embedded synthetic default)',
  builder: (y) =>
    tcavFlags(
      hubnessOptions(
        attackOptions(
          timelineOptions(
            bankOptions(
              discoveryOptions(
                lensOptions(y, { model: EMBEDDED_DEFAULT.model, corpus: EMBEDDED_DEFAULT.corpus }),
              ),
            ),
          ),
        ),
      ),
    )
      .option('attack', {
        type: 'boolean',
        default: false,
        describe:
          'Also attack the model with note edits (robustness section; see `attack --help` for its flags)',
      })
      .option('pieces', {
        type: 'string',
        array: true,
        default: [] as string[],
        describe: "MIDI files or folders to show window by window with the run's concepts",
      })
      .config(
        'config',
        'YAML naming model, corpus, concepts, layers, targets, seeds (flags override it)',
        configFlags,
      )
      .option('concepts', {
        type: 'string',
        array: true,
        default: EMBEDDED_DEFAULT.concepts,
        describe: 'Concept YAML files or folders',
      })
      .option('layers', {
        type: 'string',
        array: true,
        default: [],
        describe:
          'TCAV layers (default: layer3 in a ResNet, else the middle layer with a time or pitch map)',
      })
      .option('discovery-layers', {
        type: 'string',
        array: true,
        default: [],
        describe:
          'Discovery layers (default for nmf: the deepest non-negative layer with a time or pitch map, layer4 in a ResNet)',
      })
      .option('targets', {
        type: 'string',
        array: true,
        describe: 'Composers to explain (default: all model labels in the corpus)',
      })
      .option('discovery-targets', {
        type: 'string',
        array: true,
        describe: 'Composers whose excerpts discovery explores (default: --targets)',
      })
      .option('skip-tcav', { type: 'boolean', default: false })
      .option('skip-discovery', { type: 'boolean', default: false })
      .option('out', { type: 'string', default: EMBEDDED_DEFAULT.out, describe: 'Output folder' })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'Print results.json on stdout',
      }) as unknown as Argv<ExplainArgs>,
  handler: async (args) => {
    if (args.model === EMBEDDED_DEFAULT.model && !existsSync(args.model)) {
      throw new UserError(
        `${args.model}: the embedded default model is missing (see training/README.md to rebuild it)`,
      );
    }
    const started = Date.now();
    if (args.attack) parseAttackFlags(args, args.model); // bad flags fail before anything is opened
    checkBankFlags(args);
    if (!args['skip-tcav']) checkTcavFlags(args);
    const wantsBank = args['pieces'].length > 0 || args['save-bank'] !== undefined;
    if (wantsBank && args['skip-tcav'])
      throw new UserError('--pieces and --save-bank need the CAVs of TCAV: drop --skip-tcav');
    // Pieces are inputs too: read their lists before anything is written.
    const pieces: CorpusEntry[] = pieceEntries(args.pieces);
    const lens = await openLens(args);
    try {
      const hop = hopFrames(lens.classifier, args.hop);
      const top = checkTop(args.top);
      const composers = checkComposers(lens.classifier, args.composer);
      let timeline: TimelineResults | undefined;
      let built: ConceptBank | undefined;
      const layers = args.layers.length
        ? args.layers
        : args['skip-tcav']
          ? []
          : defaultLayers(lens);
      const targets = lens.targets(args.targets);
      const discoveryLayers = args['discovery-layers'].length
        ? args['discovery-layers']
        : args['skip-discovery']
          ? []
          : [defaultDiscoveryLayer(lens, args.method, '--discovery-layers')];
      const discoveryTargets = lens.targets(args['discovery-targets'] ?? args.targets);
      const results = await stagedRun(args.out, async (output) => {
        const results = emptyResults(lens, args.model, {
          command: 'explain',
          startedAt: new Date(started).toISOString(),
          seed: args.seed,
          layers: [
            ...new Set([
              ...(args['skip-tcav'] ? [] : layers),
              ...(args['skip-discovery'] ? [] : discoveryLayers),
            ]),
          ],
          targets,
          parameters: {
            corpus: publicPath(args.corpus),
            concepts: args['skip-tcav'] ? [] : args.concepts.map((c) => publicPath(c)),
            tcavLayers: layers,
            discovery: args['skip-discovery']
              ? 'skipped'
              : {
                  method: args.method,
                  layers: discoveryLayers,
                  targets: discoveryTargets,
                  conceptsCount: args['concepts-count'],
                  excerptsPerTarget: args['discovery-excerpts'],
                },
          },
        });
        if (!args['skip-tcav']) {
          const bank = wantsBank ? bankStage(args) : undefined;
          const { prepared } = await tcavStage(
            lens,
            { ...args, layers },
            results,
            bank?.collector.add,
          );
          built = await bank?.build(lens, prepared, args.model);
          if (built && pieces.length > 0) {
            timeline = await timelineStage(lens.classifier, built, pieces, output, {
              input: args.pieces.join(', '),
              model: timelineModelIdentity(lens.classifier, args.model),
              startedAt: new Date(started).toISOString(),
              hopFrames: hop,
              composers,
              topWindows: top,
              cache: lens.cache,
              sustain: args.sustain,
              quiet: args.quiet,
              command: 'explain',
            });
            results.timeline = { file: 'timeline.json', pieces: timeline.pieces.length };
          }
        }
        if (!args['skip-discovery'])
          await discoverStage(
            lens,
            { ...args, layers: discoveryLayers, targets: discoveryTargets },
            results,
            output,
          );
        if (args.attack)
          await attackStage(
            lens,
            {
              ...args,
              targets,
              concepts: args['skip-tcav'] ? [] : args.concepts,
              layer: layers[0],
            },
            results,
            output,
          );
        await hubnessStage(lens, args, results);
        results.run.seconds = Math.round((Date.now() - started) / 100) / 10;
        results.layers = await lens.derivativesRecord(results.run.layers);
        output.writeResults(results);
        output.writeText(
          'report.html',
          renderReport(results, { outDir: output.staging, timeline }),
        );
        saveBank(args, built);
        return results;
      });
      printResult(args.json, results, () =>
        [
          `report: ${resolve(args.out, 'report.html')}  (${results.run.seconds.toFixed(1)} s)`,
          ...(results.tcav.length
            ? [
                'TCAV, significant concepts per composer (score; raise: the concept raises the composer, lower: lowers it):',
                ...tcavSummary(results.tcav),
                ...stabilitySummary(results.tcav),
              ]
            : []),
          ...(results.concepts.length
            ? [
                'discovered concepts raising each composer most:',
                ...discoverySummary(results.concepts, discoveryTargets),
              ]
            : []),
          ...(results.attack
            ? ['robustness to note edits:', ...attackSummary(results.attack)]
            : []),
          ...(timeline
            ? [
                'pieces, what the model hears (whole-piece probability):',
                ...timelineSummary(timeline),
              ]
            : []),
          ...(args['save-bank'] ? [`wrote the concept bank ${args['save-bank']}`] : []),
          ...(results.skipped.length
            ? [`skipped ${results.skipped.length} bad input(s); see results.json`]
            : []),
        ].join('\n'),
      );
    } finally {
      await lens.close();
    }
  },
};

/**
 * The config file as flags (yargs applies them below whatever the command line gives); paths are
 * relative to the config file.
 */
export function configFlags(path: string): Record<string, unknown> {
  const config = parseYamlFile(path, configSchema);
  const base = dirname(resolve(path));
  const rel = (p: string) => (isAbsolute(p) || p === 'synthetic' ? p : resolve(base, p));
  const flags: Record<string, unknown> = {
    model: config.model === undefined ? undefined : rel(config.model),
    corpus: config.corpus === undefined ? undefined : rel(config.corpus),
    root: config.root === undefined ? undefined : rel(config.root),
    concepts:
      config.concepts === undefined
        ? undefined
        : (Array.isArray(config.concepts) ? config.concepts : [config.concepts]).map(rel),
    layers: config.layers,
    targets: config.targets,
    seed: config.seed,
    out: config.out === undefined ? undefined : rel(config.out),
    'random-runs': config.randomRuns,
    'set-size': config.setSize,
    'target-excerpts': config.targetExcerpts,
    'effect-windows': config.effectWindows,
    alpha: config.alpha,
    'null-concepts': config.nullConcepts,
    'pool-size': config.poolSize,
    cav: config.cav,
    seeds: config.seeds,
    method: config.discovery?.method,
    'discovery-layers': config.discovery?.layers,
    'discovery-targets': config.discovery?.targets,
    'concepts-count': config.discovery?.conceptsCount,
    'discovery-excerpts': config.discovery?.excerpts,
    'min-pieces': config.discovery?.minPieces,
    'skip-discovery': config.discovery?.skip,
    'skip-tcav': config.tcav?.skip,
    pieces: config.pieces?.map(rel),
    'save-bank': config.saveBank === undefined ? undefined : rel(config.saveBank),
  };
  return Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined));
}
