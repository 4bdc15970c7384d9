import type { TcavEntry } from '../../results/results.ts';
import { esc } from '../escape.ts';
import { fmtP, fmtSig } from '../svg.ts';

/**
 * The report's stability section (runs with `--seeds N`): every TCAV cell that was significant in
 * at least one seed, with the number of seeds that called it, and whether it held in all of them
 * (stable). Empty when the run used one seed.
 */
export function stabilitySection(entries: readonly TcavEntry[]): string {
  const withStability = entries.filter((e) => e.stability);
  if (withStability.length === 0) return '';
  const seeds = withStability[0].stability!.seeds;
  const ever = withStability.filter(
    (e) => e.stability!.significantUp + e.stability!.significantDown > 0,
  );
  const stable = ever.filter((e) => e.stability!.stable);
  ever.sort(
    (a, b) =>
      Number(b.stability!.stable) - Number(a.stability!.stable) ||
      b.stability!.significantUp +
        b.stability!.significantDown -
        (a.stability!.significantUp + a.stability!.significantDown) ||
      a.concept.localeCompare(b.concept) ||
      a.target.localeCompare(b.target),
  );
  const range = (xs: number[], f: (x: number) => string) =>
    `${f(Math.min(...xs))} … ${f(Math.max(...xs))}`;
  const rows = ever
    .map((e) => {
      const s = e.stability!;
      const called = s.significantUp + s.significantDown;
      const direction =
        s.significantUp && s.significantDown ? 'both ways' : s.significantUp ? 'raises' : 'lowers';
      return `<tr${s.stable ? ' class="stable"' : ''}><td>${esc(e.concept)}</td><td>${esc(e.target)}</td><td><code>${esc(e.layer)}</code></td><td>${direction}</td><td>${called} of ${s.seeds.length}</td><td>${s.stable ? '✓ stable' : 'unstable'}</td><td>${range(s.effects, fmtSig)}</td><td>${range(s.pValuesCorrected, fmtP)}</td></tr>`;
    })
    .join('');
  const intro = `<p>The TCAV run was repeated with ${seeds.length} seeds (${esc(seeds.join(', '))}); each seed draws new composer excerpts, random counterexamples and random concepts. A verdict is <strong>stable</strong> when it is significant in every seed, in the same direction; ${stable.length} of the ${ever.length} concept–composer pairs significant in at least one seed are stable. Read the unstable ones as “not established”.</p>`;
  const table = ever.length
    ? `<table><thead><tr><th>Concept</th><th>Composer</th><th>Layer</th><th>Direction</th><th>Significant in</th><th>Verdict</th><th>Effect over seeds</th><th>p corrected over seeds</th></tr></thead><tbody>${rows}</tbody></table>`
    : '<p class="muted">No cell was significant in any seed.</p>';
  return `<section id="stability"><h2>Stability across seeds</h2>${intro}${table}</section>`;
}
