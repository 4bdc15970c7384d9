import { resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import type { SplitName } from '../../corpus/split.ts';
import type { ConceptLens } from '../../lens/lens.ts';
import { readModelCard } from '../../lens/evaluate.ts';
import { renderReport } from '../../report/html.ts';
import type { AttackResults, AttackSearch } from '../../results/attack.ts';
import { emptyResults } from '../../results/identity.ts';
import type { RunOutput } from '../../results/output.ts';
import type { RunResults } from '../../results/results.ts';
import { ATTACK_DEFAULTS, runAttack } from '../../robustness/run.ts';
import { prepareConcepts, TCAV_DEFAULTS } from '../../tcav/run.ts';
import { UserError } from '../../util/errors.ts';
import { lensOptions, openLens, type LensFlags } from '../lens-options.ts';
import { printResult } from '../output.ts';
import { stagedRun } from '../staged-run.ts';
import { defaultLayers, loadRunConcepts } from './tcav.ts';
import { publicPath } from '../../results/public-path.ts';

/** Flags of the attack, shared by `attack` and `explain --attack`. */
export interface AttackFlags {
  budget: string;
  'attack-excerpts': number;
  split: SplitName | 'all';
  'split-seed'?: number;
  searches: string;
  candidates: number;
}

export function attackOptions<T>(y: Argv<T>) {
  return y
    .option('budget', {
      type: 'string',
      default: ATTACK_DEFAULTS.budgets.join(','),
      describe: 'Edit budgets, comma-separated (the search goes up to the largest)',
    })
    .option('attack-excerpts', {
      type: 'number',
      default: ATTACK_DEFAULTS.excerpts,
      describe: 'Excerpts drawn from the split (the correctly classified ones are attacked)',
    })
    .option('split', {
      choices: ['train', 'validation', 'test', 'all'] as const,
      default: 'test' as const,
      describe: 'Side of the piece-level split the excerpts come from',
    })
    .option('split-seed', {
      type: 'number',
      describe: 'Split seed (default: from the model card, else 1)',
    })
    .option('searches', {
      type: 'string',
      default: ATTACK_DEFAULTS.searches.join(','),
      describe: 'greedy (guided by input gradients) and/or random (the baseline), comma-separated',
    })
    .option('candidates', {
      type: 'number',
      default: ATTACK_DEFAULTS.candidates,
      describe: 'Greedy: candidate edits the model checks per step (the best by the gradient)',
    });
}

/** Parse and check the attack flags; UserError naming the flag. */
export function parseAttackFlags(f: AttackFlags, modelPath: string) {
  const budgets = f.budget
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  if (budgets.length === 0 || budgets.some((b) => !Number.isInteger(b) || b < 1 || b > 1000))
    throw new UserError(
      `--budget: whole numbers from 1 to 1000, comma-separated; got "${f.budget}"`,
    );
  const searches = f.searches
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = searches.filter((s) => s !== 'greedy' && s !== 'random');
  if (searches.length === 0 || bad.length)
    throw new UserError(`--searches: greedy and/or random; got "${f.searches}"`);
  for (const [flag, v] of [
    ['--attack-excerpts', f['attack-excerpts']],
    ['--candidates', f.candidates],
  ] as const)
    if (!Number.isInteger(v) || v < 1)
      throw new UserError(`${flag}: a whole number >= 1, got ${v}`);
  const cardSeed = (readModelCard(modelPath)?.split as { seed?: unknown } | undefined)?.seed;
  return {
    budgets: [...new Set(budgets)].sort((a, b) => a - b),
    searches: [...new Set(searches)] as AttackSearch[],
    splitSeed: f['split-seed'] ?? (typeof cardSeed === 'number' ? cardSeed : 1),
  };
}

/** The attack stage of a run: fills results.attack, writes the MIDI of successful attacks. */
export async function attackStage(
  lens: ConceptLens,
  args: AttackFlags & {
    model: string;
    targets: string[];
    seed: number;
    concepts?: string[];
    layer?: string;
    'random-runs': number;
    'set-size': number;
    'target-excerpts': number;
  },
  results: RunResults,
  output: RunOutput,
): Promise<AttackResults> {
  const { budgets, searches, splitSeed } = parseAttackFlags(args, args.model);
  let concepts;
  if (args.concepts && args.concepts.length > 0) {
    const { concepts: files, errors } = loadRunConcepts(args.concepts);
    results.skipped.push(
      ...errors.map((e) => ({
        file: publicPath(e.file),
        reason: e.reason.split(e.file).join(publicPath(e.file)),
      })),
    );
    concepts = {
      prepared: await prepareConcepts(lens, files),
      layer: args.layer ?? defaultLayers(lens)[0],
      runs: args['random-runs'],
      setSize: args['set-size'],
      targetExcerpts: args['target-excerpts'],
    };
  }
  const attack = await runAttack(lens, {
    split: args.split,
    splitSeed,
    excerpts: args['attack-excerpts'],
    seed: args.seed,
    targets: args.targets,
    budgets,
    shares: ATTACK_DEFAULTS.shares,
    searches,
    candidates: args.candidates,
    fallbackCandidates: ATTACK_DEFAULTS.fallbackCandidates,
    concepts,
    writeFile: (rel) => output.path(rel),
  });
  results.attack = attack;
  Object.assign(results.run.parameters, {
    attack: {
      budgets,
      searches,
      excerpts: args['attack-excerpts'],
      split: args.split,
      splitSeed,
      candidates: args.candidates,
      ranking: attack.ranking,
      conceptLayer: concepts?.layer,
    },
  });
  return attack;
}

/** A few lines for the terminal: curves, and the cheapest successful attacks with their edits. */
export function attackSummary(a: AttackResults): string[] {
  const lines = [
    `clean accuracy ${a.cleanAccuracy.toFixed(3)} (${a.correct}/${a.excerpts} ${a.split} excerpts); greedy ranking: ${a.ranking}`,
    `robust accuracy by edit budget (${a.budgets.join(', ')}):`,
  ];
  for (const c of a.curves) {
    lines.push(
      `  ${c.search.padEnd(7)} ${c.byEdits.map((b) => b.robustAccuracy.toFixed(3)).join('  ')}   median edits ${c.medianEdits ?? '-'} (${c.seconds.toFixed(1)} s)`,
    );
  }
  const cheapest = a.attacked
    .filter((x) => x.outcomes.greedy?.success)
    .sort((x, y) => x.outcomes.greedy!.edits - y.outcomes.greedy!.edits)
    .slice(0, 3);
  if (cheapest.length) lines.push('cheapest greedy attacks:');
  for (const x of cheapest) {
    const o = x.outcomes.greedy!;
    lines.push(`  ${x.composer} -> ${o.predicted}, ${x.piece} (${x.file}):`);
    for (const e of o.list ?? []) lines.push(`    ${e.text}`);
  }
  return lines;
}

interface AttackArgs extends LensFlags, AttackFlags {
  targets?: string[];
  concepts: string[];
  layer?: string;
  'random-runs': number;
  'set-size': number;
  'target-excerpts': number;
  seed: number;
  out: string;
  json: boolean;
}

export const attackCommand: CommandModule<object, AttackArgs> = {
  command: 'attack',
  describe:
    'Search for the fewest musical note edits that change the composer the model hears (greedy vs random), with robust accuracy, adversarial MIDI and the edits in words',
  builder: (y) =>
    attackOptions(lensOptions(y))
      .option('targets', {
        type: 'string',
        array: true,
        describe: 'Composers whose excerpts are attacked (default: all model labels in the corpus)',
      })
      .option('concepts', {
        type: 'string',
        array: true,
        default: [],
        describe: 'Concept YAML files or folders: how their presence moves under the edits',
      })
      .option('layer', {
        type: 'string',
        describe: 'Layer of the concepts’ CAVs (default layer3)',
      })
      .option('random-runs', {
        type: 'number',
        default: TCAV_DEFAULTS.runs,
        describe: 'CAVs per concept',
      })
      .option('set-size', { type: 'number', default: TCAV_DEFAULTS.setSize })
      .option('target-excerpts', { type: 'number', default: TCAV_DEFAULTS.targetExcerpts })
      .option('seed', { type: 'number', default: 1 })
      .option('out', {
        type: 'string',
        demandOption: true,
        describe: 'Output folder (results.json, report.html, excerpts/attack/)',
      })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'Print results.json on stdout',
      }) as unknown as Argv<AttackArgs>,
  handler: async (args) => {
    const started = Date.now();
    parseAttackFlags(args, args.model); // bad flags fail before anything is opened
    const lens = await openLens(args);
    try {
      const targets = lens.targets(args.targets);
      if (args.layer) lens.classifier.layer(args.layer);
      const results = await stagedRun(args.out, async (output) => {
        const results = emptyResults(lens, args.model, {
          command: 'attack',
          startedAt: new Date(started).toISOString(),
          seed: args.seed,
          layers: args.concepts.length ? [args.layer ?? defaultLayers(lens)[0]] : [],
          targets,
          parameters: {
            corpus: publicPath(args.corpus),
            concepts: args.concepts?.map((c) => publicPath(c)),
          },
        });
        await attackStage(lens, { ...args, targets }, results, output);
        results.run.seconds = Math.round((Date.now() - started) / 100) / 10;
        results.layers = await lens.derivativesRecord(results.run.layers);
        output.writeResults(results);
        output.writeText('report.html', renderReport(results, { outDir: output.staging }));
        return results;
      });
      printResult(args.json, results, () =>
        [
          `report: ${resolve(args.out, 'report.html')}  (${results.run.seconds.toFixed(1)} s)`,
          ...attackSummary(results.attack!),
        ].join('\n'),
      );
    } finally {
      await lens.close();
    }
  },
};
