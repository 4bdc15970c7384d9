import { esc } from '../escape.ts';
import type { RunResults } from '../../results/results.ts';

/**
 * One sentence on where discovered concepts are localised: the layer's axes and the grid the
 * yellow shading is drawn on (rows are always time, columns pitch), or why there is none.
 */
export function discoveryMapNote(discovery: RunResults['discovery']): string {
  if (!discovery) return '';
  const { axes, map } = discovery;
  const layer = axes ? ` (axes ${esc(axes)})` : '';
  if (discovery.unlocalised)
    return ` <span class="notrun">The layer${layer} has no map: ${esc(discovery.unlocalised.replace(/^the layer cannot localise concepts: /, ''))}, so excerpts are shown whole.</span>`;
  if (map && discovery.method === 'nmf') {
    const grid =
      map.cols > 1
        ? `${map.rows} time steps × ${map.cols} pitch bands`
        : `${map.rows} time steps (the layer has no pitch axis, so each step spans all pitches)`;
    return ` Yellow shading shows where a concept is active in the layer${layer}: a grid of ${grid} over the window.`;
  }
  return '';
}
