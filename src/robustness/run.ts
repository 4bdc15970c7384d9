import type { SplitName } from '../corpus/split.ts';
import type { ConceptLens } from '../lens/lens.ts';
import type {
  AttackedExcerpt,
  AttackResults,
  AttackSearch,
  RobustnessCurve,
} from '../results/attack.ts';
import type { PreparedConcept } from '../tcav/run.ts';
import { UserError } from '../util/errors.ts';
import { conceptRobustness } from './concepts.ts';
import { excerptGrid, loadExcerpts, selectExcerpts, type AttackExcerpt } from './excerpts.ts';
import { attackEdits, writeAttackFiles } from './export.ts';
import { attackModel } from './model.ts';
import { argmax, margin, searchEdits, type SearchResult } from './search.ts';
import { pairMedians, robustnessCurve } from './summary.ts';

export interface AttackOptions {
  split: SplitName | 'all';
  splitSeed: number;
  /** Excerpts drawn from the split (the correctly classified ones are attacked). */
  excerpts: number;
  seed: number;
  targets: string[];
  budgets: number[];
  /** Budgets as shares of the excerpt's notes (0.01 = 1 %). */
  shares: number[];
  searches: AttackSearch[];
  /** Greedy: candidates the model checks per step. */
  candidates: number;
  /** Greedy without input gradients: random candidates the model checks per step. */
  fallbackCandidates: number;
  /** Explanation robustness: concepts whose CAVs are trained at `layer` (TCAV runs, set size). */
  concepts?: {
    prepared: PreparedConcept[];
    layer: string;
    runs: number;
    setSize: number;
    targetExcerpts: number;
  };
  /**
   * Attack at most this many excerpts: the drawn excerpts are taken in order until this many are
   * classified correctly (the curves are over the excerpts taken). Default: all drawn.
   */
  limit?: number;
  /** Where the MIDI and text files of successful attacks go (output folder paths); none if absent. */
  writeFile?: (rel: string) => string;
}

export const ATTACK_DEFAULTS = {
  excerpts: 100,
  budgets: [1, 2, 5, 10, 20],
  shares: [0.005, 0.01, 0.02, 0.05, 0.1],
  searches: ['greedy', 'random'] as AttackSearch[],
  candidates: 32,
  fallbackCandidates: 48,
};

/** The attack of `concept-lens attack` / `explain --attack`: excerpts, searches, summaries, files. */
export async function runAttack(lens: ConceptLens, o: AttackOptions): Promise<AttackResults> {
  if (o.budgets.length === 0 || o.budgets.some((b) => !Number.isInteger(b) || b < 1))
    throw new UserError(`--budget: whole numbers >= 1 expected, got ${o.budgets.join(',')}`);
  const budget = Math.max(...o.budgets);
  const drawn = selectExcerpts(lens, {
    split: o.split,
    splitSeed: o.splitSeed,
    count: o.excerpts,
    seed: o.seed,
    targets: o.targets,
  });
  if (drawn.length === 0)
    throw new UserError(
      `no excerpts of ${o.targets.join(', ')} in the ${o.split} split (seed ${o.splitSeed}) of the corpus`,
    );
  const model = await attackModel(lens.classifier);
  const grid = excerptGrid(lens);
  const C = lens.labels.length;
  let { loaded } = loadExcerpts(lens, drawn);
  let labels = loaded.map((x) => lens.labels.indexOf(x.excerpt.composer));
  const clean = await model.logits(loaded.map((x) => x.roll));
  let correct = loaded
    .map((x, i) => ({ x, i }))
    .filter(({ i }) => argmax(clean.subarray(i * C, (i + 1) * C)) === labels[i]);
  if (o.limit !== undefined && correct.length > o.limit) {
    const taken = correct[o.limit - 1].i + 1;
    correct = correct.slice(0, o.limit);
    loaded = loaded.slice(0, taken);
    labels = labels.slice(0, taken);
  }
  const targets = correct.map(({ x }) => x);
  const targetLabels = correct.map(({ i }) => labels[i]);
  const targetLogits = new Float32Array(correct.length * C);
  correct.forEach(({ i }, k) => targetLogits.set(clean.subarray(i * C, (i + 1) * C), k * C));

  const attacked: AttackedExcerpt[] = targets.map((x) => ({
    id: x.excerpt.id,
    composer: x.excerpt.composer,
    piece: x.excerpt.piece,
    file: x.excerpt.file,
    start: round(x.excerpt.start),
    end: round(x.excerpt.end),
    ...(x.excerpt.bars ? { bars: x.excerpt.bars } : {}),
    notes: x.visible,
    outcomes: {},
  }));
  const curves: RobustnessCurve[] = [];
  const found = new Map<AttackSearch, SearchResult[]>();
  for (const search of o.searches) {
    const t0 = Date.now();
    const results = await searchEdits(
      search,
      model,
      targets,
      targetLabels,
      targetLogits,
      lens.layout,
      grid,
      {
        budget,
        candidates: o.candidates,
        fallbackCandidates: o.fallbackCandidates,
        seed: o.seed,
        progress: lens.progress,
      },
    );
    const seconds = (Date.now() - t0) / 1000;
    found.set(search, results);
    let rank = 0;
    results.forEach((r, k) => {
      const x = targets[k];
      const predicted = lens.labels[r.predicted];
      attacked[k].outcomes[search] = {
        success: r.success,
        edits: r.edits.length,
        predicted,
        marginBefore: round(margin(r.logitsBefore, targetLabels[k])),
        marginAfter: round(margin(r.logitsAfter, targetLabels[k])),
      };
      attacked[k].outcomes[search]!.tier = r.tier;
      if (!r.success) return;
      const outcome = attacked[k].outcomes[search]!;
      outcome.list = attackEdits(x, r.edits, grid, r.judged);
      outcome.cost = r.judged.reduce((sum, j) => sum + j.cost, 0);
      if (o.writeFile)
        outcome.midi = writeAttackFiles(
          x,
          search,
          ++rank,
          r.edits,
          outcome.list,
          outcome,
          grid,
          o.writeFile,
        );
    });
    curves.push(robustnessCurve(search, attacked, loaded.length, o.budgets, o.shares, seconds));
  }

  const results: AttackResults = {
    searches: o.searches,
    budgets: o.budgets,
    shares: o.shares,
    split: o.split,
    splitSeed: o.splitSeed,
    seed: o.seed,
    excerpts: loaded.length,
    correct: targets.length,
    cleanAccuracy: loaded.length ? targets.length / loaded.length : 0,
    ranking: model.gradients ? 'input-gradients' : 'model-scored',
    ...(model.noGradients ? { rankingNote: model.noGradients } : {}),
    candidates: model.gradients ? o.candidates : o.fallbackCandidates,
    curves,
    pairs: o.searches.flatMap((s) => pairMedians(s, attacked)),
    attacked,
  };
  const greedy = found.get('greedy');
  if (o.concepts && greedy) {
    const successes = greedy
      .map((r, k) => ({ r, k }))
      .filter(({ r }) => r.success)
      .map(({ r, k }) => ({
        x: targets[k] as AttackExcerpt,
        edits: r.edits,
        label: targetLabels[k],
        predicted: r.predicted,
        record: attacked[k],
      }));
    results.concepts = await conceptRobustness(lens, successes, {
      ...o.concepts,
      seed: o.seed,
      targets: o.targets,
      grid,
    });
  }
  return results;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
