import { createReadStream, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Argv, CommandModule } from 'yargs';
import type { ConceptLens } from '../../lens/lens.ts';
import { modelIdentity, corpusIdentity, VERSION } from '../../results/identity.ts';
import type { RunResults } from '../../results/results.ts';
import type { HubnessReport, SimilarHit, SimilarResults } from '../../results/similar.ts';
import { renderSimilarPage } from '../../report/similar.ts';
import { hubAttackReport, PassageExporter } from '../../retrieval/export.ts';
import { HUB_ATTACK_DEFAULTS, hubAttack } from '../../retrieval/hub-attack.ts';
import {
  DEFAULT_MAX_INDEX_BYTES,
  INDEX_DEFAULTS,
  RetrievalIndex,
  type IndexSettings,
} from '../../retrieval/index.ts';
import { resolveQuery } from '../../retrieval/query.ts';
import { answerQuery, parseQueryLine } from '../../retrieval/session.ts';
import {
  METRICS,
  POOLINGS,
  SCALINGS,
  type Metric,
  type Pooling,
  type Scaling,
} from '../../retrieval/types.ts';
import { writeMidiFile } from '../../midi/write.ts';
import { UserError } from '../../util/errors.ts';
import { oneLine } from '../../util/terminal.ts';
import { lensOptions, openLens, type LensFlags } from '../lens-options.ts';
import { printResult } from '../output.ts';
import { stagedRun } from '../staged-run.ts';
import { defaultDiscoveryLayer } from '../../model/layer-choice.ts';
import { publicPath } from '../../results/public-path.ts';

/**
 * `concept-lens similar`: the corpus passages the model hears as closest to a query (a MIDI file
 * or part of one, a discovered concept's excerpt, a concept YAML), by distance in a layer's
 * activations, optionally rescaled by Mutual Proximity; and (`--hubness`) how lopsided the
 * corpus's neighbourhoods are there. The corpus's index is built once and cached.
 */

/** The scaling `similar` uses unless told otherwise: see docs/similar.md. */
export const DEFAULT_SCALING: Scaling = 'mp-empirical';

export interface RetrievalFlags {
  layer?: string;
  pool: Pooling;
  metric: Metric;
  'max-index-mb': number;
}

export function retrievalOptions<T>(y: Argv<T>) {
  return y
    .option('layer', { type: 'string', describe: 'Layer to search at (default layer3)' })
    .option('pool', {
      choices: POOLINGS,
      default: INDEX_DEFAULTS.pooling,
      describe:
        'How a feature map becomes one vector: mean over time, max over time, global mean, none',
    })
    .option('metric', {
      choices: METRICS,
      default: INDEX_DEFAULTS.metric,
      describe: 'Distance between activation vectors',
    })
    .option('max-index-mb', {
      type: 'number',
      default: DEFAULT_MAX_INDEX_BYTES / 1024 / 1024,
      describe: 'Refuse to build an index larger than this',
    });
}

export function indexSettings(lens: ConceptLens, f: RetrievalFlags): IndexSettings {
  const layer = f.layer ?? defaultDiscoveryLayer(lens.classifier.layers(), 'kmeans').name;
  lens.classifier.layer(layer); // a UserError naming the layers when unknown
  return { ...INDEX_DEFAULTS, layer, pooling: f.pool, metric: f.metric };
}

/** explain's hubness figures: options and the stage. */
export interface HubnessFlags {
  'hubness-windows': number;
  'hubness-layer'?: string;
}

export function hubnessOptions<T>(y: Argv<T>) {
  return y
    .option('hubness-windows', {
      type: 'number',
      default: 2000,
      describe: 'Hubness in the report: corpus windows sampled (0: not measured)',
    })
    .option('hubness-layer', { type: 'string', describe: 'Hubness: layer (default layer3)' });
}

export async function hubnessStage(
  lens: ConceptLens,
  args: HubnessFlags & { seed: number; cache: boolean; 'cache-dir': string },
  results: RunResults,
): Promise<void> {
  if (!(args['hubness-windows'] > 0)) return;
  const layer =
    args['hubness-layer'] ?? defaultDiscoveryLayer(lens.classifier.layers(), 'kmeans').name;
  const all = lens.index.excerpts(lens.targets());
  const excerpts =
    all.length <= args['hubness-windows']
      ? all
      : lens.index.sample(args['hubness-windows'], `${args.seed}/hubness`, lens.targets());
  if (excerpts.length < 12) return;
  const index = await RetrievalIndex.open(
    lens,
    { ...INDEX_DEFAULTS, layer },
    { cacheDir: args.cache ? args['cache-dir'] : false, excerpts },
  );
  const report = await index.hubness([5, 10]);
  results.hubness = [
    {
      ...report,
      note:
        excerpts.length === all.length
          ? 'all windows of the corpus'
          : `a sample of ${excerpts.length} of the corpus's ${all.length} windows (hubness grows with the number of windows)`,
    },
  ];
}

interface SimilarArgs extends LensFlags, RetrievalFlags {
  query?: string;
  queries?: string;
  bars?: number[];
  seconds?: number[];
  k: number;
  scaling: Scaling;
  hubness: boolean;
  'include-own-file': boolean;
  'hub-attack': number;
  'attack-queries': number;
  budget: number;
  'attack-candidates': number;
  'attack-scalings': Scaling[];
  seed: number;
  out?: string;
  json: boolean;
}

export const similarCommand: CommandModule<object, SimilarArgs> = {
  command: 'similar',
  describe:
    'Passages of the corpus the model hears as closest to a query (MIDI, bars, a discovered excerpt, a concept), and hubness',
  builder: (y) =>
    retrievalOptions(lensOptions(y))
      .option('query', {
        type: 'string',
        describe:
          "A MIDI file (or a discovered concept excerpt), or a concept YAML (its examples' mean)",
      })
      .option('queries', {
        type: 'string',
        describe:
          'A session: read queries from this file (standard input when no file is given), one per line ("<midi|yaml> [bars a b | seconds a b]"), and answer each with the index kept loaded',
      })
      .option('bars', {
        type: 'number',
        array: true,
        describe: 'Bars a b of the query (1-based, inclusive)',
      })
      .option('seconds', { type: 'number', array: true, describe: 'Seconds a b of the query' })
      .option('k', { type: 'number', default: 10, describe: 'Passages to return' })
      .option('scaling', {
        choices: SCALINGS,
        default: DEFAULT_SCALING,
        describe: 'Rank by the distance itself or by Mutual Proximity (empirical or Gaussian)',
      })
      .option('hubness', {
        type: 'boolean',
        default: false,
        describe: 'Measure hubness of the corpus at the layer (k-occurrence before and after MP)',
      })
      .option('include-own-file', {
        type: 'boolean',
        default: false,
        describe: "Let windows of the query's own corpus file be hits",
      })
      .option('hub-attack', {
        type: 'number',
        default: 0,
        describe:
          'Attack this many windows (note edits that make them hubs) to measure MP as a defence',
      })
      .option('attack-queries', {
        type: 'number',
        default: HUB_ATTACK_DEFAULTS.queries,
        describe: 'Hub attack: query windows the success rate is measured over',
      })
      .option('budget', {
        type: 'number',
        default: HUB_ATTACK_DEFAULTS.budget,
        describe: "Hub attack: edits allowed, as a share of the window's notes",
      })
      .option('attack-candidates', {
        type: 'number',
        default: HUB_ATTACK_DEFAULTS.candidates,
        describe: 'Hub attack: edits tried per step of the greedy search',
      })
      .option('attack-scalings', {
        choices: SCALINGS,
        array: true,
        default: [...SCALINGS],
        describe: 'Hub attack: the rankings attacked (each with the attack guided by it)',
      })
      .option('seed', { type: 'number', default: 1, describe: 'Hub attack: seed' })
      .option('out', {
        type: 'string',
        describe: 'Output folder (similar.json, report.html, excerpts/)',
      })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'Print similar.json on stdout',
      }) as unknown as Argv<SimilarArgs>,
  handler: async (args) => {
    const started = Date.now();
    const attacking = args['hub-attack'] > 0;
    if (args.queries !== undefined && (args.query || args.hubness || attacking || args.out))
      throw new UserError(
        '--queries answers a session of queries on stdout: give it without --query, --hubness, --hub-attack and --out',
      );
    if (!args.query && args.queries === undefined && !args.hubness && !attacking)
      throw new UserError(
        'similar: give --query <midi|concept.yaml>, --queries [file], --hubness or --hub-attack N',
      );
    if (attacking) {
      if (!Number.isInteger(args['hub-attack']))
        throw new UserError('--hub-attack: a whole number of windows');
      if (!(args.budget > 0 && args.budget < 1))
        throw new UserError('--budget: a share of the notes, between 0 and 1');
      if (!(args['attack-queries'] >= 1 && args['attack-candidates'] >= 2))
        throw new UserError('--attack-queries must be >= 1 and --attack-candidates >= 2');
      if (!args.out)
        throw new UserError('--hub-attack writes the attacked windows as MIDI: give --out');
    }
    const range = (name: 'bars' | 'seconds'): [number, number] | undefined => {
      const v = args[name];
      if (v === undefined) return undefined;
      if (v.length !== 2 || !v.every(Number.isFinite) || v[1] < v[0])
        throw new UserError(`--${name}: give two numbers, start and end (start <= end)`);
      return [v[0], v[1]];
    };
    const bars = range('bars');
    const seconds = range('seconds');
    if (bars && seconds) throw new UserError('give --bars or --seconds, not both');
    if (!args.query && (bars || seconds)) throw new UserError('--bars and --seconds need --query');
    if (!(Number.isInteger(args.k) && args.k >= 1)) throw new UserError('--k: a whole number >= 1');

    const lens = await openLens(args);
    try {
      const settings = indexSettings(lens, args);
      // Inputs first (a bad query must leave nothing behind), then the index, then the output.
      const query = args.query
        ? await resolveQuery(lens, { path: args.query, bars, seconds })
        : undefined;
      const index = await RetrievalIndex.open(lens, settings, {
        cacheDir: args.cache ? args['cache-dir'] : false,
        maxBytes: args['max-index-mb'] * 1024 * 1024,
      });
      if (args.queries !== undefined) {
        await querySession(lens, index, args);
        return;
      }
      const answer = query
        ? await answerQuery(lens, index, query, {
            k: args.k,
            scaling: args.scaling,
            includeOwnFile: args['include-own-file'],
          })
        : undefined;
      const hitsFound = answer?.hits ?? [];
      const excluded = answer?.excluded;
      const querySeconds = answer?.seconds ?? 0;
      const hubness: HubnessReport | undefined = args.hubness
        ? await index.hubness([5, 10])
        : undefined;
      const reader = new PassageExporter(lens, () => {
        throw new Error('reading only');
      });
      const attack = attacking
        ? await hubAttack(lens, index, (x) => reader.notes(x), {
            excerpts: args['hub-attack'],
            queries: args['attack-queries'],
            k: args.k,
            budget: args.budget,
            candidates: args['attack-candidates'],
            scalings: args['attack-scalings'],
            seed: args.seed,
          })
        : undefined;

      const results: SimilarResults = {
        run: {
          tool: 'concept-lens',
          version: VERSION,
          command: 'similar',
          startedAt: new Date(started).toISOString(),
          seconds: 0,
          seed: args.seed,
          layers: [settings.layer],
          targets: lens.targets(),
          parameters: {
            query: args.query === undefined ? undefined : publicPath(args.query),
            bars,
            seconds,
            k: args.k,
            scaling: args.scaling,
            pooling: settings.pooling,
            metric: settings.metric,
            includeOwnFile: args['include-own-file'],
            ...(attacking
              ? {
                  hubAttack: args['hub-attack'],
                  attackQueries: args['attack-queries'],
                  budget: args.budget,
                  attackCandidates: args['attack-candidates'],
                }
              : {}),
          },
        },
        model: modelIdentity(lens, args.model),
        corpus: corpusIdentity(lens),
        index: {
          layer: settings.layer,
          pooling: index.meta.pooling,
          metric: index.meta.metric,
          windows: index.n,
          dims: index.meta.dims,
          near: index.meta.near,
          levels: index.meta.levels,
          built: index.built,
          seconds: index.openSeconds,
        },
        scaling: args.scaling,
        k: args.k,
        ...(query ? { query: query.info } : {}),
        hits: [],
        ...(excluded ? { excluded } : {}),
        ...(query ? { querySeconds } : {}),
        ...(hubness ? { hubness } : {}),
        skipped: lens.index.skipped.map((s) => ({ file: s.file, reason: s.reason })),
      };
      const fill = (exporter?: PassageExporter) => {
        results.hits = hitsFound.map((h, r): SimilarHit => {
          const x = index.excerpts[h.index];
          const name = String(r + 1).padStart(2, '0');
          return {
            rank: r + 1,
            ...(exporter ? exporter.ref(x) : passage(x)),
            distance: round(h.distance),
            scaled: round(h.scaled),
            midi: exporter ? exporter.write('excerpts/hits', name, x) : '',
          };
        });
      };
      if (args.out) {
        await stagedRun(args.out, async (output) => {
          const exporter = new PassageExporter(lens, (rel) => output.path(rel));
          fill(exporter);
          if (attack) results.hubAttack = hubAttackReport(lens, attack, index, exporter);
          if (query && results.query && query.examples.length > 0) {
            results.query.midi = 'excerpts/query.mid';
            writeMidiFile(output.path(results.query.midi), query.examples[0].notes, {
              name: `query: ${query.info.label}`,
            });
          }
          results.run.seconds = (Date.now() - started) / 1000;
          output.writeText('similar.json', `${JSON.stringify(results, null, 1)}\n`);
          output.writeText('report.html', renderSimilarPage(results, { outDir: output.staging }));
        });
      } else {
        fill();
        results.run.seconds = (Date.now() - started) / 1000;
      }
      printResult(args.json, results, () => similarText(results, args.out));
    } finally {
      await lens.close();
    }
  },
};

function passage(x: RetrievalIndex['excerpts'][number]) {
  return {
    composer: x.composer,
    piece: x.piece,
    file: x.file,
    start: round(x.start),
    end: round(x.end),
    ...(x.bars ? { bars: { ...x.bars } } : {}),
  };
}

const SCALING_TEXT: Record<Scaling, string> = {
  none: 'distance',
  'mp-empirical': 'Mutual Proximity (empirical)',
  'mp-gaussian': 'Mutual Proximity (Gaussian)',
};

export function similarText(r: SimilarResults, out?: string): string {
  const lines: string[] = [];
  const ix = r.index;
  lines.push(
    `index: ${ix.windows} windows at ${ix.layer} (${ix.pooling === 'none' ? 'unpooled' : `pooled: ${ix.pooling}`}, ${ix.dims} values, ${ix.metric}), ${ix.built ? 'built' : 'read from the cache'} in ${ix.seconds.toFixed(1)} s`,
  );
  if (r.query) lines.push(queryText(r));
  if (r.hubness) {
    lines.push(`hubness over ${r.hubness.windows} windows (k-occurrence N_k):`);
    lines.push('  scaling        k  skewness  hubs (N_k>2k)  anti-hubs (N_k=0)  max');
    for (const s of r.hubness.scalings)
      for (const o of s.occurrence)
        lines.push(
          `  ${s.scaling.padEnd(13)} ${String(o.k).padStart(2)}  ${o.skewness.toFixed(2).padStart(8)}  ${(100 * o.hubShare).toFixed(1).padStart(11)} %  ${(100 * o.antiHubShare).toFixed(1).padStart(15)} %  ${o.max}`,
        );
  }
  if (r.hubAttack) {
    const a = r.hubAttack;
    lines.push(
      `hub attack: ${a.windows.length} windows, budget ${(100 * a.budget).toFixed(0)}% of their notes, ${a.queries} queries, k = ${a.k}; success rate (share of queries whose top k holds the window):`,
    );
    lines.push(
      '  scaling        before   after (attack sees the scaling)   gain     after (attack without MP)   hubs before -> after',
    );
    for (const s of a.summary)
      lines.push(
        `  ${s.scaling.padEnd(13)} ${pct(s.before).padStart(7)}   ${pct(s.after).padStart(31)}   ${pct(s.after - s.before).padStart(6)}   ${pct(s.transferred).padStart(25)}   ${pct(s.hubShareBefore)} -> ${pct(s.hubShare)}`,
      );
  }
  if (out) {
    const attacked = r.hubAttack?.windows.reduce((a, w) => a + 1 + w.attacks.length, 0) ?? 0;
    lines.push(
      `wrote ${resolve(out, 'similar.json')}, report.html and ${r.hits.length + attacked + (r.query?.midi ? 1 : 0)} MIDI files`,
    );
  }
  return lines.join('\n');
}

/** A query and its hits, as `similar` prints them. */
function queryText(
  r: Pick<SimilarResults, 'query' | 'hits' | 'scaling' | 'excluded' | 'querySeconds'>,
): string {
  const lines: string[] = [];
  if (r.query) {
    lines.push(
      `query: ${r.query.label} (${r.query.windows} window${r.query.windows === 1 ? '' : 's'})`,
    );
    lines.push(
      `${r.hits.length} nearest by ${SCALING_TEXT[r.scaling]}${r.excluded ? `; ${r.excluded}` : ''} (search ${(r.querySeconds ?? 0).toFixed(2)} s):`,
    );
    for (const h of r.hits) {
      const where = h.bars
        ? `bars ${h.bars.start}-${h.bars.end}`
        : `${h.start.toFixed(1)}-${h.end.toFixed(1)} s`;
      lines.push(
        `  ${String(h.rank).padStart(2)}  ${h.composer.padEnd(10)} ${h.piece.slice(0, 40).padEnd(40)} ${where.padEnd(16)} distance ${h.distance.toFixed(3)}${r.scaling !== 'none' ? `  MP distance ${h.scaled.toFixed(4)}` : ''}  ${h.file}`,
      );
    }
  }
  return lines.join('\n');
}

function pct(x: number): string {
  return Number.isFinite(x) ? `${(100 * x).toFixed(3)}%` : '-';
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/**
 * `--queries`: answer one query per line of a file or standard input with the index, model and
 * corpus kept loaded; a bad line is reported (one line, naming the line) and the session goes on.
 */
async function querySession(lens: ConceptLens, index: RetrievalIndex, args: SimilarArgs) {
  const stdin = args.queries === '' || args.queries === '-';
  if (!stdin && !existsSync(args.queries!)) throw new UserError(`${args.queries}: no such file`);
  const source = stdin ? process.stdin : createReadStream(args.queries!);
  const name = stdin ? 'standard input' : args.queries!;
  const bad: string[] = [];
  let n = 0;
  for await (const line of createInterface({ input: source, crlfDelay: Infinity })) {
    n++;
    try {
      const spec = parseQueryLine(line);
      if (!spec) continue;
      const started = Date.now();
      const query = await resolveQuery(lens, spec);
      const answer = await answerQuery(lens, index, query, {
        k: args.k,
        scaling: args.scaling,
        includeOwnFile: args['include-own-file'],
      });
      const hits = answer.hits.map((h, r) => ({
        rank: r + 1,
        ...passage(index.excerpts[h.index]),
        distance: round(h.distance),
        scaled: round(h.scaled),
      }));
      const seconds = (Date.now() - started) / 1000;
      if (args.json) {
        process.stdout.write(`${JSON.stringify({ line: n, query: query.info, hits, seconds })}\n`);
      } else {
        const text = queryText({
          query: query.info,
          hits: hits.map((h) => ({ ...h, midi: '' })),
          scaling: args.scaling,
          excluded: answer.excluded,
          querySeconds: seconds,
        });
        process.stdout.write(`${text}\n\n`);
      }
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      bad.push(`${name}:${n}: ${err.message}`);
      process.stderr.write(`concept-lens: ${name}:${n}: ${oneLine(err.message)}\n`);
    }
  }
  if (bad.length > 0)
    process.stderr.write(
      `concept-lens: ${bad.length} quer${bad.length === 1 ? 'y' : 'ies'} of ${name} could not be answered (listed above)\n`,
    );
}
