/**
 * The report's robustness section, from a small attack result written with the real writers
 * (adversarial MIDI, edits as text), rendered and opened in Chromium.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { editGrid, type NoteEdit } from '../../src/edits/index.ts';
import { localKeys } from '../../src/key/estimate.ts';
import { DEFAULT_LAYOUT } from '../../src/midi/roll.ts';
import { buildTimeMap } from '../../src/midi/timemap.ts';
import { renderReport } from '../../src/report/html.ts';
import type { AttackedExcerpt, AttackResults } from '../../src/results/attack.ts';
import type { AttackExcerpt } from '../../src/robustness/excerpts.ts';
import { attackEdits, writeAttackFiles } from '../../src/robustness/export.ts';
import { robustnessCurve } from '../../src/robustness/summary.ts';
import { writeFileAtomic } from '../../src/util/files.ts';
import { HAVE_CHROMIUM, openInChromium, type OpenedPage } from '../helpers/chromium.ts';
import { albertiNotes, HOSTILE_CONCEPT, HOSTILE_PIECE, sampleResults } from './sample.ts';

const grid = editGrid(DEFAULT_LAYOUT, 400);
// 3/4 at 120 bpm: a bar is 1.5 s.
const waltz = buildTimeMap(
  480,
  [{ tick: 0, microsecondsPerBeat: 500_000 }],
  [{ tick: 0, numerator: 3, denominator: 4 }],
);

/** Three attacked excerpts (one with a hostile piece name), flipped after 1, 2 and 3 edits, and one robust. */
function sampleAttack(outDir: string): AttackResults {
  const notes = albertiNotes();
  const edits: NoteEdit[][] = [
    [{ kind: 'delete', note: 0 }],
    [
      { kind: 'octave', note: 3, semitones: 12 },
      { kind: 'add', pitch: 60, onset: 1, offset: 1.25, velocity: 70 },
    ],
    [
      { kind: 'shift', note: 5, frames: 2 },
      { kind: 'resize', note: 7, frames: -2 },
      { kind: 'delete', note: 9 },
    ],
  ];
  const attacked: AttackedExcerpt[] = edits.map((list, k) => {
    const piece = k === 1 ? HOSTILE_PIECE : `Sonata ${k}`;
    const x: AttackExcerpt = {
      excerpt: {
        id: `p${k}@0+400`,
        file: `Albertini/p${k}.mid`,
        piece,
        composer: 'Albertini',
        startFrame: 0,
        frames: 400,
        start: 0,
        end: 10,
      },
      notes,
      roll: undefined as never,
      // The third excerpt as a score in 3/4 (bars and beats), spelled in its key (C major).
      place: k === 2 ? { start: 0, timeMap: waltz, keys: localKeys(notes)! } : { start: 0 },
      visible: notes.length,
      contentKey: String(k),
    };
    const judged =
      k === 2
        ? [
            { cost: 1.5, flags: [] },
            { cost: 1, flags: [] },
            { cost: 1, flags: [] },
          ]
        : undefined;
    const described = attackEdits(x, list, grid, judged);
    const outcome = {
      success: true,
      ...(judged ? { tier: 'small' as const, cost: 3.5 } : {}),
      edits: list.length,
      predicted: 'Canonici',
      marginBefore: 2,
      marginAfter: -0.5,
      list: described,
    };
    return {
      id: x.excerpt.id,
      composer: 'Albertini',
      piece,
      file: x.excerpt.file,
      start: 0,
      end: 10,
      notes: notes.length,
      outcomes: {
        greedy: {
          ...outcome,
          midi: writeAttackFiles(x, 'greedy', k + 1, list, described, outcome, grid, (rel) =>
            join(outDir, rel),
          ),
        },
        random: {
          success: false,
          edits: 5,
          predicted: 'Albertini',
          marginBefore: 2,
          marginAfter: 1.5,
        },
      },
    };
  });
  attacked.push({
    id: 'robust',
    composer: 'Canonici',
    piece: 'Canon',
    file: 'Canonici/c.mid',
    start: 0,
    end: 20,
    notes: 80,
    outcomes: {
      greedy: { success: false, edits: 5, predicted: 'Canonici', marginBefore: 5, marginAfter: 1 },
      random: { success: false, edits: 5, predicted: 'Canonici', marginBefore: 5, marginAfter: 4 },
    },
  });
  const budgets = [1, 2, 5];
  const shares = [0.01, 0.05];
  return {
    searches: ['greedy', 'random'],
    budgets,
    shares,
    split: 'test',
    splitSeed: 1,
    seed: 1,
    excerpts: 5,
    correct: 4,
    cleanAccuracy: 0.8,
    ranking: 'input-gradients',
    candidates: 16,
    curves: (['greedy', 'random'] as const).map((s) =>
      robustnessCurve(s, attacked, 5, budgets, shares, 1),
    ),
    pairs: [{ search: 'greedy', from: 'Albertini', to: 'Canonici', count: 3, medianEdits: 2 }],
    attacked,
    concepts: {
      layer: 'layer3',
      attacks: 3,
      shifts: [{ concept: 'canon', before: 1, after: 3, shift: 2, shiftStd: 0.5 }],
      towards: [
        {
          from: 'Albertini',
          to: 'Canonici',
          count: 3,
          concepts: [
            { concept: 'canon', shift: 2, push: 0.8 },
            { concept: HOSTILE_CONCEPT, shift: -1, push: 0.1 },
            { concept: 'alberti', shift: 1, push: -0.3 },
          ],
        },
      ],
      tcav: [
        { concept: 'canon', composer: 'Albertini', excerpts: 3, original: 0.2, adversarial: 0.9 },
      ],
      derivatives: 'exact',
    },
  };
}

describe('robustness section', () => {
  const outDir = mkdtempSync(join(tmpdir(), 'cl-robust-report-'));
  let html: string;
  beforeAll(() => {
    const results = sampleResults(outDir);
    results.attack = sampleAttack(outDir);
    html = renderReport(results, { outDir });
    writeFileAtomic(join(outDir, 'report.html'), html);
  });
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('is there only with an attack, linked from the navigation', () => {
    expect(html).toContain('<section id="robustness">');
    expect(html).toContain('href="#robustness"');
    expect(renderReport(sampleResults(outDir), { outDir })).not.toContain('id="robustness"');
  });

  it('shows the three cheapest attacks with their edits in words, hostile names as text', () => {
    const articles = html.split('<article class="attack">').slice(1);
    expect(articles).toHaveLength(3);
    expect(articles[0]).toContain('after 1 edit:');
    expect(articles[0]).toContain('delete C3 at 0.00 s');
    expect(articles[2]).toContain('after 3 edits:');
    // The score excerpt: bar and beat in 3/4, pitches in C major, the cost in words.
    expect(articles[2]).toContain('key C major');
    expect(articles[2]).toContain('(cost 1 note change: one note left out)');
    expect(articles[2]).toContain('musical cost 3.5 note changes (small edits only)');
    expect(html).toContain('Each edit has a musical cost');
    expect(html).not.toContain(HOSTILE_PIECE);
    expect(html).toContain('Sonata &lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;');
  });

  it('names the concepts the edits pushed towards the new composer (only those with a positive push)', () => {
    const line = html.split('<ul class="towards">')[1].split('</ul>')[0];
    expect(line).toContain('canon (more present, push 0.800)');
    expect(line).toContain('less present, push 0.100');
    expect(line).not.toContain('alberti');
    expect(html).not.toContain(HOSTILE_CONCEPT);
  });

  describe.skipIf(!HAVE_CHROMIUM)('in Chromium', () => {
    let opened: OpenedPage;
    beforeAll(async () => {
      opened = await openInChromium(join(outDir, 'report.html'));
    });
    afterAll(async () => opened?.close());

    it('loads without errors, draws the curve and six piano rolls with the edited notes outlined', async () => {
      const { page, consoleErrors, pageErrors, requests, dialogs } = opened;
      expect([...consoleErrors, ...pageErrors, ...dialogs]).toEqual([]);
      expect(requests.filter((r) => r !== opened.url)).toEqual([]);
      const section = page.locator('#robustness');
      expect(await section.locator('svg.robust-chart path').count()).toBe(2);
      const rolls = section.locator('svg.roll');
      expect(await rolls.count()).toBe(6);
      for (let i = 0; i < 6; i++) {
        const box = await rolls.nth(i).boundingBox();
        expect(box!.width).toBeGreaterThan(100);
      }
      // Original of attack 3: the moved, shortened and deleted notes (3 marks); after: the moved and shortened (2).
      expect(await rolls.nth(4).locator('rect.mark').count()).toBe(3);
      expect(await rolls.nth(5).locator('rect.mark').count()).toBe(2);
    });

    it('shows the score excerpt’s edits at bar and beat, never past the bar', async () => {
      const edits = opened.page.locator('#robustness article.attack').nth(2).locator('ol.edits li');
      expect(await edits.count()).toBe(3);
      const texts = await edits.allInnerTexts();
      for (const t of texts) {
        const m = /at bar (\d+), beat (\d+)/.exec(t);
        expect(m, t).not.toBeNull();
        expect(Number(m![2])).toBeLessThanOrEqual(3);
        expect(t).toContain('key C major');
        expect(t).toMatch(/\(cost [\d.]+ note changes?: /);
      }
    });

    it('plays an adversarial excerpt', async () => {
      const button = opened.page.locator('#robustness button.play').nth(1);
      await button.click();
      expect(await button.getAttribute('aria-pressed')).toBe('true');
      await button.click();
      expect(await button.getAttribute('aria-pressed')).toBe('false');
    });
  });
});
