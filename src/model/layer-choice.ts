import { UserError } from '../util/errors.ts';
import { describeAxes, layerMap } from './axes.ts';
import type { LayerInfo } from './graph.ts';

/**
 * Which layer to explain at when the user names none, decided from the layers' axes (not their
 * rank: a [time, channel, pitch] view before a recurrent layer has rank 3 too, and a VGG's pooled
 * [128, 1, 1] map has nothing left to localise), with the reason said to the user.
 */
export interface LayerChoice {
  name: string;
  why: string;
}

/** A layer with a time or pitch axis longer than 1: its activations say where in the excerpt. */
export function hasMap(layer: LayerInfo): boolean {
  return layerMap(layer.shape, layer.axes).localised;
}

function label(layer: LayerInfo): string {
  return `${layer.name} [${describeAxes(layer.shape, layer.axes)}]`;
}

/** TCAV: `layer3` in a ResNet, else the middle one of the layers with a map (mid-level features). */
export function defaultTcavLayer(all: LayerInfo[]): LayerChoice {
  // A view of the piano roll itself (the input transposed or reshaped) holds no learnt features.
  const learnt = all.filter((l) => !l.inputView);
  const layers = learnt.length > 0 ? learnt : all;
  const resnet = layers.find((l) => l.name === 'layer3');
  if (resnet) return { name: 'layer3', why: `${label(resnet)}: a ResNet's third stage` };
  const maps = layers.filter(hasMap);
  const pool = maps.length > 0 ? maps : layers;
  const chosen = pool[Math.floor(pool.length / 2)];
  return {
    name: chosen.name,
    why:
      maps.length > 0
        ? `${label(chosen)}: the middle one of the ${maps.length} layers with a time or pitch map`
        : `${label(chosen)}: the middle layer (no layer has a time or pitch map)`,
  };
}

/**
 * Discovery: NMF wants the deepest layer with a map whose values are non-negative (after a ReLU);
 * k-means `layer3` in a ResNet, else the deepest layer with a map.
 *
 * NMF factorises non-negative values only. A model whose maps can all be negative (a transformer:
 * LayerNorm and residual sums, a GELU inside a residual block) has no layer NMF applies to by
 * default; rather than refusing after a pass over the corpus, the choice stops at once with one
 * line that names what works: a non-negative layer without a map (concepts as whole excerpts), or
 * k-means, which takes any layer.
 */
export function defaultDiscoveryLayer(
  layers: LayerInfo[],
  method: 'kmeans' | 'nmf',
  /** The command's flag naming discovery layers, for the stop message. */
  layerFlag = '--layers',
): LayerChoice {
  if (method === 'kmeans') {
    const resnet = layers.find((l) => l.name === 'layer3');
    if (resnet) return { name: 'layer3', why: `${label(resnet)}: a ResNet's third stage` };
  }
  // A view of the piano roll itself (the input transposed or reshaped) holds no learnt features.
  layers = layers.filter((l) => !l.inputView);
  if (layers.length === 0)
    throw new UserError('the model has no layer past its input to discover concepts at');
  const maps = layers.filter(hasMap);
  if (method === 'nmf') {
    const nonNegative = maps.filter((l) => l.nonNegative);
    if (nonNegative.length > 0) {
      const chosen = nonNegative[nonNegative.length - 1];
      return {
        name: chosen.name,
        why: `${label(chosen)}: the deepest layer with a time or pitch map whose values are non-negative, as NMF needs`,
      };
    }
    const flat = layers.filter((l) => l.nonNegative);
    const kmeans = maps.length > 0 ? maps[maps.length - 1].name : layers[layers.length - 1].name;
    throw new UserError(
      `no layer of this model has a time or pitch map whose values are non-negative, as NMF needs (its maps can be negative: LayerNorm, residual sums); ` +
        (flat.length > 0
          ? `pass ${layerFlag} ${flat[flat.length - 1].name} (non-negative, no map: concepts as whole excerpts) or `
          : '') +
        `use --method kmeans (default layer ${kmeans})`,
    );
  }
  if (maps.length > 0) {
    const chosen = maps[maps.length - 1];
    return {
      name: chosen.name,
      why: `${label(chosen)}: the deepest layer with a time or pitch map`,
    };
  }
  const chosen = layers[layers.length - 1];
  return {
    name: chosen.name,
    why: `${label(chosen)}: the deepest layer (no layer has a time or pitch map)`,
  };
}

/** A warning when concepts found at this layer cannot be localised within an excerpt. */
export function mapWarning(layer: LayerInfo): string | undefined {
  const map = layerMap(layer.shape, layer.axes);
  if (map.localised) return undefined;
  return `layer ${label(layer)} cannot localise concepts within an excerpt: ${map.reason}; discovered concepts are exported as whole excerpts`;
}
