import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateTexture } from '../../src/concepts/patterns/index.ts';
import { renderRoll } from '../../src/midi/render.ts';
import { writeMidiFile } from '../../src/midi/write.ts';
import { ComposerClassifier } from '../../src/model/classifier.ts';
import { rollLayoutOf, rollsToBatch } from '../../src/model/input.ts';
import { readMidiFile } from '../../src/midi/read.ts';
import type { GradientResult } from '../../src/results/gradient.ts';
import { HAVE_CHROMIUM, openInChromium } from '../helpers/chromium.ts';
import { runMain, tempDir } from '../helpers/cli.ts';
import { SYNTHETIC_MODEL } from '../synthetic/helpers.ts';

const ARTIFACTS = resolve(import.meta.dirname, '../../test-artifacts');
const tmp = tempDir('cl-gradient-');

function decodeF32(base64: string): Float32Array {
  const bytes = Buffer.from(base64, 'base64');
  const data = new Float32Array(bytes.length / 4);
  Buffer.from(data.buffer).set(bytes);
  return data;
}

describe('concept-lens model gradient', () => {
  // An Alberti bass: the signature texture of the synthetic corpus's Albertini.
  const midi = join(tmp, 'alberti.mid');
  const out = join(tmp, 'out');
  let result: GradientResult & { gradient: { f32: string } };
  beforeAll(async () => {
    writeMidiFile(midi, generateTexture('alberti', { seed: 3, seconds: 24 }));
    const { code } = await runMain([
      'model',
      'gradient',
      SYNTHETIC_MODEL,
      '--midi',
      midi,
      '--seconds',
      '2',
      '14',
      '--composer',
      'Albertini',
      '--out',
      out,
    ]);
    expect(code).toBe(0);
    result = JSON.parse(readFileSync(join(out, 'gradient.json'), 'utf8'));
  }, 120_000);

  it("writes the gradient of the composer's logit for the excerpt, exactly", async () => {
    expect(result.composer).toBe('Albertini');
    expect(result.derivatives).toBe('exact');
    expect(result.source).toMatchObject({ start: 2, end: 14, seen: 12 });
    expect(result.shape).toEqual([1, 400, 88]);
    // The model recognises its composer's texture.
    expect(result.labels[result.logits.indexOf(Math.max(...result.logits))]).toBe('Albertini');
    // Same numbers as the model layer gives for the same roll (the excerpt shifted to 0).
    const c = await ComposerClassifier.load(SYNTHETIC_MODEL);
    const content = readMidiFile(midi);
    const notes = content.notes
      .map((n) => ({ ...n, onset: n.onset - 2, offset: Math.min(n.offset, 14) - 2 }))
      .filter((n) => n.offset > 0 && n.onset < 12)
      .map((n) => ({ ...n, onset: Math.max(0, n.onset) }));
    const roll = renderRoll(notes, rollLayoutOf(c.input)).slice(0, 400);
    const x = rollsToBatch([roll], c.input);
    const w = new Float32Array(5);
    w[0] = 1;
    const expected = await c.inputGradients(x, 1, w);
    const gradient = decodeF32(result.gradient.f32);
    let worst = 0;
    gradient.forEach((g, i) => (worst = Math.max(worst, Math.abs(g - expected[i]))));
    expect(worst).toBe(0);
    // Each note's gradient x input: the gradient summed over the cells it lights.
    const total = result.notes.reduce((s, n) => s + n.effect, 0);
    let dot = 0;
    x.forEach((v, i) => (dot += v * gradient[i]));
    expect(Math.abs(total - dot)).toBeLessThan(1e-4 * Math.max(1, Math.abs(dot)));
    await c.release();
  });

  it('refuses an unknown composer and a bad range with one line, leaving nothing', async () => {
    const bad = join(tmp, 'bad');
    const refusals: [string[], string][] = [
      [['--composer', 'Bach'], '--composer Bach: not a label of'],
      [
        ['--seconds', '5', '3', '--composer', 'Albertini'],
        '--seconds: give two numbers, start < end',
      ],
      [['--seconds', '100', '120', '--composer', 'Albertini'], 'the excerpt lies outside the file'],
    ];
    for (const [flags, message] of refusals) {
      const r = await runMain([
        'model',
        'gradient',
        SYNTHETIC_MODEL,
        '--midi',
        midi,
        ...flags,
        '--out',
        bad,
      ]);
      expect(r.code, message).toBe(2);
      expect(r.stderr).toContain(message);
    }
    expect(existsSync(bad)).toBe(false);
  }, 60_000);

  describe.skipIf(!HAVE_CHROMIUM)('gradient.html in Chromium', () => {
    it('shows the heat map with every note outlined, fetching nothing', async () => {
      const page = await openInChromium(join(out, 'gradient.html'));
      try {
        expect(page.consoleErrors).toEqual([]);
        expect(page.pageErrors).toEqual([]);
        expect(page.requests).toEqual([page.url]);
        const box = await page.page.locator('svg.heat').first().boundingBox();
        expect(box!.width).toBeGreaterThan(500);
        expect(box!.height).toBeGreaterThan(300);
        expect(await page.page.locator('svg.heat rect.note').count()).toBe(result.notes.length);
        expect(await page.page.locator('svg.heat rect[fill="#b2182b"]').count()).toBeGreaterThan(0);
        expect(await page.page.locator('h1').textContent()).toContain('Albertini');
        mkdirSync(ARTIFACTS, { recursive: true });
        await page.page.screenshot({ path: join(ARTIFACTS, 'gradient.png'), fullPage: true });
      } finally {
        await page.close();
      }
    }, 60_000);
  });
});
