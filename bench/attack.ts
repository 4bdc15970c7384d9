/**
 * The note-edit attack on real models and a real corpus (issue 16).
 *
 *   npm run bench:attack                       speed: greedy attack on 200 correctly classified ASAP
 *                                              test excerpts at budget 20 (and the random search,
 *                                              timed side by side)
 *   npm run bench:attack -- --compare          the study's comparison: robust accuracy of several
 *                                              models on the same test excerpts, budgets 1-20
 *
 * Options: --corpus <asap root> (default ../shared/corpora/asap), --models a.onnx,b.onnx
 * (default: the ASAP reference, bottleneck and adversarially trained models), --excerpts N (drawn
 * from the test split; speed: attacked), --budget 1,2,5,10,20, --candidates 16, --json <file>.
 * Activations are not cached. Timings on a shared machine are noisy; the ratio of the two searches
 * is measured in the same run.
 */
import { writeFileSync } from 'node:fs';
import { ConceptLens } from '../src/lens/lens.ts';
import { readModelCard } from '../src/lens/evaluate.ts';
import type { AttackResults } from '../src/results/attack.ts';
import { ATTACK_DEFAULTS, runAttack } from '../src/robustness/run.ts';
import { pairedComparison } from '../src/robustness/summary.ts';
import { stderrProgress } from '../src/util/progress.ts';
import { args, opt } from './args.ts';

const compare = args.includes('--compare');
const corpus = opt('corpus', '../shared/corpora/asap');
const models = opt(
  'models',
  compare
    ? 'models/asap.onnx,models/asap-bottleneck.onnx,models/asap-adversarial.onnx'
    : 'models/asap.onnx',
).split(',');
const budgets = opt('budget', compare ? '1,2,5,10,20' : '20')
  .split(',')
  .map(Number);
const excerpts = Number(opt('excerpts', compare ? '300' : '200'));
const candidates = Number(opt('candidates', String(ATTACK_DEFAULTS.candidates)));
const jsonOut = opt('json', '');

const rows: { model: string; attack: AttackResults; seconds: number }[] = [];
for (const model of models) {
  const lens = await ConceptLens.open({
    model,
    corpus,
    cacheDir: false,
    progress: stderrProgress(),
  });
  const cardSeed = (readModelCard(model)?.split as { seed?: number } | undefined)?.seed ?? 1;
  const t0 = performance.now();
  const attack = await runAttack(lens, {
    split: 'test',
    splitSeed: cardSeed,
    // Speed: draw enough to find `excerpts` correctly classified ones, attack exactly those.
    excerpts: compare ? excerpts : excerpts * 4,
    limit: compare ? undefined : excerpts,
    seed: 1,
    targets: lens.targets(),
    budgets,
    shares: ATTACK_DEFAULTS.shares,
    searches: ['greedy', 'random'],
    candidates,
    fallbackCandidates: ATTACK_DEFAULTS.fallbackCandidates,
  });
  rows.push({ model, attack, seconds: (performance.now() - t0) / 1000 });
  await lens.close();
}

const pct = (x: number) => (100 * x).toFixed(1);
for (const { model, attack: a } of rows) {
  console.log(
    `\n${model}: ${a.excerpts} test excerpts, clean accuracy ${pct(a.cleanAccuracy)} %, ${a.correct} attacked; greedy ranking: ${a.ranking} (${a.candidates} candidates checked per step)`,
  );
  for (const c of a.curves) {
    console.log(
      `  ${c.search.padEnd(7)} ${c.seconds.toFixed(1).padStart(7)} s   robust accuracy ${c.byEdits.map((b) => `<=${b.budget}: ${pct(b.robustAccuracy)}`).join('  ')}   success ${pct(c.byEdits.at(-1)!.attackSuccess)} %, median edits ${c.medianEdits ?? '-'}, mean ${c.meanEdits?.toFixed(2) ?? '-'}`,
    );
  }
  const [g, r] = ['greedy', 'random'].map((s) => a.curves.find((c) => c.search === s)!);
  console.log(
    `  greedy: ${(g.seconds / Math.max(1, a.correct)).toFixed(2)} s per attacked excerpt; greedy/random time ratio ${(g.seconds / r.seconds).toFixed(1)}`,
  );
}
if (compare) {
  console.log('\n| model | clean accuracy | ' + budgets.map((b) => `<= ${b}`).join(' | ') + ' |');
  console.log('| --- | --- | ' + budgets.map(() => '---').join(' | ') + ' |');
  for (const { model, attack: a } of rows)
    for (const c of a.curves)
      console.log(
        `| ${model.replace(/^.*\//, '')} (${c.search}) | ${pct(a.cleanAccuracy)} | ${c.byEdits.map((b) => pct(b.robustAccuracy)).join(' | ')} |`,
      );
}
if (compare) {
  const budget = Math.max(...budgets);
  console.log(
    `\nPaired, on the excerpts both models classify correctly (greedy edits needed; not flipped within ${budget} counts as ${budget + 1}):`,
  );
  for (let i = 0; i < rows.length; i++)
    for (let j = i + 1; j < rows.length; j++) {
      const [a, b] = [rows[i], rows[j]];
      const c = pairedComparison(a.attack.attacked, b.attack.attacked, 'greedy', budget);
      const name = (m: string) => m.replace(/^.*\//, '');
      console.log(
        `  ${name(a.model)} vs ${name(b.model)}: ${c.excerpts} excerpts; mean ${c.meanA.toFixed(2)} vs ${c.meanB.toFixed(2)}, median ${c.medianA} vs ${c.medianB}; fewer edits ${c.aFewer} vs ${c.bFewer} times (${c.ties} ties), sign test p = ${c.pSign.toPrecision(2)}`,
      );
    }
}
if (jsonOut)
  writeFileSync(
    jsonOut,
    JSON.stringify(
      rows.map(({ model, attack, seconds }) => ({
        model,
        seconds,
        ...attack,
        attacked: attack.attacked.map(({ id, composer, notes, outcomes }) => ({
          id,
          composer,
          notes,
          outcomes: Object.fromEntries(
            Object.entries(outcomes).map(([k, o]) => [
              k,
              { success: o.success, edits: o.edits, predicted: o.predicted },
            ]),
          ),
        })),
      })),
      null,
      1,
    ),
  );
