/**
 * Precision and recall of the symbolic detectors (src/detect) against the hand labels of real ASAP
 * bars (test/fixtures/detect/labels.yaml): on the held-out half (never tuned on), the development
 * half, and all labels. With --verbose, every disagreement with the bar's note.
 *
 *   npm run bench:detect -- [--corpus ../shared/corpora/asap] [--verbose]
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  detectLabelledBars,
  formatScores,
  readLabels,
  scoreDetectors,
} from '../src/detect/labels.ts';
import { TEXTURES } from '../src/detect/types.ts';
import { args, opt } from './args.ts';

const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const corpus = opt(
  'corpus',
  process.env.CONCEPT_LENS_ASAP ?? resolve(repo, '../shared/corpora/asap'),
);
const labels = readLabels(resolve(repo, 'test/fixtures/detect/labels.yaml'));
const t0 = process.cpuUsage();
const detected = detectLabelledBars(labels, corpus);
const cpu = process.cpuUsage(t0);
const devOnly = args.includes('--dev-only');
for (const [title, subset] of [
  ['held-out half (never tuned on)', labels.filter((l) => l.half === 'held-out')],
  ['development half', labels.filter((l) => l.half === 'dev')],
  ['all labels', labels],
] as const) {
  if (devOnly && title !== 'development half') continue;
  const files = new Set(subset.map((l) => l.file)).size;
  console.log(
    formatScores(
      `${title}: ${subset.length} bars of ${files} pieces`,
      scoreDetectors(subset, detected),
    ),
  );
  console.log();
}
if (args.includes('--verbose')) {
  // Disagreements on the development half only, unless asked: rules are tuned on it alone.
  const halves = args.includes('--held-out') ? ['dev', 'held-out'] : ['dev'];
  for (const l of labels) {
    const said = detected.get(l)!;
    for (const t of TEXTURES) {
      if (!halves.includes(l.half) || l.unsure.has(t) || said.has(t) === l.present.has(t)) continue;
      console.log(
        `${l.half.padEnd(8)} ${said.has(t) ? 'FP' : 'FN'} ${t.padEnd(15)} ${l.file} bar ${l.bar}: ${l.note}`,
      );
    }
  }
}
console.log(
  `detection CPU time ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s for ${new Set(labels.map((l) => l.file)).size} files`,
);
