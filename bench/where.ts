/**
 * bench:where: are the "where" answers of a concept bank true of the notes? For each shipped
 * concept a detector covers (src/bank/labels.ts), on windows of held-out pieces (validation and
 * test split of the model's card seed; no piece a concept YAML names), print AUC of the window's
 * presence against the detector's label, precision and recall at "present", the pointing game and
 * the splice test (src/bank/where.ts), with a random direction (floor) and the detector itself
 * (ceiling); then the ten Bach fugues of issue 20. Runs on ASAP (models/asap.onnx, concepts/asap)
 * and on the synthetic corpus (models/synthetic.onnx, concepts/textures).
 *
 *   npm run bench:where -- [--asap /work/shared/corpora/asap] [--asap-bank DIR]
 *     [--synthetic-bank DIR] [--splices 20] [--only asap|synthetic] [--json out.json]
 *
 * A bank not given is built first with `tcav --save-bank` (20 random runs, 20 target excerpts,
 * no effect windows, a pool of 1000: the CAVs are what a bank keeps; not timed).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { ConceptBank } from '../src/bank/build.ts';
import { LOCALISATION_CUT } from '../src/bank/calibration.ts';
import { checkBankModel, loadBank } from '../src/bank/store.ts';
import {
  evaluateWhere,
  heldOutWindows,
  meanPresence,
  piecesOfFiles,
  type ScoreFigures,
  WHERE_BANK_FLAGS,
  type WhereRow,
} from '../src/bank/where.ts';
import { main } from '../src/cli/main.ts';
import { ConceptLens } from '../src/lens/lens.ts';
import { readModelCard } from '../src/lens/evaluate.ts';
import { opt } from './args.ts';

const ASAP = opt(
  'asap',
  existsSync('../shared/corpora/asap') ? '../shared/corpora/asap' : '/work/shared/corpora/asap',
);
const splices = Number(opt('splices', '20'));
const only = opt('only', '');
const jsonOut = opt('json', '');

export const FUGUES = [856, 857, 858, 862, 866, 870, 874, 876, 883, 885];

/** Every `corpus:` file a concept YAML of the folder names. */
function conceptFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) {
        if (k === 'corpus' && typeof x === 'string' && /\.midi?$/i.test(x)) out.push(x);
        else walk(x);
      }
  };
  for (const f of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)))
    walk(parse(readFileSync(join(dir, f), 'utf8')));
  return out;
}

async function ensureBank(
  name: string,
  given: string,
  model: string,
  corpus: string,
  concepts: string,
): Promise<string> {
  if (given && existsSync(join(given, 'bank.json'))) return given;
  const dir = given || join('out', `where-${name}-bank`);
  console.error(`building the ${name} bank with tcav --save-bank into ${dir}`);
  const code = await main([
    'tcav',
    '--model',
    model,
    '--corpus',
    corpus,
    '--concepts',
    concepts,
    ...WHERE_BANK_FLAGS,
    '--out',
    join('out', `where-${name}-tcav`),
    '--save-bank',
    dir,
    '--quiet',
  ]);
  if (code !== 0) throw new Error(`tcav --save-bank failed (${code})`);
  return dir;
}

const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '–');
const cell = (s: ScoreFigures) =>
  `${f2(s.auc)} | ${f2(s.precision)} | ${f2(s.recall)} | ${f2(s.pointing)} (${s.pointingPieces}) | ${f2(s.spliceMedianRank)} / ${f2(s.spliceWindows)}, top ${f2(s.spliceTop1)}`;

function table(rows: WhereRow[]): string[] {
  const lines = [
    '| concept | detector | held-out windows (labelled) | who | AUC | precision at present | recall at present | pointing (pieces) | splice median rank / windows, share at top | localises here | bank says |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const bank =
      r.bankLocalises === undefined
        ? 'not calibrated'
        : r.bankLocalises
          ? 'localises'
          : `does not localise (${r.bankReason})`;
    lines.push(
      `| ${r.concept} | ${r.detector} | ${r.windows} (${r.positives}) | concept | ${cell(r.concept_)} | ${r.localises ? 'yes' : 'no'} | ${bank} |`,
      `| | | | random direction | ${cell(r.random)} | | |`,
      `| | | | detector (ceiling) | ${cell(r.ceiling)} | | |`,
    );
  }
  return lines;
}

async function run(
  name: string,
  model: string,
  corpus: string,
  concepts: string,
  bankDir: string,
): Promise<{ rows: WhereRow[]; bank: ConceptBank; lens: ConceptLens }> {
  const dir = await ensureBank(name, bankDir, model, corpus, concepts);
  const lens = await ConceptLens.open({ model, corpus });
  const bank = loadBank(dir);
  checkBankModel(bank, lens.classifier);
  const seed = (readModelCard(model)?.split as { seed?: number } | undefined)?.seed ?? 1;
  const excluded = piecesOfFiles(lens, conceptFiles(concepts));
  const windows = heldOutWindows(lens, seed, excluded);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const rows = await evaluateWhere(lens, bank, {
    windows,
    seed: 1,
    splices,
    log: (l) => console.error(l),
  });
  const cpu = process.cpuUsage(c0);
  console.log(
    `\n## ${name}: ${model} on ${corpus}, bank ${dir}; ${windows.length} windows of ${new Set(windows.map((w) => w.piece)).size} held-out pieces (split seed ${seed}; ${excluded.size} concept pieces left out); ${splices} splices per concept`,
  );
  console.log(
    `(${((performance.now() - t0) / 1000).toFixed(0)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(0)} s CPU; cut: AUC >= ${LOCALISATION_CUT.auc} and precision >= ${LOCALISATION_CUT.precision})\n`,
  );
  for (const l of table(rows)) console.log(l);
  const ok = rows.filter((r) => r.localises || r.bankLocalises === false);
  console.log(
    `\nconcepts that localise here: ${rows.filter((r) => r.localises).length} of ${rows.length}; localise or marked by the bank as not localising: ${ok.length} of ${rows.length}${
      ok.length < rows.length
        ? ` (not: ${rows
            .filter((r) => !(r.localises || r.bankLocalises === false))
            .map((r) => r.concept)
            .join(', ')})`
        : ''
    }`,
  );
  const bankOk = rows.filter((r) => r.bankLocalises === true).length;
  console.log(`concepts the bank itself calls localising: ${bankOk} of ${rows.length}`);
  return { rows, bank, lens };
}

const report: Record<string, unknown> = {};
if (only !== 'synthetic') {
  const { rows, bank, lens } = await run(
    'asap',
    'models/asap.onnx',
    ASAP,
    'concepts/asap',
    opt('asap-bank', ''),
  );
  const files = FUGUES.map((b) => `Bach/Fugue/bwv_${b}/midi_score.mid`).filter((f) =>
    lens.index.entries.has(f),
  );
  const means = await meanPresence(lens, bank, files);
  console.log(
    `\n## The ten Bach fugues (${files.length} score files, BWV ${FUGUES.join(', ')}): mean presence as pages show it\n`,
  );
  console.log('| concept | layer | mean presence | windows | status |');
  console.log('|---|---|---|---|---|');
  for (const m of means)
    console.log(`| ${m.concept} | ${m.layer} | ${f2(m.mean)} | ${m.windows} | ${m.status} |`);
  report.asap = { rows, fugues: means };
  await lens.close();
}
if (only !== 'asap') {
  const { rows, lens } = await run(
    'synthetic',
    'models/synthetic.onnx',
    'synthetic',
    'concepts/textures',
    opt('synthetic-bank', ''),
  );
  report.synthetic = { rows };
  await lens.close();
}
if (jsonOut) writeFileSync(jsonOut, `${JSON.stringify(report, null, 1)}\n`);
