import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stabilitySection } from '../../src/report/sections/stability.ts';
import { withStability } from '../../src/tcav/stability.ts';
import { HOSTILE_CONCEPT, sampleResults } from './sample.ts';

const count = (text: string, part: string) => text.split(part).length - 1;
const outDir = mkdtempSync(join(tmpdir(), 'cl-report-stability-'));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe('stability across seeds', () => {
  const seed1 = sampleResults(outDir).tcav;
  // Seed 2: the same run, but one significant cell loses its significance and one cell that was
  // not significant (the hostile-named concept) becomes significant, lowering its composer.
  const flipped = seed1.findIndex((e) => e.significant);
  const gained = seed1.findIndex((e) => !e.significant && e.concept === HOSTILE_CONCEPT);
  const seed2 = seed1.map((e, i) =>
    i === flipped
      ? { ...e, significant: false, pValueCorrected: 0.2 }
      : i === gained
        ? { ...e, significant: true, effect: e.randomEffect - 1, pValueCorrected: 0.01 }
        : e,
  );
  const cells = withStability([seed1, seed2, seed1], [1, 2, 3]);

  it('counts, per cell, the seeds that call it significant and marks as stable only what holds in all', () => {
    const ever = seed1.filter((e) => e.significant).length + 1;
    const s = cells[flipped].stability!;
    expect(s.significantUp + s.significantDown).toBe(2);
    expect(s.stable).toBe(false);
    expect(cells[gained].stability!).toMatchObject({ significantDown: 1, stable: false });
    const stable = cells.filter((e) => e.stability!.stable);
    expect(stable.length).toBe(ever - 2);
    expect(cells.filter((e) => !e.significant && e.stability!.stable)).toEqual([]);
  });

  it('renders a table of the cells significant in some seed, escaping names', () => {
    const html = stabilitySection(cells);
    const rows = cells.filter((e) => e.stability!.significantUp + e.stability!.significantDown > 0);
    expect(count(html, '<tr')).toBe(rows.length + 1);
    expect(count(html, '✓ stable')).toBe(rows.filter((e) => e.stability!.stable).length);
    expect(html).toContain('2 of 3');
    expect(html).not.toContain(HOSTILE_CONCEPT);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(stabilitySection(seed1)).toBe('');
  });
});
