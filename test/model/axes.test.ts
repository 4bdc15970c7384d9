import { describe, expect, it } from 'vitest';
import { clusterFeatures } from '../../src/discovery/kmeans.ts';
import { PianoRoll } from '../../src/midi/roll.ts';
import {
  axisLabel,
  isBatchAxis,
  layerMap,
  reshapeAxes,
  type Axis,
  type AxisLabel,
} from '../../src/model/axes.ts';
import { ComposerClassifier } from '../../src/model/classifier.ts';
import { rollLayoutOf, rollsToBatch } from '../../src/model/input.ts';
import {
  defaultDiscoveryLayer,
  defaultTcavLayer,
  mapWarning,
} from '../../src/model/layer-choice.ts';
import type { LayerInfo } from '../../src/model/graph.ts';
import { checkInputShape, resolveDescription, type InputSpec } from '../../src/model/spec.ts';
import { UserError } from '../../src/util/errors.ts';
import { model } from '../foreign/helpers.ts';

const axis = (...atoms: [AxisLabel, number][]): Axis =>
  atoms.map(([label, size]) => ({ label, size }));

describe('reshapes merge and split axes by size', () => {
  it('finds the batch again after multi-head attention splits and merges it with the heads', () => {
    for (const N of [3, 1]) {
      // [T, N, E] -> [T, N * heads, d] (q.view in nn.MultiheadAttention), heads = 4, d = 8.
      const x = [axis(['time', 24]), axis(['batch', N]), axis(['hidden', 32])];
      const heads = reshapeAxes(x, [24, N * 4, 8])!;
      expect(heads.map(axisLabel)).toEqual(['time', N === 1 ? 'hidden' : 'mixed', 'hidden']);
      // ... -> [T * N, E] (before out_proj) -> [T, N, E] (after it).
      const flat = reshapeAxes(heads, [24 * N, 32])!;
      const back = reshapeAxes(flat, [24, N, 32])!;
      expect(back.map(axisLabel)).toEqual(['time', 'batch', 'hidden']);
      expect(isBatchAxis(back[1])).toBe(true);
    }
  });

  it('flattens a pooled map and unsqueezes a sequence', () => {
    const pooled = [
      axis(['batch', 2]),
      axis(['channel', 16]),
      axis(['time', 1]),
      axis(['pitch', 1]),
    ];
    expect(reshapeAxes(pooled, [2, 16])!.map(axisLabel)).toEqual(['batch', 'channel']);
    const seq = [axis(['batch', 2]), axis(['time', 48]), axis(['hidden', 32])];
    expect(reshapeAxes(seq, [2, 1, 48, 32])!.map(axisLabel)).toEqual([
      'batch',
      'mixed',
      'time',
      'hidden',
    ]);
    // channel x pitch merged into one feature axis per time step (before a recurrent layer).
    const map = [axis(['batch', 2]), axis(['time', 48]), axis(['channel', 8]), axis(['pitch', 22])];
    expect(reshapeAxes(map, [2, 48, 176])!.map(axisLabel)).toEqual(['batch', 'time', 'mixed']);
    expect(reshapeAxes(map, [2, 47, 176])).toBeUndefined();
  });
});

describe('input layouts', () => {
  const base: InputSpec = {
    fps: 20,
    windowFrames: 3,
    lowPitch: 60,
    highPitch: 63,
    channels: ['frame', 'onset'],
    values: 'binary',
    layout: 'NCTP',
  };
  // Roll value at (channel c, frame t, pitch p) is its NCTP offset c * 12 + t * 4 + p.
  const roll = new PianoRoll(rollLayoutOf(base), 3);
  roll.data.forEach((_, i) => (roll.data[i] = i));

  it('permutes each item into the layout (hand-worked offsets)', () => {
    const at = (layout: InputSpec['layout'], offset: number) =>
      rollsToBatch([roll], { ...base, layout })[offset];
    // (c=1, t=0, p=2) = 14: NCPT [2, 4, 3] -> 1*12 + 2*3 + 0 = 18; NTPC [3, 4, 2] -> (0*4 + 2)*2 + 1 = 5;
    // NPTC [4, 3, 2] -> (2*3 + 0)*2 + 1 = 13.
    expect(at('NCTP', 14)).toBe(14);
    expect(at('NCPT', 18)).toBe(14);
    expect(at('NTPC', 5)).toBe(14);
    expect(at('NPTC', 13)).toBe(14);
    // (c=0, t=2, p=1) = 9: NTP [3, 4] -> 9; NPT [4, 3] -> 1*3 + 2 = 5.
    const mono = { ...base, channels: ['frame'] as InputSpec['channels'] };
    const r1 = new PianoRoll(rollLayoutOf(mono), 3);
    r1.data.forEach((_, i) => (r1.data[i] = i));
    expect(rollsToBatch([r1], { ...mono, layout: 'NTP' })[9]).toBe(9);
    expect(rollsToBatch([r1], { ...mono, layout: 'NPT' })[5]).toBe(9);
  });

  it('checks declared dims in the layout and refuses several channels without a C axis', () => {
    expect(() =>
      checkInputShape('m.onnx', { ...base, layout: 'NTPC' }, ['n', 3, 4, 2]),
    ).not.toThrow();
    expect(() => checkInputShape('m.onnx', { ...base, layout: 'NTPC' }, ['n', 2, 3, 4])).toThrow(
      "input spec gives windowFrames = 3 (layout NTPC) but the model's input dimension 1 is 2",
    );
    expect(() => checkInputShape('m.onnx', { ...base, layout: 'NTP' }, ['n', 3, 4, 2])).toThrow(
      'input has 4 dimensions, but layout NTP has 3',
    );
    const labels = { 'concept_lens.labels': '["A","B"]' };
    expect(() =>
      resolveDescription('m.onnx', labels, { input: { ...base, layout: 'NTP' } }),
    ).toThrow(UserError);
    expect(() =>
      resolveDescription('m.onnx', labels, { input: { ...base, layout: 'NTP' } }),
    ).toThrow('a layout without a channel axis (NTP, NPT) takes exactly one channel');
  });
});

describe('layer maps: rows are time, columns pitch, whatever the axis order', () => {
  // value(c, t, p) = 100 c + 10 t + p, laid out as [C, T, P] and as [C, P, T].
  const [C, T, P] = [2, 3, 4];
  const nctp = new Float32Array(C * T * P);
  const ncpt = new Float32Array(C * T * P);
  for (let c = 0; c < C; c++)
    for (let t = 0; t < T; t++)
      for (let p = 0; p < P; p++) {
        nctp[(c * T + t) * P + p] = 100 * c + 10 * t + p;
        ncpt[(c * P + p) * T + t] = 100 * c + 10 * t + p;
      }

  it('indexes features at each (time, pitch) position', () => {
    const a = layerMap([C, T, P], ['channel', 'time', 'pitch']);
    const b = layerMap([C, P, T], ['channel', 'pitch', 'time']);
    expect([a.rows, a.cols, a.features]).toEqual([3, 4, 2]);
    expect([b.rows, b.cols, b.features]).toEqual([3, 4, 2]);
    const gather = (map: typeof a, x: Float32Array) => Array.from(map.index, (i) => x[i]);
    expect(gather(a, nctp)).toEqual(gather(b, ncpt));
    // Position q = t * cols + p; feature c: (t=2, p=1, c=1) = 121.
    expect(gather(a, nctp)[(2 * 4 + 1) * 2 + 1]).toBe(121);
  });

  it('maps sequence layers over time only, and pooled maps not at all', () => {
    const seq = layerMap([48, 32], ['time', 'hidden']);
    expect([seq.rows, seq.cols, seq.features, seq.localised]).toEqual([48, 1, 32, true]);
    const hiddenFirst = layerMap([32, 48], ['hidden', 'time']);
    expect(hiddenFirst.index[1 * 32 + 5]).toBe(5 * 48 + 1); // time 1, hidden 5
    const pooled = layerMap([128, 1, 1], ['channel', 'time', 'pitch']);
    expect(pooled.localised).toBe(false);
    expect(pooled.reason).toBe('its time and pitch axes have length 1 (pooled away)');
  });

  it('averages k-means features over the time axis wherever it is', () => {
    const a = clusterFeatures(nctp, 1, [C, T, P], ['channel', 'time', 'pitch']);
    const b = clusterFeatures(ncpt, 1, [C, P, T], ['channel', 'pitch', 'time']);
    expect(b[0].map((v) => v.toFixed(6))).toEqual(a[0].map((v) => v.toFixed(6)));
    // Feature (c, p) is the mean over t of 100 c + 10 t + p = 100 c + 10 + p, then unit length.
    const want = [0, 1].flatMap((c) => [0, 1, 2, 3].map((p) => 100 * c + 10 + p));
    const length = Math.hypot(...want);
    a[0].forEach((v, i) => expect(v).toBeCloseTo(want[i] / length, 6));
  });
});

describe('axes propagated through foreign graphs', () => {
  it('labels a [time, hidden] layer after attention run at a fixed batch of 1', async () => {
    const c = await ComposerClassifier.load(model('attention_fixed_b1'));
    expect(c.batchInfo.mode).toBe('fixed');
    expect(c.layer('norm').axes).toEqual(['time', 'hidden']);
    expect(c.layer('conv').axes).toEqual(['channel', 'time', 'pitch']);
    // The permuted view before the frame-wise embedding is [time, channel, pitch], not a C,T,P map.
    expect(c.layer('Transpose').axes).toEqual(['time', 'channel', 'pitch']);
    expect(c.layer('ff').nonNegative).toBe(true);
    expect(c.layer('norm').nonNegative).toBe(false);
    await c.release();
  });

  it('explains why a valid cut whose first axis is not the batch is not a layer', async () => {
    const c = await ComposerClassifier.load(model('crnn_onset'));
    expect(() => c.layer('/gru/Reshape_output_0')).toThrow(
      /"\/gru\/Reshape_output_0" is a valid cut, but not one concept-lens can explain at: its first axis is not the batch \(\[time 48 x batch 3 x hidden 32\]\)/,
    );
    await c.release();
  });
});

describe('default layers from axes', () => {
  const layer = (
    name: string,
    shape: number[],
    axes: AxisLabel[],
    nonNegative = true,
  ): LayerInfo => ({
    name,
    aliases: [],
    tensor: name,
    shape,
    axes,
    nonNegative,
  });
  const vgg = [
    layer('features.2', [64, 400, 88], ['channel', 'time', 'pitch']),
    layer('features.5', [128, 100, 22], ['channel', 'time', 'pitch']),
    layer('features.8', [128, 50, 11], ['channel', 'time', 'pitch'], false),
    layer('avgpool', [128, 1, 1], ['channel', 'time', 'pitch']),
    layer('fc', [10], ['hidden']),
  ];
  const crnn = [
    layer('conv', [8, 48, 22], ['channel', 'time', 'pitch']),
    layer('Transpose', [48, 8, 22], ['time', 'channel', 'pitch']),
    layer('gru', [48, 32], ['time', 'hidden'], false),
    layer('norm', [48, 32], ['time', 'hidden'], false),
    layer('ReduceMean', [32], ['hidden'], false),
  ];

  it('discovers at the deepest map (non-negative for NMF), never at a pooled map', () => {
    expect(defaultDiscoveryLayer(vgg, 'nmf').name).toBe('features.5');
    expect(defaultDiscoveryLayer(vgg, 'kmeans').name).toBe('features.8');
    expect(defaultDiscoveryLayer(crnn, 'nmf').name).toBe('Transpose');
    expect(defaultDiscoveryLayer(crnn, 'kmeans').why).toBe(
      'norm [time 48 x hidden 32]: the deepest layer with a time or pitch map',
    );
    expect(defaultTcavLayer(crnn).name).toBe('gru'); // conv, Transpose, gru, norm: the middle one
    expect(defaultTcavLayer(vgg).why).toMatch(
      /the middle one of the 3 layers with a time or pitch map/,
    );
  });

  it('warns when a layer has no map to localise', () => {
    expect(mapWarning(vgg[3])).toBe(
      'layer avgpool [channel 128 x time 1 x pitch 1] cannot localise concepts within an excerpt: its time and pitch axes have length 1 (pooled away); discovered concepts are exported as whole excerpts',
    );
    expect(mapWarning(vgg[1])).toBeUndefined();
  });
});
