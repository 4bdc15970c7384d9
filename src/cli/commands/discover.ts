import type { Argv, CommandModule } from 'yargs';
import { UserError } from '../../util/errors.ts';
import { exportConcepts } from '../../discovery/export.ts';
import { discover, DISCOVERY_DEFAULTS } from '../../discovery/run.ts';
import type { ConceptLens } from '../../lens/lens.ts';
import {
  defaultDiscoveryLayer as chooseDiscoveryLayer,
  mapWarning,
} from '../../model/layer-choice.ts';
import { emptyResults } from '../../results/identity.ts';
import type { RunOutput } from '../../results/output.ts';
import type { DiscoveredConcept, RunResults } from '../../results/results.ts';
import type { CavMethod } from '../../tcav/cav.ts';
import { TCAV_DEFAULTS } from '../../tcav/run.ts';
import { lensOptions, openLens, type LensFlags } from '../lens-options.ts';
import { log, printResult } from '../output.ts';
import { stagedRun } from '../staged-run.ts';

export interface DiscoverFlags {
  method: 'kmeans' | 'nmf';
  'concepts-count'?: number;
  'discovery-excerpts': number;
  'min-pieces': number;
  'random-runs': number;
  'set-size': number;
  'target-excerpts': number;
  'null-concepts'?: number;
  cav: CavMethod;
  seed: number;
  alpha: number;
}

interface DiscoverArgs extends LensFlags, DiscoverFlags {
  layers: string[];
  targets?: string[];
  out: string;
  json: boolean;
}

/**
 * The layer discovery works at by default (src/model/layer-choice.ts): NMF the deepest
 * non-negative layer with a time or pitch map (layer4 in a ResNet), k-means layer3 in a ResNet,
 * else the deepest layer with a map. Says why on stderr.
 */
export function defaultDiscoveryLayer(
  lens: ConceptLens,
  method: 'kmeans' | 'nmf',
  layerFlag = '--layers',
): string {
  let choice;
  try {
    choice = chooseDiscoveryLayer(lens.classifier.layers(), method, layerFlag);
  } catch (err) {
    if (err instanceof UserError) throw new UserError(`${lens.classifier.path}: ${err.message}`);
    throw err;
  }
  log(`discovery layer (default): ${choice.why}`);
  return choice.name;
}

export function discoveryOptions<T>(y: Argv<T>) {
  return y
    .option('method', {
      choices: ['kmeans', 'nmf'] as const,
      default: 'nmf' as const,
      describe: 'k-means clusters (ACE) or NMF components (ICE)',
    })
    .option('concepts-count', {
      type: 'number',
      describe:
        'Clusters or components to find (default: 10 components, or 3 clusters per target + 1)',
    })
    .option('discovery-excerpts', {
      type: 'number',
      default: DISCOVERY_DEFAULTS.excerptsPerTarget,
      describe: 'Windows sampled per target composer',
    })
    .option('min-pieces', {
      type: 'number',
      default: DISCOVERY_DEFAULTS.minPieces,
      describe: 'k-means: keep clusters spanning at least this many pieces',
    });
}

export async function discoverStage(
  lens: ConceptLens,
  args: DiscoverFlags & { layers: string[]; targets: string[] },
  results: RunResults,
  output: RunOutput,
): Promise<void> {
  const concepts: DiscoveredConcept[] = [];
  const info: Record<string, unknown>[] = [];
  for (const layer of args.layers) {
    const warning = args.method === 'nmf' ? mapWarning(lens.classifier.layer(layer)) : undefined;
    if (warning) log(`warning: ${warning}`);
    const found = await discover(lens, {
      method: args.method,
      layer,
      targets: args.targets,
      conceptsCount: args['concepts-count'],
      excerptsPerTarget: args['discovery-excerpts'],
      minPieces: args['min-pieces'],
      seed: args.seed,
      alpha: args.alpha,
      runs: args['random-runs'],
      setSize: args['set-size'],
      targetExcerpts: args['target-excerpts'],
      nullConcepts: args['null-concepts'],
      cav: args.cav,
    });
    concepts.push(...(await exportConcepts(lens, found.concepts, (rel) => output.path(rel))));
    info.push(found.info);
  }
  results.concepts = concepts;
  results.discovery = {
    ...(info[0] as { method: 'kmeans' | 'nmf'; layer: string }),
    ...(info.length > 1 ? { layers: info } : {}),
  };
}

/** Per target: the discovered concepts that raise its logit most. */
export function discoverySummary(concepts: DiscoveredConcept[], targets: string[]): string[] {
  return targets.map((t) => {
    const top = concepts
      .filter(
        (c) =>
          c.importance[t] && c.importance[t].value > 0 && c.importance[t].significant !== false,
      )
      .sort((a, b) => b.importance[t].value - a.importance[t].value)
      .slice(0, 3)
      .map((c) => `${c.id} (${c.excerpts[0] ? `e.g. ${c.excerpts[0].piece}` : 'no excerpt'})`);
    return `  ${t.padEnd(14)} ${top.length ? top.join(', ') : '(none)'}`;
  });
}

export const discoverCommand: CommandModule<object, DiscoverArgs> = {
  command: 'discover',
  describe:
    'Discover concepts in the corpus (k-means or NMF in activation space) and export their typical excerpts as MIDI',
  builder: (y) =>
    discoveryOptions(lensOptions(y))
      .option('layers', {
        type: 'string',
        array: true,
        default: [],
        describe:
          'Layers (default: nmf the deepest non-negative layer with a time or pitch map, layer4 in a ResNet; kmeans layer3 in a ResNet, else the deepest layer with a map)',
      })
      .option('targets', {
        type: 'string',
        array: true,
        describe: 'Composers whose excerpts are explored (default: all)',
      })
      .option('random-runs', {
        type: 'number',
        default: TCAV_DEFAULTS.runs,
        describe: 'k-means: CAVs per cluster (and per random concept) in the TCAV test of clusters',
      })
      .option('set-size', {
        type: 'number',
        default: TCAV_DEFAULTS.setSize,
        describe: 'Excerpts per random set',
      })
      .option('null-concepts', {
        type: 'number',
        describe:
          'k-means: random concepts of each cluster size in the null (default 1000 with FastCAV, 200 logistic)',
      })
      .option('cav', {
        choices: ['logistic', 'fast'] as const,
        default: TCAV_DEFAULTS.cav,
        describe: 'k-means: CAV method for the test of clusters',
      })
      .option('target-excerpts', {
        type: 'number',
        default: TCAV_DEFAULTS.targetExcerpts,
        describe: 'Excerpts per composer for derivatives',
      })
      .option('seed', { type: 'number', default: 1 })
      .option('alpha', { type: 'number', default: TCAV_DEFAULTS.alpha })
      .option('out', {
        type: 'string',
        demandOption: true,
        describe: 'Output folder (results.json, excerpts/)',
      })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'Print results.json on stdout',
      }) as unknown as Argv<DiscoverArgs>,
  handler: async (args) => {
    const started = Date.now();
    const lens = await openLens(args);
    try {
      const targets = lens.targets(args.targets);
      const results = await stagedRun(args.out, async (output) => {
        const layers = args.layers.length
          ? args.layers
          : [defaultDiscoveryLayer(lens, args.method)];
        const results = emptyResults(lens, args.model, {
          command: 'discover',
          startedAt: new Date(started).toISOString(),
          seed: args.seed,
          layers,
          targets,
          parameters: {
            method: args.method,
            conceptsCount: args['concepts-count'],
            excerptsPerTarget: args['discovery-excerpts'],
          },
        });
        await discoverStage(lens, { ...args, layers, targets }, results, output);
        results.run.seconds = (Date.now() - started) / 1000;
        results.layers = await lens.derivativesRecord(results.run.layers);
        output.writeResults(results);
        return results;
      });
      printResult(args.json, results, () =>
        [
          `wrote ${args.out}/results.json and ${results.concepts.reduce((a, c) => a + c.excerpts.length + c.leastTypical.length, 0)} excerpts (${results.run.seconds.toFixed(1)} s)`,
          'concepts raising each composer most:',
          ...discoverySummary(results.concepts, targets),
        ].join('\n'),
      );
    } finally {
      await lens.close();
    }
  },
};
