/**
 * The must-show of timelines, on the synthetic model and a bank of the texture concepts built by
 * `tcav --save-bank`: a piece planted from corpora/synthetic.yaml's textures (40 s of Alberti bass,
 * 40 s of canon, 40 s of chorale, each as its composer plays it) must light each texture's lane
 * on its own stretch and be attributed to that texture's composer there; a second run with the
 * same bank gives bit-identical presence; a bank from another model is refused; a corrupt file is
 * skipped and listed; a piece shorter than a window is padded and flagged. The pages are checked
 * in Chromium.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { plantedPiece, type PlantedPiece } from '../../src/corpus/planted.ts';
import { loadSyntheticSpec, SYNTHETIC_SPEC } from '../../src/corpus/synthetic.ts';
import { readMidiFile } from '../../src/midi/read.ts';
import { writeMidiFile } from '../../src/midi/write.ts';
import type { PieceTimeline, TimelineResults } from '../../src/results/timeline.ts';
import { HAVE_CHROMIUM, openInChromium } from '../helpers/chromium.ts';
import { BIN, REPO, tempDir } from '../helpers/cli.ts';

const MODEL = join(REPO, 'models/synthetic.onnx');
const ARTIFACTS = join(REPO, 'test-artifacts');
const tmp = tempDir('cl-timeline-');

const pieces = join(tmp, 'pieces');
const bank = join(tmp, 'bank');
const HOSTILE = '<img src=x onerror=alert(1)> & "Fugue"';
const WINDOW = 20;

let planted: PlantedPiece;
let first: TimelineResults;

const read = (out: string): TimelineResults =>
  JSON.parse(readFileSync(join(out, 'timeline.json'), 'utf8'));
const pieceOf = (r: TimelineResults, file: string): PieceTimeline =>
  r.pieces.find((p) => p.file === file)!;
const timeline = (out: string, ...extra: string[]) =>
  main(['timeline', pieces, '--model', MODEL, '--bank', bank, '--out', out, '--quiet', ...extra]);

beforeAll(async () => {
  const spec = loadSyntheticSpec(SYNTHETIC_SPEC);
  planted = plantedPiece(
    spec,
    [
      { texture: 'alberti', seconds: 40 },
      { texture: 'canon', seconds: 40 },
      { texture: 'chorale', seconds: 40 },
    ],
    1,
  );
  writeMidiFile(join(pieces, 'planted.mid'), planted.notes, { name: 'planted' });
  // 8 s of stride: shorter than one 20 s window.
  writeMidiFile(
    join(pieces, 'short.mid'),
    plantedPiece(spec, [{ texture: 'stride', seconds: 8 }], 2).notes,
  );
  writeMidiFile(
    join(pieces, `${HOSTILE}.mid`),
    plantedPiece(spec, [{ texture: 'arpeggio', seconds: 30 }], 3).notes,
  );
  writeFileSync(
    join(pieces, 'corrupt.mid'),
    Buffer.from('MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk\x00\x00\x10\x00', 'latin1'),
  );
  // The bank: the texture concepts' CAVs on the synthetic model (few runs: the CAVs, not the
  // TCAV statistics, matter here).
  const code = await main([
    'tcav',
    '--model',
    MODEL,
    '--corpus',
    'synthetic',
    '--concepts',
    join(REPO, 'concepts/textures'),
    '--random-runs',
    '5',
    '--set-size',
    '20',
    '--target-excerpts',
    '10',
    '--out',
    join(tmp, 'tcav'),
    '--save-bank',
    bank,
    '--quiet',
  ]);
  expect(code).toBe(0);
  expect(await timeline(join(tmp, 'run1'), '--no-cache', '--composer', 'Kantorius')).toBe(0);
  first = read(join(tmp, 'run1'));
}, 600_000);

/** Windows lying wholly inside a section (those overlapping a boundary are excepted). */
function interior(piece: PieceTimeline, section: { start: number; end: number }): number[] {
  return piece.windows
    .map((w, i) => ({ w, i }))
    .filter(({ w }) => w.start >= section.start - 1e-6 && w.start + WINDOW <= section.end + 1e-6)
    .map(({ i }) => i);
}

describe('timeline of a piece with planted textures', () => {
  it('lights each texture lane on its own stretch', () => {
    const piece = pieceOf(first, 'planted.mid');
    expect(piece.windows).toHaveLength(21); // 120 s, 20 s windows every 5 s
    const table: string[] = [];
    for (const section of planted.sections) {
      const lane = piece.lanes.find((l) => l.concept === section.texture)!;
      const own = interior(piece, section).map((i) => lane.presence[i]);
      const mean = own.reduce((a, b) => a + b, 0) / own.length;
      expect(own.length).toBe(5);
      const others = planted.sections
        .filter((s) => s !== section)
        .flatMap((s) => interior(piece, s).map((i) => lane.presence[i]));
      table.push(
        `${section.texture.padEnd(8)} own stretch ${own.map((p) => p.toFixed(2)).join(' ')} (mean ${mean.toFixed(2)}); other stretches max ${Math.max(...others).toFixed(2)}`,
      );
      // Every window of the other stretches lies below the own stretch's mean presence ...
      expect(Math.max(...others), section.texture).toBeLessThan(mean);
      // ... and the lane's top window is on the own stretch.
      expect(interior(piece, section), section.texture).toContain(lane.top[0].window);
    }
    console.log(
      `presence of each planted texture (bank of ${piece.lanes.length} concepts):\n${table.join('\n')}`,
    );
  });

  it("predicts the texture's composer on each stretch", () => {
    const piece = pieceOf(first, 'planted.mid');
    for (const section of planted.sections) {
      const predicted = interior(piece, section).map((i) => piece.windows[i].predicted);
      expect(predicted, section.texture).toEqual(predicted.map(() => section.composer));
    }
    // Influence on --composer is reported per window, and the chorale concept pushes Kantorius
    // (whose signature it is) up on the chorale stretch.
    const chorale = piece.lanes.find((l) => l.concept === 'chorale')!;
    const stretch = interior(piece, planted.sections[2]);
    expect(chorale.influenceOn.Kantorius).toHaveLength(piece.windows.length);
    expect(stretch.every((i) => chorale.influenceOn.Kantorius[i] > 0)).toBe(true);
  });

  it('gives bit-identical presence with the same bank on a second run (and through the cache)', async () => {
    expect(await timeline(join(tmp, 'run2'), '--no-cache', '--composer', 'Kantorius')).toBe(0);
    const cache = join(tmp, 'cache');
    expect(await timeline(join(tmp, 'run3'), '--cache-dir', cache)).toBe(0);
    expect(await timeline(join(tmp, 'run4'), '--cache-dir', cache)).toBe(0);
    const lanes = (r: TimelineResults) =>
      r.pieces.map((p) =>
        p.lanes.map((l) => ({
          presence: l.presence,
          projection: l.projection,
          influence: l.influence,
        })),
      );
    const base = lanes(first);
    for (const run of ['run2', 'run3', 'run4'])
      expect(lanes(read(join(tmp, run))), run).toEqual(base);
    expect(readdirSync(join(tmp, 'cache')).length).toBeGreaterThan(0);
  });

  it('influence: exact gradients agree with finite differences', async () => {
    expect(first.run.derivatives).toEqual([{ layer: 'layer3', derivatives: 'exact' }]);
    const out = join(tmp, 'fd');
    const args = ['--no-cache', '--composer', 'Kantorius', '--derivatives', 'finite-difference'];
    expect(await timeline(out, ...args)).toBe(0);
    const fd = read(out);
    expect(fd.run.derivatives).toEqual([{ layer: 'layer3', derivatives: 'finite-difference' }]);
    const rel = (x: number[], y: number[]) =>
      Math.hypot(...x.map((v, i) => v - y[i])) / Math.hypot(...x);
    let worst = 0;
    first.pieces.forEach((p, i) =>
      p.lanes.forEach((lane, k) => {
        const other = fd.pieces[i].lanes[k];
        expect(other.presence).toEqual(lane.presence);
        worst = Math.max(
          worst,
          rel(lane.influence, other.influence),
          rel(lane.influenceOn.Kantorius, other.influenceOn.Kantorius),
        );
      }),
    );
    console.log(
      `influence, exact vs finite differences: worst relative L2 difference ${worst.toFixed(4)}`,
    );
    expect(worst).toBeLessThan(0.05);
  });

  it('skips and lists a corrupt file, pads and flags a piece shorter than a window', () => {
    expect(first.skipped).toEqual([
      { file: 'corrupt.mid', reason: expect.stringMatching(/truncated/) },
    ]);
    expect(first.pieces.map((p) => p.file).sort()).toEqual(
      [`${HOSTILE}.mid`, 'planted.mid', 'short.mid'].sort(),
    );
    const short = pieceOf(first, 'short.mid');
    expect(short.padded).toBe(true);
    expect(short.windows).toHaveLength(1);
    // One window from 0 to the end of the last note (the rest of it is silence).
    expect(short.windows[0]).toMatchObject({ start: 0, end: short.durationSeconds });
    expect(short.durationSeconds).toBeLessThan(8);
    expect(short.warnings).toEqual([expect.stringMatching(/shorter than one window .*padded/)]);
    expect(pieceOf(first, 'planted.mid').padded).toBe(false);
  });

  it('writes a page per piece and the top windows of each concept as MIDI', () => {
    const out = join(tmp, 'run1');
    for (const p of first.pieces) {
      expect(existsSync(join(out, p.page)), p.page).toBe(true);
      expect(p.lanes).toHaveLength(10);
      for (const lane of p.lanes) {
        expect(lane.top.length).toBe(p.padded ? 1 : Math.min(3, lane.top.length));
        for (const t of lane.top)
          expect(readMidiFile(join(out, t.midi)).notes.length).toBeGreaterThan(0);
      }
    }
    // The top window of the alberti lane, as MIDI, is the planted Alberti bass: the notes of that window.
    const piece = pieceOf(first, 'planted.mid');
    const alberti = piece.lanes.find((l) => l.concept === 'alberti')!;
    const w = piece.windows[alberti.top[0].window];
    const exported = readMidiFile(join(out, alberti.top[0].midi)).notes;
    const expected = planted.notes.filter((n) => n.onset < w.start + WINDOW && n.offset > w.start);
    expect(exported.length).toBe(expected.length);
    expect(readdirSync(tmp).filter((f) => /\.(new|old|partial)-\d+$/.test(f))).toEqual([]);
  });

  it('refuses a bank built for another model in one line, and writes nothing', () => {
    const out = join(tmp, 'refused');
    const r = spawnSync(
      BIN,
      ['timeline', pieces, '--model', join(REPO, 'models/asap.onnx'), '--bank', bank, '--out', out],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^concept-lens: .*bank: built for model .*synthetic\.onnx \(sha256 1139f1854a09\), not .*asap\.onnx/,
      ),
    ]);
    expect(existsSync(out)).toBe(false);
  });

  it('a single corrupt file is the error: one line naming it, exit 2', () => {
    const r = spawnSync(
      BIN,
      [
        'timeline',
        join(pieces, 'corrupt.mid'),
        '--model',
        MODEL,
        '--bank',
        bank,
        '--out',
        join(tmp, 'bad'),
        '--quiet',
      ],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('concept-lens'))).toEqual([
      expect.stringMatching(/corrupt\.mid: truncated/),
    ]);
  });
});

describe('explain --pieces', () => {
  it("adds the timelines of given pieces to its report, with the run's own CAVs, and saves the bank", async () => {
    const out = join(tmp, 'explain');
    const saved = join(tmp, 'explain-bank');
    const code = await main([
      'explain',
      '--concepts',
      join(REPO, 'concepts/textures/alberti.yaml'),
      join(REPO, 'concepts/textures/chorale.yaml'),
      '--random-runs',
      '4',
      '--set-size',
      '10',
      '--target-excerpts',
      '10',
      '--skip-discovery',
      '--pieces',
      join(pieces, 'planted.mid'),
      '--save-bank',
      saved,
      '--out',
      out,
      '--quiet',
    ]);
    expect(code).toBe(0);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(results.timeline).toEqual({ file: 'timeline.json', pieces: 1 });
    const t = read(out);
    expect(t.run.command).toBe('explain');
    expect(t.pieces[0].lanes.map((l) => l.concept)).toEqual(['alberti', 'chorale']);
    const report = readFileSync(join(out, 'report.html'), 'utf8');
    expect(report).toContain('id="timelines"');
    expect(report).toContain(`href="${t.pieces[0].page}"`);
    expect(existsSync(join(out, t.pieces[0].page))).toBe(true);
    expect(existsSync(join(saved, 'bank.json'))).toBe(true);
  }, 300_000);
});

describe.skipIf(!HAVE_CHROMIUM)('timeline pages in Chromium', () => {
  let page: Page;
  let close: () => Promise<void>;
  let state: {
    consoleErrors: string[];
    pageErrors: string[];
    requests: string[];
    dialogs: string[];
    url: string;
  };
  beforeAll(async () => {
    const opened = await openInChromium(join(tmp, 'run1', pieceOf(first, 'planted.mid').page));
    page = opened.page;
    close = opened.close;
    state = opened;
  });
  afterAll(async () => close?.());

  it('loads from disk without errors, requesting nothing but itself', () => {
    expect(state.consoleErrors).toEqual([]);
    expect(state.pageErrors).toEqual([]);
    expect(state.requests).toEqual([state.url]);
  });

  it('draws the piece, the probabilities and one lane per concept, on one axis', async () => {
    expect(await page.locator('.tl-lane').count()).toBe(10);
    const plot = page.locator('svg.tl-plot');
    const box = await plot.boundingBox();
    expect(box!.width).toBeGreaterThan(500);
    // One note rectangle per planted note.
    expect(await page.locator('svg.tl-plot g.notes rect').count()).toBe(planted.notes.length);
    // Every lane has one cell per window.
    // Every drawn lane has one cell per window; a concept that does not localise has no cells,
    // only the line that says so with its held-out figures.
    const drawn = page.locator('.tl-lane:not(.tl-nolocal)');
    expect(await drawn.count()).toBeGreaterThan(0);
    for (const lane of await drawn.all()) expect(await lane.locator('g.tl-cell').count()).toBe(21);
    for (const lane of await page.locator('.tl-lane.tl-nolocal').all()) {
      expect(await lane.locator('g.tl-cell').count()).toBe(0);
      expect(await lane.textContent()).toMatch(
        /does not localise here: on held-out pieces, AUC \d/,
      );
    }
    const text = await page.evaluate(() => document.body.innerText);
    expect(text).toContain('Kantorius');
  });

  it('selects and plays a window on click, and shows its numbers', async () => {
    const cell = page.locator('.tl-lane:not(.tl-nolocal)').first().locator('g.tl-cell').nth(2);
    await cell.click();
    const button = page.locator('#tl-detail button.play');
    await expect.poll(() => button.getAttribute('aria-pressed')).toBe('true');
    expect(await page.locator('.tl-selection').getAttribute('visibility')).toBe('visible');
    const detail = await page.locator('#tl-detail').innerText();
    expect(detail).toContain('0:10–0:30');
    expect(detail).toContain('Albertini');
    // What the page says of alberti there: a calibrated probability, the failed check, or a rank
    // in words (never a bare number beside "present").
    expect(detail).toMatch(
      /alberti\s+layer3\s+(probability \d\.\d\d that the alberti detector|does not localise here|not calibrated: ranks above 9\d% of corpus windows)/,
    );
    await page.waitForTimeout(300);
    expect(await page.locator('svg.tl-playhead .playhead').getAttribute('visibility')).toBe(
      'visible',
    );
    await button.click();
    expect(await button.getAttribute('aria-pressed')).toBe('false');
    // A top window's button selects that window.
    await page.locator('button.tl-go').first().click();
    await expect
      .poll(() => page.locator('#tl-detail button.play').getAttribute('aria-pressed'))
      .toBe('true');
    await page.locator('#tl-detail button.play').click();
    expect(state.pageErrors).toEqual([]);
    expect(state.consoleErrors).toEqual([]);
  });

  it('shows a hostile file name as text', async () => {
    const opened = await openInChromium(join(tmp, 'run1', pieceOf(first, `${HOSTILE}.mid`).page));
    try {
      expect(opened.pageErrors).toEqual([]);
      expect(await opened.page.locator('img').count()).toBe(0);
      expect(await opened.page.title()).toContain(HOSTILE);
      expect(opened.dialogs).toEqual([]);
      expect(opened.requests).toEqual([opened.url]);
    } finally {
      await opened.close();
    }
  });

  it('the explain report with timelines loads cleanly', async () => {
    const opened = await openInChromium(join(tmp, 'explain', 'report.html'));
    try {
      expect(opened.pageErrors).toEqual([]);
      expect(opened.consoleErrors).toEqual([]);
      expect(await opened.page.locator('#timelines .tl-lane').count()).toBe(2);
      expect(opened.requests).toEqual([opened.url]);
    } finally {
      await opened.close();
    }
  });

  it('saves a full-page screenshot', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(ARTIFACTS, 'timeline.png'), fullPage: true });
    expect(state.requests).toEqual([state.url]);
  });
});
