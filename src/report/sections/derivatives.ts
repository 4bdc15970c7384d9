import type { RunResults } from '../../results/results.ts';
import { esc } from '../escape.ts';

/**
 * "What was run": how derivatives were taken at each layer, exact gradients or finite
 * differences, with the reason when a layer fell back (an op without a backward rule).
 */
export function derivativesRows(r: RunResults): [string, string][] {
  if (!r.layers || r.layers.length === 0) return [];
  const items = r.layers.map((l) => {
    const how =
      l.derivatives === 'exact'
        ? 'exact gradients (reverse mode)'
        : `finite differences${l.note ? ` <span class="muted">(${esc(l.note)})</span>` : ''}`;
    return `<code>${esc(l.name)}</code>: ${how}`;
  });
  return [['Derivatives', items.join('<br>')]];
}
