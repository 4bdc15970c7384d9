import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LayerInfo } from '../../src/model/graph.ts';
import { defaultDiscoveryLayer, defaultTcavLayer } from '../../src/model/layer-choice.ts';
import type { RunResults } from '../../src/results/results.ts';
import { UserError } from '../../src/util/errors.ts';
import { CORPUS, FAST, FAST_DISCOVERY, model } from '../foreign/helpers.ts';
import { runMain, tempDir } from '../helpers/cli.ts';

/**
 * NMF factorises non-negative values. On a model whose maps can all be negative (a transformer:
 * LayerNorm, residual sums, a GELU inside a residual block) the default discovery stops at once
 * with one line naming what works; on a model with LayerNorm and a ReLU map (the foreign
 * `attention` model) it picks the ReLU map and runs.
 */
const TRANSFORMER = join(import.meta.dirname, '..', 'fixtures', 'outputs', 'transformer_gelu.onnx');
const tmp = tempDir('cl-negative-');

const layer = (
  name: string,
  shape: number[],
  axes: LayerInfo['axes'],
  nonNegative: boolean,
  inputView = false,
): LayerInfo => ({
  name,
  aliases: [],
  tensor: name,
  shape,
  axes,
  nonNegative,
  ...(inputView ? { inputView } : {}),
});

describe('discovery on models whose activations can be negative', () => {
  const transformer = [
    layer('Gather', [48, 88], ['time', 'pitch'], true, true),
    layer('embed', [48, 32], ['time', 'hidden'], false),
    layer('encoder.norm1', [48, 32], ['time', 'hidden'], false),
    layer('encoder', [48, 32], ['time', 'hidden'], false),
    layer('head', [16], ['hidden'], true),
  ];

  it('never takes a view of the piano roll itself as a default layer', () => {
    expect(defaultDiscoveryLayer(transformer, 'kmeans').name).toBe('encoder');
    expect(defaultTcavLayer(transformer).name).toBe('encoder.norm1');
  });

  it('stops NMF with one line naming a non-negative layer and k-means', () => {
    const err = (() => {
      try {
        defaultDiscoveryLayer(transformer, 'nmf', '--discovery-layers');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toContain(
      'pass --discovery-layers head (non-negative, no map: concepts as whole excerpts) or use --method kmeans (default layer encoder)',
    );
  });

  it('explain with default flags on a transformer stops at once with one line, writing nothing', async () => {
    const out = join(tmp, 'transformer');
    const r = await runMain(['explain', '--model', TRANSFORMER, '--corpus', CORPUS, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toBe(
      `concept-lens: ${TRANSFORMER}: no layer of this model has a time or pitch map whose values are non-negative, as NMF needs (its maps can be negative: LayerNorm, residual sums); use --method kmeans (default layer encoder)`,
    );
    expect(existsSync(out)).toBe(false);
    // What the line says works.
    const kmeans = await runMain([
      'explain',
      '--model',
      TRANSFORMER,
      '--corpus',
      CORPUS,
      '--method',
      'kmeans',
      '--skip-tcav',
      ...FAST_DISCOVERY,
      ...FAST,
      '--null-concepts',
      '20',
      '--out',
      out,
    ]);
    expect(kmeans.code, kmeans.stderr).toBe(0);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as RunResults;
    expect(results.discovery?.layer).toBe('encoder');
  }, 300_000);

  it('explain with default layers on a model with LayerNorm and a ReLU map runs NMF there', async () => {
    const out = join(tmp, 'attention');
    const r = await runMain([
      'explain',
      '--model',
      model('attention'),
      '--corpus',
      CORPUS,
      '--skip-tcav',
      ...FAST_DISCOVERY,
      '--no-cache',
      '--quiet',
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as RunResults;
    expect(results.discovery).toMatchObject({ method: 'nmf', layer: 'ff' });
  }, 300_000);
});
