/**
 * Timelines on ASAP (../shared/corpora/asap, or $CONCEPT_LENS_ASAP): a bank of the ASAP concepts
 * on models/asap.onnx, then the timelines of a Bach fugue and a Chopin étude of the model's test
 * split (pieces the model never saw in training), given as bare MIDI files (no composer label).
 * Prints the figures of docs/walkthrough.md and saves screenshots of both pages.
 * Skipped when the corpus is absent.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { loadCorpus } from '../../src/corpus/manifest.ts';
import { splitPieces } from '../../src/corpus/split.ts';
import type { PieceTimeline, TimelineResults } from '../../src/results/timeline.ts';
import { HAVE_CHROMIUM, openInChromium } from '../helpers/chromium.ts';

const repo = resolve(import.meta.dirname, '../..');
const asap = process.env.CONCEPT_LENS_ASAP ?? resolve(repo, '../shared/corpora/asap');
const MODEL = resolve(repo, 'models/asap.onnx');
const ARTIFACTS = join(repo, 'test-artifacts');
const PIECES = {
  fugue: { piece: 'Bach/Fugue_bwv_868', file: 'Bach/Fugue/bwv_868/midi_score.mid' },
  etude: { piece: 'Chopin/Etudes_op_25_2', file: 'Chopin/Etudes_op_25/2/midi_score.mid' },
};

describe.skipIf(!existsSync(asap))('timelines of ASAP test-split pieces', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'cl-timeline-asap-'));
  const bank = join(tmp, 'bank');
  const out = join(tmp, 'timeline');
  let results: TimelineResults;
  const piece = (which: keyof typeof PIECES): PieceTimeline =>
    results.pieces.find((p) => p.file.endsWith(PIECES[which].file))!;

  beforeAll(async () => {
    const tcav = await main([
      'tcav',
      '--model',
      MODEL,
      '--corpus',
      asap,
      '--concepts',
      join(repo, 'concepts/asap'),
      '--random-runs',
      '10',
      '--out',
      join(tmp, 'tcav'),
      '--save-bank',
      bank,
      '--quiet',
    ]);
    expect(tcav).toBe(0);
    const code = await main([
      'timeline',
      join(asap, PIECES.fugue.file),
      join(asap, PIECES.etude.file),
      '--model',
      MODEL,
      '--bank',
      bank,
      '--out',
      out,
      '--composer',
      'Bach',
      '--quiet',
    ]);
    expect(code).toBe(0);
    results = JSON.parse(readFileSync(join(out, 'timeline.json'), 'utf8'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('takes both pieces from the test split of the model card', () => {
    const card = JSON.parse(readFileSync(MODEL.replace(/\.onnx$/, '.card.json'), 'utf8'));
    const entries = loadCorpus(asap).entries.filter((e) => card.labels.includes(e.composer));
    const split = splitPieces(entries, { seed: card.split.seed });
    expect(split.get(PIECES.fugue.piece)).toBe('test');
    expect(split.get(PIECES.etude.piece)).toBe('test');
  });

  it('reads bars and beats from the score files, and reports every window', () => {
    for (const which of ['fugue', 'etude'] as const) {
      const p = piece(which);
      expect(p.scoreTime, which).toBe(true);
      expect(p.barLines!.length).toBeGreaterThan(10);
      expect(p.windows.every((w) => w.bars !== undefined)).toBe(true);
      expect(p.lanes).toHaveLength(8);
      for (const l of p.lanes) expect(l.presence).toHaveLength(p.windows.length);
    }
  });

  it('prints the figures of the walk-through', () => {
    const lines: string[] = [];
    for (const which of ['fugue', 'etude'] as const) {
      const p = piece(which);
      const probs = Object.entries(p.overall.probability)
        .sort(([, a], [, b]) => b - a)
        .slice(0, 3)
        .map(([c, v]) => `${c} ${(100 * v).toFixed(0)} %`)
        .join(', ');
      const share = (c: string) =>
        p.windows.filter((w) => w.predicted === c).length / p.windows.length;
      lines.push(
        `${p.file}: ${p.durationSeconds.toFixed(0)} s, bars 1-${p.barLines!.at(-1)!.bar}, ${p.windows.length} windows; whole piece: ${probs}; windows predicted Bach ${(100 * share('Bach')).toFixed(0)} %, Chopin ${(100 * share('Chopin')).toFixed(0)} %`,
      );
      for (const l of p.lanes) {
        const mean = l.presence.reduce((a, b) => a + b, 0) / l.presence.length;
        const top = p.windows[l.top[0].window].bars!;
        lines.push(
          `  ${l.concept.padEnd(16)} mean presence ${mean.toFixed(2)}, top window bars ${top.start.bar}-${top.end.bar} (${l.top[0].presence.toFixed(2)}), CAV accuracy ${l.cavAccuracy.toFixed(2)}, influence on Bach > 0 in ${((100 * l.influenceOn.Bach.filter((v) => v > 0).length) / l.presence.length).toFixed(0)} % of windows`,
        );
      }
    }
    console.log(lines.join('\n'));
    expect(lines.length).toBe(2 + 2 * 8);
  });

  it.skipIf(!HAVE_CHROMIUM)(
    'draws both pages in Chromium (screenshots in test-artifacts)',
    async () => {
      mkdirSync(ARTIFACTS, { recursive: true });
      for (const which of ['fugue', 'etude'] as const) {
        const opened = await openInChromium(join(out, piece(which).page));
        try {
          expect(opened.pageErrors).toEqual([]);
          expect(opened.consoleErrors).toEqual([]);
          expect(opened.requests).toEqual([opened.url]);
          expect(await opened.page.locator('.tl-lane').count()).toBe(8);
          await opened.page.locator('button.tl-go').first().click();
          await opened.page.waitForTimeout(200);
          await opened.page.evaluate(() => window.scrollTo(0, 0));
          await opened.page.screenshot({
            path: join(ARTIFACTS, `timeline-asap-${which}.png`),
            fullPage: true,
          });
        } finally {
          await opened.close();
        }
      }
    },
  );
});
