import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readMidiFile } from '../../src/midi/read.ts';
import { ComposerClassifier } from '../../src/model/classifier.ts';
import type { DiscoveredConcept, RunResults, TcavEntry } from '../../src/results/results.ts';
import { runMain, tempDir } from '../helpers/cli.ts';
import { loadFixture, maxAbsDiff } from '../model/fixtures.ts';
import { CONCEPTS, CORPUS, FAST, FAST_DISCOVERY, FOREIGN, model } from './helpers.ts';

const tmp = tempDir('cl-twins-');
const read = (dir: string): RunResults =>
  JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));

/**
 * vgg_ncpt reads pitch-first rolls [N, 1, 88, 48]; vgg_nctp_twin is the same network transposed
 * (time-first input, every kernel transposed), the layout whose localisation was always right.
 * The NCPT model's NMF concepts must be the twin's: same components, same maps (rows time,
 * columns pitch), same notes in the "-localized" MIDI files.
 */
describe('NMF localisation of a pitch-first (NCPT) model', () => {
  it('has activations that are the transpose of its time-first twin', async () => {
    const ncpt = loadFixture('vgg_ncpt.json', FOREIGN).inputs;
    const c = await ComposerClassifier.load(model('vgg_nctp_twin'));
    const d = await ComposerClassifier.load(model('vgg_ncpt'));
    try {
      expect(c.layer('features').axes).toEqual(['channel', 'time', 'pitch']);
      expect(d.layer('features').axes).toEqual(['channel', 'pitch', 'time']);
      const [n, , P, T] = ncpt.shape;
      const nctp = new Float32Array(ncpt.data.length);
      for (let i = 0; i < n; i++)
        for (let p = 0; p < P; p++)
          for (let t = 0; t < T; t++)
            nctp[i * P * T + t * P + p] = ncpt.data[i * P * T + p * T + t];
      const a = (await d.run(ncpt.data, n, ['features'])).activations.features;
      const b = (await c.run(nctp, n, ['features'])).activations.features;
      const [C, Pf, Tf] = d.layer('features').shape;
      const transposed = new Float32Array(a.length);
      for (let i = 0; i < n * C; i++)
        for (let p = 0; p < Pf; p++)
          for (let t = 0; t < Tf; t++)
            transposed[i * Pf * Tf + t * Pf + p] = a[i * Pf * Tf + p * Tf + t];
      expect(maxAbsDiff(transposed, b)).toBeLessThan(1e-4);
    } finally {
      await c.release();
      await d.release();
    }
  });

  it('finds the concepts of the twin, localised at the same time steps and pitches', async () => {
    const runs: Record<string, RunResults> = {};
    for (const name of ['vgg_ncpt', 'vgg_nctp_twin']) {
      const out = join(tmp, name);
      const { code, stderr } = await runMain([
        'discover',
        '--model',
        model(name),
        '--corpus',
        CORPUS,
        '--method',
        'nmf',
        '--layers',
        'features',
        ...FAST_DISCOVERY,
        ...FAST,
        '--out',
        out,
      ]);
      expect(code, stderr).toBe(0);
      runs[name] = read(out);
    }
    const ncpt = runs.vgg_ncpt;
    const twin = runs.vgg_nctp_twin;
    expect(ncpt.discovery!.map).toEqual({ rows: 12, cols: 22 }); // 48 / 4 frames, 88 / 4 pitches
    expect(twin.discovery!.map).toEqual({ rows: 12, cols: 22 });
    expect(ncpt.concepts.map((c) => c.id)).toEqual(twin.concepts.map((c) => c.id));
    let localized = 0;
    ncpt.concepts.forEach((c: DiscoveredConcept, k) => {
      const t = twin.concepts[k];
      for (const target of Object.keys(c.importance))
        expect(c.importance[target].value).toBeCloseTo(t.importance[target].value, 5);
      expect(c.excerpts.map((x) => x.piece)).toEqual(t.excerpts.map((x) => x.piece));
      c.excerpts.forEach((x, j) => {
        const y = t.excerpts[j];
        expect(x.localization!.rows).toBe(12);
        expect(x.localization!.cols).toBe(22);
        expect(maxAbsDiff(x.localization!.values, y.localization!.values)).toBeLessThan(2e-3);
        expect(x.midiLocalized).toBe(y.midiLocalized);
        if (x.midiLocalized) {
          localized++;
          const notes = (dir: string) =>
            readMidiFile(join(tmp, dir, x.midiLocalized!)).notes.map((n) => [n.pitch, n.onset]);
          expect(notes('vgg_ncpt')).toEqual(notes('vgg_nctp_twin'));
        }
      });
    });
    expect(localized).toBeGreaterThan(0);
  });
});

/**
 * In channels_last, `mix` is a channels-last map [time, pitch, hidden] and `Transpose` the same
 * values permuted to [hidden, time, pitch]: NMF at either must find the same concepts, localised
 * alike, since only the order of the axes differs.
 */
describe('NMF localisation of a channels-last map', () => {
  it('equals that of the same map permuted channel-first', async () => {
    const runs: Record<string, RunResults> = {};
    for (const layer of ['mix', 'Transpose']) {
      const out = join(tmp, `channels-last-${layer}`);
      const { code, stderr } = await runMain([
        'discover',
        '--model',
        model('channels_last'),
        '--corpus',
        CORPUS,
        '--method',
        'nmf',
        '--layers',
        layer,
        ...FAST_DISCOVERY,
        ...FAST,
        '--out',
        out,
      ]);
      expect(code, stderr).toBe(0);
      runs[layer] = read(out);
    }
    expect(runs.mix.discovery!.axes).toBe('time 48 x pitch 88 x hidden 4');
    expect(runs.Transpose.discovery!.axes).toBe('hidden 4 x time 48 x pitch 88');
    expect(runs.mix.discovery!.map).toEqual({ rows: 48, cols: 88 });
    const a = runs.mix.concepts;
    const b = runs.Transpose.concepts;
    expect(a.length).toBeGreaterThan(0);
    expect(a.length).toBe(b.length);
    a.forEach((c, k) => {
      for (const target of Object.keys(c.importance))
        expect(c.importance[target].value).toBeCloseTo(b[k].importance[target].value, 5);
      c.excerpts.forEach((x, j) => {
        expect(x.piece).toBe(b[k].excerpts[j].piece);
        expect(
          maxAbsDiff(x.localization!.values, b[k].excerpts[j].localization!.values),
        ).toBeLessThan(2e-3);
      });
    });
  });
});

/**
 * attention_fixed_b1 is attention exported without dynamic axes: its reshapes freeze the batch,
 * so it runs one excerpt at a time; cnn_fixed_b1 is given a symbolic batch. Both must give the
 * TCAV results of their dynamic-batch twins: same scores, effects and p-values equal up to float32
 * rounding (the derivatives are exact gradients through heads run in chunks of one).
 */
describe('a fixed-batch model gives the TCAV results of its dynamic-batch twin', () => {
  const pairs = [
    { fixed: 'attention_fixed_b1', dynamic: 'attention', layer: 'norm', mode: 'fixed' },
    { fixed: 'cnn_fixed_b1', dynamic: 'cnn_dynamic', layer: 'block2', mode: 'rewritten' },
  ];
  it.each(pairs)('$fixed ($mode) = $dynamic at $layer', async ({ fixed, dynamic, layer, mode }) => {
    const entries: Record<string, TcavEntry[]> = {};
    for (const name of [fixed, dynamic]) {
      const out = join(tmp, `tcav-${name}`);
      const { code, stderr } = await runMain([
        'tcav',
        '--model',
        model(name),
        '--corpus',
        CORPUS,
        '--concepts',
        ...CONCEPTS,
        '--layers',
        layer,
        ...FAST,
        '--out',
        out,
      ]);
      expect(code, stderr).toBe(0);
      entries[name] = read(out).tcav;
    }
    const c = await ComposerClassifier.load(model(fixed));
    expect(c.batchInfo.mode).toBe(mode);
    await c.release();
    const a = entries[fixed];
    const b = entries[dynamic];
    expect(a).toHaveLength(6);
    expect(a.map((e) => [e.concept, e.target])).toEqual(b.map((e) => [e.concept, e.target]));
    a.forEach((e, i) => {
      const f = b[i];
      expect(e.scores).toEqual(f.scores);
      expect(e.cavAccuracy).toBe(f.cavAccuracy);
      expect(Math.abs(e.effect - f.effect)).toBeLessThan(1e-4 * Math.abs(f.effect) + 1e-7);
      expect(Math.abs(e.pValue - f.pValue)).toBeLessThan(1e-4);
      expect(e.significant).toBe(f.significant);
    });
  });
});
