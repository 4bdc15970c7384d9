/**
 * The report in a real browser (Chromium through playwright-core): it must load from disk with no
 * request besides itself, show its charts and piano rolls, keep hostile names as text, and play.
 * Needs /usr/bin/chromium (Debian package `chromium`).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderReport } from '../../src/report/html.ts';
import { writeFileAtomic } from '../../src/util/files.ts';
import { HAVE_CHROMIUM, openInChromium, type OpenedPage } from '../helpers/chromium.ts';
import { HOSTILE_CONCEPT, HOSTILE_PIECE, sampleResults } from './sample.ts';

const ARTIFACTS = resolve(import.meta.dirname, '../../test-artifacts');

describe.skipIf(!HAVE_CHROMIUM)('report.html in Chromium', () => {
  const outDir = mkdtempSync(join(tmpdir(), 'cl-report-'));
  let opened: OpenedPage;
  let page: Page;
  let consoleErrors: string[];
  let pageErrors: string[];
  let requests: string[];
  let dialogs: string[];
  let reportUrl: string;

  beforeAll(async () => {
    const results = sampleResults(outDir);
    writeFileAtomic(join(outDir, 'report.html'), renderReport(results, { outDir }));
    opened = await openInChromium(join(outDir, 'report.html'));
    ({ page, consoleErrors, pageErrors, requests, dialogs, url: reportUrl } = opened);
  });

  afterAll(async () => {
    await opened?.close();
    rmSync(outDir, { recursive: true, force: true });
  });

  it('loads without errors and requests nothing but itself', () => {
    expect(consoleErrors).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(requests).toEqual([reportUrl]);
  });

  it('draws one TCAV chart per layer and a piano roll per excerpt, all of non-zero size', async () => {
    const charts = page.locator('svg.tcav-chart');
    expect(await charts.count()).toBe(2);
    const rolls = page.locator('svg.roll');
    expect(await rolls.count()).toBe(3);
    for (const l of [
      ...(await charts.all()),
      ...(await rolls.all()),
      page.locator('svg.importance-chart'),
    ]) {
      const box = await l.boundingBox();
      expect(box!.width).toBeGreaterThan(100);
      expect(box!.height).toBeGreaterThan(20);
    }
    // Note rectangles inside the first roll: one per note of the Alberti excerpt (50 notes).
    expect(await rolls.first().locator('rect[fill-opacity]:not(.loc)').count()).toBe(50);
    expect(await rolls.first().locator('rect.loc').count()).toBeGreaterThan(0);
  });

  it('fits the window width (long names and parameters wrap)', async () => {
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(1100);
  });

  it('shows hostile names as text and runs none of them', async () => {
    const text = await page.evaluate(() => document.body.innerText);
    expect(text).toContain(HOSTILE_CONCEPT);
    expect(text).toContain(HOSTILE_PIECE);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('b').count()).toBe(0);
    expect(await page.locator('script').count()).toBe(2);
    expect(dialogs).toEqual([]);
  });

  it('plays and stops an excerpt', async () => {
    const button = page.locator('button.play').first();
    await button.click();
    await expect.poll(() => button.getAttribute('aria-pressed')).toBe('true');
    await page.waitForTimeout(300);
    expect(
      await page.locator('svg.roll').first().locator('.playhead').getAttribute('visibility'),
    ).toBe('visible');
    await button.click();
    expect(await button.getAttribute('aria-pressed')).toBe('false');
    expect(pageErrors).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });

  it('saves a full-page screenshot', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.evaluate(() => window.scrollTo(0, 0)); // the sticky nav belongs at the top
    await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
    expect(requests).toEqual([reportUrl]);
  });
});
