/**
 * Does Mutual Proximity help discovery? k-means on the synthetic benchmark (five fictional
 * composers, each with a signature texture), with the typical excerpts of each cluster ranked by
 * distance to the centre (as shipped) or by MP to it, and with parts assigned to the nearest
 * centre or to the MP-nearest one. Purity, as the synthetic discovery test measures it: for each
 * composer, the best share of top excerpts holding its texture among the three concepts that
 * raise it most. docs/similar.md.
 *   npm run bench:discovery-scaling -- [--excerpts 40] [--seeds 1 2]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportConcepts } from '../src/discovery/export.ts';
import { discover, type DiscoveryOptions } from '../src/discovery/run.ts';
import { ConceptLens } from '../src/lens/lens.ts';
import { dominantTexture, signatures, SYNTHETIC_MODEL } from '../test/synthetic/helpers.ts';

const args = process.argv.slice(2);
const i = args.indexOf('--seeds');
const seeds: number[] = [];
for (let j = i + 1; i >= 0 && j < args.length && !args[j].startsWith('--'); j++)
  seeds.push(Number(args[j]));
if (seeds.length === 0) seeds.push(1, 2);
// Fewer windows per composer make the benchmark harder (the default 40 already gives purity 1).
const e = args.indexOf('--excerpts');
const excerptsPerTarget = e >= 0 ? Number(args[e + 1]) : 40;
const variants: {
  name: string;
  scaling: DiscoveryOptions['scaling'];
  scaledAssignment: boolean;
}[] = [
  { name: 'distance (shipped)', scaling: 'none', scaledAssignment: false },
  { name: 'MP-empirical ranking', scaling: 'mp-empirical', scaledAssignment: false },
  { name: 'MP-empirical ranking + assignment', scaling: 'mp-empirical', scaledAssignment: true },
  { name: 'MP-Gaussian ranking + assignment', scaling: 'mp-gaussian', scaledAssignment: true },
];

const lens = await ConceptLens.open({ model: SYNTHETIC_MODEL, corpus: 'synthetic' });
const windowSeconds = lens.classifier.input.windowFrames / lens.classifier.input.fps;
const out = mkdtempSync(join(tmpdir(), 'cl-discovery-scaling-'));
console.log(
  'variant                               seed  composers found (purity >= 0.8)  mean best purity',
);
for (const v of variants) {
  for (const seed of seeds) {
    const found = await discover(lens, {
      method: 'kmeans',
      layer: 'layer3',
      targets: lens.targets(),
      excerptsPerTarget,
      seed,
      runs: 20,
      setSize: 30,
      targetExcerpts: 30,
      scaling: v.scaling,
      scaledAssignment: v.scaledAssignment,
    });
    const concepts = await exportConcepts(lens, found.concepts, (rel) =>
      join(out, `${seed}-${rel}`),
    );
    let hits = 0;
    let sum = 0;
    for (const [composer, texture] of Object.entries(signatures)) {
      const best = Math.max(
        0,
        ...concepts
          .filter(
            (c) => c.importance[composer].value > 0 && c.importance[composer].significant !== false,
          )
          .sort((a, b) => b.importance[composer].value - a.importance[composer].value)
          .slice(0, 3)
          .map(
            (c) =>
              c.excerpts.filter((x) => dominantTexture(x, windowSeconds) === texture).length /
              Math.max(1, c.excerpts.length),
          ),
      );
      if (best >= 0.8) hits++;
      sum += best;
    }
    console.log(
      `${v.name.padEnd(37)} ${String(seed).padStart(4)}  ${String(hits).padStart(12)} of 5                  ${(sum / 5).toFixed(3)}`,
    );
  }
}
rmSync(out, { recursive: true, force: true });
await lens.close();
