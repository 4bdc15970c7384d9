/**
 * Pages in bars and free of machine paths (issue 20, "Pages in bars"), through the CLI and in
 * Chromium:
 * - `model gradient --bars 9-12` shows bars 9-12 (its axis, its excerpt and its notes);
 * - no absolute path in any page or results file (results.json, timeline.json, bank.json, pages);
 * - no silent excerpt offered as an example (a corpus whose pieces hold long rests: discovery's
 *   least typical windows would be the silent ones);
 * - the stdout summary lists the cells that lower a composer beside those that raise it.
 */
import { readdirSync, readFileSync, statSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateTexture } from '../../src/concepts/patterns/index.ts';
import { MIN_EXCERPT_NOTES } from '../../src/discovery/run.ts';
import { readMidiFile } from '../../src/midi/read.ts';
import { barToSeconds } from '../../src/midi/timemap.ts';
import { writeMidiFile } from '../../src/midi/write.ts';
import type { Note } from '../../src/midi/types.ts';
import type { GradientResult } from '../../src/results/gradient.ts';
import type { RunResults } from '../../src/results/results.ts';
import { HAVE_CHROMIUM, openInChromium } from '../helpers/chromium.ts';
import { REPO, runMain, tempDir } from '../helpers/cli.ts';
import { SYNTHETIC_MODEL } from '../synthetic/helpers.ts';

const tmp = tempDir('cl-where-pages-');

/** Every file under a folder. */
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

/** Absolute paths of this machine as they could appear in a file. */
const ABSOLUTE = /(^|[\s"'`>(=:])\/(tmp|work|home|root|Users|var|usr|opt|mnt)\//;

describe('model gradient --bars 9-12', () => {
  const midi = join(tmp, 'alberti.mid');
  const out = join(tmp, 'gradient');
  let result: GradientResult;
  beforeAll(async () => {
    // 40 s of Alberti bass at 120 bpm in 4/4: bar b starts at 2(b-1) s; bars 9-12 are 16-24 s.
    writeMidiFile(midi, generateTexture('alberti', { seed: 5, seconds: 40 }));
    const r = await runMain([
      'model',
      'gradient',
      SYNTHETIC_MODEL,
      '--midi',
      midi,
      '--bars',
      '9-12',
      '--composer',
      'Albertini',
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    result = JSON.parse(readFileSync(join(out, 'gradient.json'), 'utf8'));
  }, 120_000);

  it('takes the excerpt of bars 9-12 and places its notes in those bars', () => {
    const map = readMidiFile(midi).timeMap;
    expect(result.source.bars).toEqual([9, 12]);
    expect(result.source.start).toBeCloseTo(barToSeconds(map, 9), 6);
    expect(result.source.end).toBeCloseTo(barToSeconds(map, 13), 6);
    expect(result.barLines!.map((b) => b.bar)).toEqual([9, 10, 11, 12, 13]);
    expect(result.notes.length).toBeGreaterThan(0);
    for (const n of result.notes) {
      expect(n.bar).toBeGreaterThanOrEqual(9);
      expect(n.bar).toBeLessThanOrEqual(12);
      expect(n.beat).toBeGreaterThanOrEqual(1);
      expect(n.beat).toBeLessThan(5);
    }
    expect(JSON.stringify(result)).not.toMatch(ABSOLUTE);
  });

  it('refuses a bar range that is not one', async () => {
    const r = await runMain([
      'model',
      'gradient',
      SYNTHETIC_MODEL,
      '--midi',
      midi,
      '--bars',
      '12-9',
      '--composer',
      'Albertini',
      '--out',
      join(tmp, 'bad'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--bars: give the first and last bar');
  });

  describe.skipIf(!HAVE_CHROMIUM)('in Chromium', () => {
    it('labels its axis with bars 9 to 12 and lists notes at bar and beat', async () => {
      const page = await openInChromium(join(out, 'gradient.html'));
      try {
        expect(page.pageErrors).toEqual([]);
        expect(page.requests).toEqual([page.url]);
        const bars = await page.page
          .locator('svg.heat')
          .first()
          .locator('text.bar')
          .allTextContents();
        expect(bars).toEqual(['bar 9', 'bar 10', 'bar 11', 'bar 12']);
        const text = await page.page.evaluate(() => document.body.innerText);
        expect(text).toContain('bars 9–12');
        expect(text).toMatch(/bar (9|1[0-2]), beat \d/);
        expect(text).not.toMatch(/bar (8|1[3-9]), beat/);
        expect(text).not.toMatch(ABSOLUTE);
      } finally {
        await page.close();
      }
    }, 60_000);
  });
});

describe('explain on a corpus with long rests', () => {
  const corpus = join(tmp, 'corpus');
  const out = join(tmp, 'run');
  const bank = join(tmp, 'bank');
  let stdout = '';
  let results: RunResults;
  beforeAll(async () => {
    // Each piece: 40 s of its composer's texture, 24 s of silence, 40 s more.
    const signature: Record<string, string> = {
      Albertini: 'alberti',
      Canonici: 'canon',
      Joplinski: 'stride',
      Kantorius: 'chorale',
      Lisztova: 'arpeggio',
    };
    for (const [composer, texture] of Object.entries(signature)) {
      mkdirSync(join(corpus, composer), { recursive: true });
      for (let k = 0; k < 8; k++) {
        const a = generateTexture(texture, { seed: 10 * k + 1, seconds: 40 });
        const b = generateTexture(texture, { seed: 10 * k + 2, seconds: 40 }).map((n): Note => ({
          ...n,
          onset: n.onset + 64,
          offset: n.offset + 64,
        }));
        writeMidiFile(join(corpus, composer, `${texture}-${k}.mid`), [...a, ...b]);
      }
    }
    const piece = join(tmp, 'piece.mid');
    writeMidiFile(piece, generateTexture('alberti', { seed: 9, seconds: 30 }));
    const r = await runMain([
      'explain',
      '--model',
      SYNTHETIC_MODEL,
      '--corpus',
      corpus,
      '--concepts',
      join(REPO, 'concepts/textures/alberti.yaml'),
      join(REPO, 'concepts/textures/stride.yaml'),
      join(REPO, 'concepts/textures/chorale.yaml'),
      '--random-runs',
      '4',
      '--set-size',
      '10',
      '--target-excerpts',
      '10',
      '--discovery-excerpts',
      '12',
      '--concepts-count',
      '4',
      '--min-pieces',
      '1',
      '--pieces',
      piece,
      '--save-bank',
      bank,
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    stdout = r.stdout;
    results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  }, 600_000);

  it('writes no absolute path in any page or results file', () => {
    const written = [...files(out), ...files(bank)].filter((f) => /\.(html|json)$/.test(f));
    expect(written.some((f) => f.endsWith('results.json'))).toBe(true);
    expect(written.some((f) => f.endsWith('timeline.json'))).toBe(true);
    expect(written.some((f) => f.endsWith('bank.json'))).toBe(true);
    for (const f of written) {
      const text = readFileSync(f, 'utf8');
      // On failure, the context of the path says which part of the page leaked it.
      for (const path of [tmp, REPO]) {
        const at = text.indexOf(path);
        expect(at < 0 ? '' : text.slice(Math.max(0, at - 160), at + 80), f).toBe('');
      }
      const m = ABSOLUTE.exec(text);
      expect(m ? text.slice(Math.max(0, m.index - 160), m.index + 80) : '', f).toBe('');
    }
  });

  it('offers no silent excerpt: every typical and least typical excerpt sounds', () => {
    const refs = results.concepts.flatMap((c) => [...c.excerpts, ...(c.leastTypical ?? [])]);
    expect(refs.length).toBeGreaterThan(0);
    for (const x of refs) {
      const notes = readMidiFile(join(out, x.midi)).notes;
      expect(notes.length, x.midi).toBeGreaterThanOrEqual(MIN_EXCERPT_NOTES);
    }
  });

  it('lists in the summary every significant cell, lowering ones beside raising ones', () => {
    const lowering = results.tcav.filter((e) => e.significant && e.effect < e.randomEffect);
    const raising = results.tcav.filter((e) => e.significant && e.effect > e.randomEffect);
    const line = (target: string) =>
      stdout.split('\n').find((l) => l.trimStart().startsWith(`${target} `)) ?? '';
    for (const e of lowering) expect(line(e.target)).toMatch(new RegExp(`lower: .*${e.concept} `));
    for (const e of raising)
      expect(line(e.target)).toMatch(new RegExp(`raise: [^;]*${e.concept} `));
  });

  describe.skipIf(!HAVE_CHROMIUM)('in Chromium', () => {
    it('shows every excerpt of the report with its notes, and no path of the machine', async () => {
      const page = await openInChromium(join(out, 'report.html'));
      try {
        expect(page.pageErrors).toEqual([]);
        const text = await page.page.evaluate(() => document.body.innerText);
        expect(text).not.toContain('Cannot show');
        expect(text).not.toMatch(ABSOLUTE);
      } finally {
        await page.close();
      }
      const timeline = files(join(out, 'timeline')).find((f) => f.endsWith('.html'))!;
      const tl = await openInChromium(timeline);
      try {
        expect(tl.pageErrors).toEqual([]);
        const text = await tl.page.evaluate(() => document.body.innerText);
        expect(text).not.toMatch(ABSOLUTE);
        expect(text).toContain('How to read this page');
        expect(text).toContain('It often keeps one sign along a whole piece');
      } finally {
        await tl.close();
      }
    }, 120_000);
  });
});
