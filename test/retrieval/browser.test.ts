/**
 * The page of `concept-lens similar` in a real browser (Chromium through playwright-core): it
 * loads from disk with no request besides itself, shows the query and every hit as a piano roll
 * that plays, draws the hubness histograms, and keeps hostile names as text.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeMidiFile } from '../../src/midi/write.ts';
import { renderSimilarPage } from '../../src/report/similar.ts';
import type { HubnessReport, SimilarResults } from '../../src/results/similar.ts';
import { summarizeKOccurrence } from '../../src/retrieval/hubness.ts';
import { writeFileAtomic } from '../../src/util/files.ts';
import { HAVE_CHROMIUM, openInChromium, type OpenedPage } from '../helpers/chromium.ts';
import { albertiNotes, choraleNotes, HOSTILE_PIECE, scaleNotes } from '../report/sample.ts';

const ARTIFACTS = resolve(import.meta.dirname, '../../test-artifacts');

function sample(outDir: string): SimilarResults {
  const notes = [albertiNotes(), choraleNotes(), scaleNotes()];
  writeMidiFile(join(outDir, 'excerpts/query.mid'), notes[0]);
  const hits = [0, 1, 2].map((i) => {
    const midi = `excerpts/hits/0${i + 1}-hit.mid`;
    writeMidiFile(join(outDir, midi), notes[i]);
    return {
      rank: i + 1,
      composer: ['Mozart', 'Bach', 'Chopin'][i],
      piece: i === 1 ? HOSTILE_PIECE : `Piece ${i}`,
      file: `Composer/piece-${i}.mid`,
      start: 20 * i,
      end: 20 * i + 20,
      ...(i === 0 ? { bars: { start: 1, end: 8 } } : {}),
      distance: 1.5 + i,
      scaled: 0.001 * (i + 1),
      midi,
    };
  });
  const occurrence = (counts: number[], k: number) =>
    summarizeKOccurrence(Int32Array.from(counts), k);
  const skewed = Array.from({ length: 200 }, (_, i) => (i < 10 ? 40 + i : i % 13));
  const even = Array.from({ length: 200 }, (_, i) => 5 + (i % 11));
  const hubness: HubnessReport = {
    layer: 'layer3',
    pooling: 'time',
    metric: 'euclidean',
    windows: 200,
    scalings: [
      { scaling: 'none', occurrence: [occurrence(skewed, 10)] },
      { scaling: 'mp-empirical', occurrence: [occurrence(even, 10)] },
      { scaling: 'mp-gaussian', occurrence: [occurrence(even, 10)] },
    ],
  };
  return {
    run: {
      tool: 'concept-lens',
      version: '0.1.0',
      command: 'similar',
      startedAt: '2026-01-01T00:00:00.000Z',
      seconds: 1,
      seed: 0,
      layers: ['layer3'],
      targets: ['Bach', 'Chopin', 'Mozart'],
      parameters: {},
    },
    model: {
      path: 'models/asap.onnx',
      sha256: 'ab'.repeat(32),
      labels: ['Bach', 'Chopin', 'Mozart'],
      input: { fps: 20, windowFrames: 400, lowPitch: 21, highPitch: 108 },
    },
    corpus: {
      name: 'asap',
      root: '/data/asap',
      files: 3,
      pieces: 3,
      composers: ['Bach', 'Chopin', 'Mozart'],
    },
    index: {
      layer: 'layer3',
      pooling: 'time',
      metric: 'euclidean',
      windows: 200,
      dims: 384,
      near: 100,
      levels: 64,
      built: false,
      seconds: 0.2,
    },
    scaling: 'mp-empirical',
    k: 3,
    query: {
      kind: 'midi',
      source: 'q.mid',
      label: `Mozart, ${HOSTILE_PIECE}`,
      windows: 1,
      midi: 'excerpts/query.mid',
    },
    hits,
    excluded: "windows of the query's own file are left out",
    querySeconds: 0.05,
    hubness,
    skipped: [],
  };
}

describe.skipIf(!HAVE_CHROMIUM)('similar report.html in Chromium', () => {
  const outDir = mkdtempSync(join(tmpdir(), 'cl-similar-page-'));
  let opened: OpenedPage;

  beforeAll(async () => {
    writeFileAtomic(join(outDir, 'report.html'), renderSimilarPage(sample(outDir), { outDir }));
    opened = await openInChromium(join(outDir, 'report.html'));
  });
  afterAll(async () => {
    await opened?.close();
    rmSync(outDir, { recursive: true, force: true });
  });

  it('loads without errors and requests nothing but itself', () => {
    expect(opened.consoleErrors).toEqual([]);
    expect(opened.pageErrors).toEqual([]);
    expect(opened.requests).toEqual([opened.url]);
  });

  it('shows the query and each hit as a piano roll, and three hubness histograms', async () => {
    const page = opened.page;
    const rolls = page.locator('svg.roll');
    expect(await rolls.count()).toBe(4);
    // Notes of the query (the Alberti sample: 50 notes).
    expect(await rolls.first().locator('rect[fill-opacity]').count()).toBe(50);
    const charts = page.locator('svg.hubness-chart');
    expect(await charts.count()).toBe(3);
    for (const l of [...(await rolls.all()), ...(await charts.all())]) {
      const box = await l.boundingBox();
      expect(box!.width).toBeGreaterThan(100);
      expect(box!.height).toBeGreaterThan(50);
    }
    // Hubs past 2k are drawn (10 windows with N_10 of 40..49) in the first chart only.
    expect(await charts.first().locator('rect[fill="#7a4b12"]').count()).toBe(10);
    expect(await charts.nth(1).locator('rect[fill="#7a4b12"]').count()).toBe(0);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(1100);
  });

  it('keeps hostile names as text', async () => {
    const text = await opened.page.evaluate(() => document.body.innerText);
    expect(text).toContain(HOSTILE_PIECE);
    expect(await opened.page.locator('script').count()).toBe(2);
    expect(opened.dialogs).toEqual([]);
  });

  it('plays and stops a hit', async () => {
    const button = opened.page.locator('button.play').nth(1);
    await button.click();
    await expect.poll(() => button.getAttribute('aria-pressed')).toBe('true');
    await button.click();
    expect(await button.getAttribute('aria-pressed')).toBe('false');
    expect(opened.pageErrors).toEqual([]);
    mkdirSync(ARTIFACTS, { recursive: true });
    await opened.page.screenshot({ path: join(ARTIFACTS, 'similar.png'), fullPage: true });
  });
});
