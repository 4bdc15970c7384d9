import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeMidiFile } from '../../src/midi/write.ts';
import { LAYOUTS } from '../../src/model/axes.ts';
import { ComposerClassifier } from '../../src/model/classifier.ts';
import { runMain, tempDir } from '../helpers/cli.ts';
import { loadFixture, maxAbsDiff } from './fixtures.ts';

/**
 * One CNN exported under the six input layouts (training/fixtures/make_layout_fixtures.py): the
 * input gradient of each must be PyTorch autograd's in that layout, and `model gradient` must draw
 * the same heat map, autograd's gradient in roll order, for all six.
 */
const DIR = join(import.meta.dirname, '..', 'fixtures', 'layouts');
const fixture = loadFixture('layouts.json', DIR);
const meta = JSON.parse(readFileSync(join(DIR, 'layouts.json'), 'utf8')) as {
  labels: string[];
  composer: string;
  fps: number;
  notes: { pitch: number; on: number; end: number }[];
};
const classIndex = meta.labels.indexOf(meta.composer);
const scale = (a: Float32Array) => Math.max(...Array.from(a, Math.abs));
const tmp = tempDir('cl-layouts-');

function decodeF32(base64: string): Float32Array {
  const bytes = Buffer.from(base64, 'base64');
  const data = new Float32Array(bytes.length / 4);
  Buffer.from(data.buffer).set(bytes);
  return data;
}

describe('input gradients in all six layouts', () => {
  it.each(LAYOUTS)('%s: the exact input gradient is autograd’s', async (layout) => {
    const c = await ComposerClassifier.load(join(DIR, `cnn_${layout}.onnx`));
    try {
      expect(c.input.layout).toBe(layout);
      const x = fixture[`input:${layout}`].data;
      const w = new Float32Array(c.classes);
      w[classIndex] = 1;
      const g = await c.inputGradients(x, 1, w);
      const expected = fixture[`grad:${layout}`].data;
      expect(maxAbsDiff(g, expected)).toBeLessThan(1e-5 * scale(expected));
    } finally {
      await c.release();
    }
  });

  it('model gradient draws the same heat map, autograd’s in roll order, for all six', async () => {
    const midi = join(tmp, 'notes.mid');
    writeMidiFile(
      midi,
      meta.notes.map((n) => ({
        pitch: n.pitch,
        onset: n.on / meta.fps,
        offset: n.end / meta.fps,
        velocity: 80,
        track: 0,
        channel: 0,
      })),
    );
    const expected = fixture.grad_roll.data;
    // The layouts' own orders differ from the roll's: a map read in the wrong order would show.
    expect(scale(expected)).toBeGreaterThan(0);
    expect(maxAbsDiff(fixture['grad:NPT'].data, expected)).toBeGreaterThan(0.1 * scale(expected));
    const maps: Float32Array[] = [];
    for (const layout of LAYOUTS) {
      const out = join(tmp, layout);
      const run = await runMain([
        'model',
        'gradient',
        join(DIR, `cnn_${layout}.onnx`),
        '--midi',
        midi,
        '--composer',
        meta.composer,
        '--out',
        out,
      ]);
      expect(run.code, run.stderr).toBe(0);
      const r = JSON.parse(readFileSync(join(out, 'gradient.json'), 'utf8')) as {
        shape: number[];
        logits: number[];
        gradient: { f32: string };
      };
      expect(r.shape).toEqual(fixture.roll.shape);
      expect(maxAbsDiff(r.logits, fixture.logits.data)).toBeLessThan(1e-4);
      const map = decodeF32(r.gradient.f32);
      expect(maxAbsDiff(map, expected), layout).toBeLessThan(1e-5 * scale(expected));
      maps.push(map);
    }
    for (const m of maps.slice(1))
      expect(maxAbsDiff(m, maps[0])).toBeLessThan(1e-5 * scale(maps[0]));
  }, 120_000);
});
