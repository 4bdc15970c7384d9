import type { ConceptLens } from '../lens/lens.ts';
import type { TcavEntry } from '../results/results.ts';
import { UserError } from '../util/errors.ts';
import { runTcav, type PreparedConcept, type TcavOptions } from './run.ts';

/**
 * The same TCAV run over several seeds. Each seed redraws everything random (target excerpts, the
 * random pool, counterexample sets, random concepts, holdout splits), so a verdict that holds in
 * every seed does not rest on one draw. The cells returned are the first seed's, each with its
 * `stability`: in how many seeds it was significant, in which direction, and whether it was
 * significant in all of them in one direction (`stable`).
 */
export async function runTcavSeeds(
  lens: ConceptLens,
  concepts: PreparedConcept[],
  options: TcavOptions,
  seeds: number[],
): Promise<TcavEntry[]> {
  if (seeds.length === 0) throw new UserError('--seeds: at least one seed is needed');
  const runs: TcavEntry[][] = [];
  for (const [i, seed] of seeds.entries()) {
    // Concept banks keep the first seed's CAVs, the ones the returned cells describe.
    runs.push(
      await runTcav(lens, concepts, {
        ...options,
        seed,
        onCavs: i === 0 ? options.onCavs : undefined,
      }),
    );
  }
  return seeds.length > 1 ? withStability(runs, seeds) : runs[0];
}

/** The first run's cells, each with how its verdict held in the others (cells matched by concept, layer, target). */
export function withStability(runs: TcavEntry[][], seeds: number[]): TcavEntry[] {
  const key = (e: TcavEntry) => `${e.concept}\u0000${e.layer}\u0000${e.target}`;
  const maps = runs.map((r) => new Map(r.map((e) => [key(e), e])));
  return runs[0].map((cell) => {
    const across = maps.map((m) => m.get(key(cell)));
    if (across.some((e) => !e)) throw new Error(`cell ${key(cell)} is missing from a seed's run`);
    const all = across as TcavEntry[];
    const up = all.filter((e) => e.significant && e.effect > e.randomEffect).length;
    const down = all.filter((e) => e.significant && e.effect < e.randomEffect).length;
    const undecided = all.filter((e) => e.outcome === 'undecided').length;
    const kept = all.filter((e) => e.outcome === 'not significant').length;
    return {
      ...cell,
      stability: {
        seeds,
        significantUp: up,
        significantDown: down,
        stable: up === all.length || down === all.length,
        undecided,
        // A reversal: decided significant in one seed and decided not significant in another.
        reversed: up + down > 0 && kept > 0,
        outcomes: all.map((e) => e.outcome ?? (e.significant ? 'significant' : 'not significant')),
        effects: all.map((e) => e.effect),
        pValuesCorrected: all.map((e) => e.pValueCorrected),
      },
    };
  });
}

/**
 * Share of the cells significant in any seed that are significant, in one direction, in all of
 * them (the stability figure); NaN when no cell was ever significant.
 */
export function stableShare(cells: readonly TcavEntry[]): {
  anySeed: number;
  allSeeds: number;
  share: number;
} {
  const ever = cells.filter(
    (c) => c.stability && c.stability.significantUp + c.stability.significantDown > 0,
  );
  const stable = ever.filter((c) => c.stability!.stable);
  return {
    anySeed: ever.length,
    allSeeds: stable.length,
    share: ever.length ? stable.length / ever.length : NaN,
  };
}
