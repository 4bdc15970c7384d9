import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportConcepts } from '../../src/discovery/export.ts';
import { discover } from '../../src/discovery/run.ts';
import { ConceptLens } from '../../src/lens/lens.ts';
import type { DiscoveredConcept } from '../../src/results/results.ts';
import { dominantTexture, signatures, SYNTHETIC_MODEL } from './helpers.ts';

// The must-show of discovery: for every signature texture there is a discovered concept,
// important for its composer, whose typical excerpts mostly contain that texture according to
// the generator's ground truth (purity of the top excerpts >= 0.8).
const PURITY = 0.8;

for (const method of ['nmf', 'kmeans'] as const) {
  describe(`${method} discovery on the synthetic model`, () => {
    let lens: ConceptLens;
    let concepts: DiscoveredConcept[];
    let fidelity: unknown;
    const out = mkdtempSync(join(tmpdir(), `cl-synth-${method}-`));
    beforeAll(async () => {
      lens = await ConceptLens.open({ model: SYNTHETIC_MODEL, corpus: 'synthetic' });
      const found = await discover(lens, {
        method,
        layer: method === 'nmf' ? 'layer4' : 'layer3',
        targets: lens.targets(),
        excerptsPerTarget: 40,
        seed: 1,
        runs: 20,
        setSize: 30,
        targetExcerpts: 30,
      });
      fidelity = found.info.fidelity;
      concepts = await exportConcepts(lens, found.concepts, (rel) => join(out, rel));
    }, 600_000);
    afterAll(async () => {
      await lens?.close();
      rmSync(out, { recursive: true, force: true });
    });

    it('finds, for every signature texture, an important concept whose top excerpts hold that texture', () => {
      const windowSeconds = lens.classifier.input.windowFrames / lens.classifier.input.fps;
      const report: string[] = [];
      for (const [composer, texture] of Object.entries(signatures)) {
        // Concepts that raise this composer's logit, most important first.
        const candidates = concepts
          .filter(
            (c) => c.importance[composer].value > 0 && c.importance[composer].significant !== false,
          )
          .sort((a, b) => b.importance[composer].value - a.importance[composer].value);
        const purities = candidates.map((c) => {
          const top = c.excerpts;
          return (
            top.filter((x) => dominantTexture(x, windowSeconds) === texture).length /
            Math.max(1, top.length)
          );
        });
        const best = purities.findIndex((p) => p >= PURITY);
        report.push(
          `${composer}/${texture}: ${candidates.map((c, i) => `${c.id}=${purities[i].toFixed(2)}`).join(' ')}`,
        );
        expect(best, report.join('\n')).toBeGreaterThanOrEqual(0);
        // Important: among the three concepts that raise the composer most.
        expect(best, report.join('\n')).toBeLessThan(3);
      }
      console.log(`${method} purity by composer:\n${report.join('\n')}`);
      if (method === 'nmf') expect(fidelity).toBeGreaterThan(0.5);
    });
  });
}
