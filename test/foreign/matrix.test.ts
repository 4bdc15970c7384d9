import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AxisLabel } from '../../src/model/axes.ts';
import { ComposerClassifier } from '../../src/model/classifier.ts';
import { runMain, tempDir } from '../helpers/cli.ts';
import { loadFixture, maxAbsDiff } from '../model/fixtures.ts';
import { CONCEPTS, CORPUS, FAST, FAST_DISCOVERY, FOREIGN, model } from './helpers.ts';

/**
 * The foreign-model matrix (issue 13): classifiers unlike the reference ResNet, exported the way
 * users export theirs (training/fixtures/make_foreign_fixtures.py). For each: activations and
 * logits match PyTorch, and `model inspect`, `tcav`, `discover --method nmf` and
 * `--method kmeans` complete on a small synthetic corpus, with the layers' axes as the
 * architecture makes them and the default layers chosen from those axes.
 */
interface Case {
  name: string;
  what: string;
  batch: 'dynamic' | 'rewritten' | 'fixed';
  /** Expected axes of some layers, from the architecture. */
  axes: Record<string, AxisLabel[]>;
  /** The default NMF layer (deepest non-negative layer with a map). */
  nmfLayer: string;
  /** TCAV layers to name (default: the default layer). */
  tcavLayers?: string[];
}

const MATRIX: Case[] = [
  {
    name: 'cnn_fixed_b1',
    what: 'CNN with a fixed batch of 1 at opset 13',
    batch: 'rewritten',
    axes: { block2: ['channel', 'time', 'pitch'], pool: ['channel', 'time', 'pitch'] },
    nmfLayer: 'block2',
  },
  {
    name: 'vgg_ncpt',
    what: 'pitch-first (NCPT) VGG with BatchNorm',
    batch: 'dynamic',
    axes: { features: ['channel', 'pitch', 'time'], avgpool: ['channel', 'pitch', 'time'] },
    nmfLayer: 'features',
  },
  {
    name: 'crnn_onset',
    what: 'conv + bidirectional GRU over onset + frame channels',
    batch: 'dynamic',
    axes: {
      conv: ['channel', 'time', 'pitch'],
      gru: ['time', 'hidden'],
      norm: ['time', 'hidden'],
      proj: ['time', 'hidden'],
    },
    nmfLayer: 'proj',
    // A [time, hidden] cut after the recurrent layer (issue 13, item 4: it used to be refused).
    tcavLayers: ['norm'],
  },
  {
    name: 'attention',
    what: 'conv + multi-head self-attention',
    batch: 'dynamic',
    axes: { embed: ['time', 'hidden'], norm: ['time', 'hidden'], ff: ['time', 'hidden'] },
    nmfLayer: 'ff',
  },
  {
    name: 'channels_last',
    what: 'channels-last input (NTPC) with a per-cell linear layer',
    batch: 'dynamic',
    axes: { mix: ['time', 'pitch', 'hidden'], conv: ['channel', 'time', 'pitch'] },
    nmfLayer: 'conv',
  },
  {
    name: 'gru_nometa',
    what: 'GRU over [N, T, P] without metadata, labels by sidecar',
    batch: 'dynamic',
    axes: { embed: ['time', 'hidden'], gru: ['time', 'hidden'] },
    nmfLayer: 'embed',
  },
];

const tmp = tempDir('cl-foreign-');
const results = (dir: string) => JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));

describe.each(MATRIX)('foreign model $name ($what)', (c) => {
  it('gives the logits and activations PyTorch computed', async () => {
    const f = loadFixture(`${c.name}.json`, FOREIGN);
    const classifier = await ComposerClassifier.load(model(c.name));
    try {
      const layers = Object.keys(f)
        .filter((k) => k.startsWith('layer:'))
        .map((k) => k.slice('layer:'.length));
      expect(layers.length).toBeGreaterThan(0);
      const n = f.inputs.shape[0];
      const out = await classifier.run(f.inputs.data, n, layers);
      expect(maxAbsDiff(out.logits, f.logits.data)).toBeLessThan(1e-4);
      for (const layer of layers) {
        const want = f[`layer:${layer}`];
        expect(classifier.layer(layer).shape).toEqual(want.shape.slice(1));
        expect(maxAbsDiff(out.activations[layer], want.data)).toBeLessThan(1e-4);
      }
    } finally {
      await classifier.release();
    }
  });

  it('is inspected with its batch mode and the axes of its layers', async () => {
    const { code, stdout } = await runMain(['model', 'inspect', model(c.name), '--json']);
    expect(code).toBe(0);
    const m = JSON.parse(stdout);
    expect(m.labels).toEqual(['Albertini', 'Kantorius', 'Joplinski']);
    expect(m.batch.mode).toBe(c.batch);
    const byName = new Map<string, { axes: AxisLabel[] }>(
      m.layers.map((l: { name: string; axes: AxisLabel[] }) => [l.name, l]),
    );
    for (const [layer, axes] of Object.entries(c.axes))
      expect(byName.get(layer)?.axes).toEqual(axes);
  });

  it('runs model evaluate', async () => {
    const { code, stdout, stderr } = await runMain([
      'model',
      'evaluate',
      model(c.name),
      '--corpus',
      CORPUS,
      '--split',
      'all',
      '--no-cache',
      '--json',
    ]);
    expect(code, stderr).toBe(0);
    const r = JSON.parse(stdout);
    expect(r.excerpts).toBeGreaterThan(0);
    expect(r.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(r.excerpts);
  });

  it('runs tcav', async () => {
    const out = join(tmp, `${c.name}-tcav`);
    const layers = c.tcavLayers ? ['--layers', ...c.tcavLayers] : [];
    const { code, stderr } = await runMain([
      'tcav',
      '--model',
      model(c.name),
      '--corpus',
      CORPUS,
      '--concepts',
      ...CONCEPTS,
      ...layers,
      ...FAST,
      '--out',
      out,
    ]);
    expect(code, stderr).toBe(0);
    if (!c.tcavLayers) expect(stderr).toMatch(/TCAV layer \(default\): \S+ \[.*\]: /);
    const r = results(out);
    expect(r.tcav).toHaveLength(2 * 3);
    for (const e of r.tcav) {
      expect(e.score).toBeGreaterThanOrEqual(0);
      expect(e.score).toBeLessThanOrEqual(1);
      expect(Number.isFinite(e.effect)).toBe(true);
    }
    if (c.tcavLayers) expect(r.run.layers).toEqual(c.tcavLayers);
  });

  it('runs discover --method nmf at the deepest non-negative map, localised in time', async () => {
    const out = join(tmp, `${c.name}-nmf`);
    const { code, stderr } = await runMain([
      'discover',
      '--model',
      model(c.name),
      '--corpus',
      CORPUS,
      '--method',
      'nmf',
      ...FAST_DISCOVERY,
      ...FAST,
      '--out',
      out,
    ]);
    expect(code, stderr).toBe(0);
    expect(stderr).toContain(`discovery layer (default): ${c.nmfLayer} [`);
    const r = results(out);
    expect(r.discovery.layer).toBe(c.nmfLayer);
    expect(r.concepts.length).toBeGreaterThan(0);
    // Rows of the localisation grid are the layer's time axis, columns its pitch axis (or 1).
    const classifier = await ComposerClassifier.load(model(c.name));
    const layer = classifier.layer(c.nmfLayer);
    await classifier.release();
    const size = (label: AxisLabel) => layer.shape[layer.axes.indexOf(label)] ?? 1;
    for (const concept of r.concepts) {
      for (const x of concept.excerpts) {
        expect(x.localization.rows).toBe(size('time'));
        expect(x.localization.cols).toBe(size('pitch'));
      }
    }
  });

  it('runs discover --method kmeans', async () => {
    const out = join(tmp, `${c.name}-kmeans`);
    const { code, stderr } = await runMain([
      'discover',
      '--model',
      model(c.name),
      '--corpus',
      CORPUS,
      '--method',
      'kmeans',
      '--min-pieces',
      '2',
      ...FAST_DISCOVERY,
      ...FAST,
      '--out',
      out,
    ]);
    expect(code, stderr).toBe(0);
    const r = results(out);
    expect(r.discovery.method).toBe('kmeans');
    expect(r.discovery.clusters).toBe(4);
  });
});

describe('NMF at a layer with no map', () => {
  it('warns, and exports whole excerpts without a localisation', async () => {
    const out = join(tmp, 'vgg-avgpool');
    const { code, stderr } = await runMain([
      'discover',
      '--model',
      model('vgg_ncpt'),
      '--corpus',
      CORPUS,
      '--layers',
      'avgpool',
      ...FAST_DISCOVERY,
      ...FAST,
      '--out',
      out,
    ]);
    expect(code, stderr).toBe(0);
    expect(stderr).toContain(
      'warning: layer avgpool [channel 16 x pitch 1 x time 1] cannot localise concepts within an excerpt: its time and pitch axes have length 1 (pooled away)',
    );
    const r = results(out);
    expect(r.discovery.map).toBeNull();
    for (const c of r.concepts)
      for (const x of c.excerpts) {
        expect(x.localization).toBeUndefined();
        expect(x.midiLocalized).toBeUndefined();
      }
  });
});
