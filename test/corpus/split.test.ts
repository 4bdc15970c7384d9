import { describe, expect, it } from 'vitest';
import { splitPieces } from '../../src/corpus/split.ts';
import type { CorpusEntry } from '../../src/corpus/types.ts';

/** A corpus where every piece has several performances, as in ASAP. */
function corpus(): CorpusEntry[] {
  const entries: CorpusEntry[] = [];
  const sizes: Record<string, number> = { Bach: 20, Chopin: 7, Haydn: 3, Solo: 1 };
  for (const [composer, pieces] of Object.entries(sizes)) {
    for (let p = 0; p < pieces; p++) {
      for (let k = 0; k <= p % 4; k++) {
        const piece = `${composer}/piece${p}`;
        entries.push({ path: `/x/${piece}/${k}.mid`, file: `${piece}/${k}.mid`, composer, piece });
      }
    }
  }
  return entries;
}

describe('splitPieces', () => {
  it('never puts one piece on two sides and covers every piece', () => {
    const entries = corpus();
    const split = splitPieces(entries, { seed: 3 });
    const sides = new Map<string, Set<string>>();
    for (const e of entries) {
      if (!sides.has(e.piece)) sides.set(e.piece, new Set());
      sides.get(e.piece)!.add(split.get(e.piece)!);
    }
    expect([...sides.values()].every((s) => s.size === 1)).toBe(true);
    expect(split.size).toBe(new Set(entries.map((e) => e.piece)).size);
  });

  it('gives each composer with 3+ pieces a validation and a test piece, in 70/15/15 shares', () => {
    const split = splitPieces(corpus(), { seed: 3 });
    const count = (composer: string, side: string) =>
      [...split].filter(([p, s]) => p.startsWith(`${composer}/`) && s === side).length;
    expect([count('Bach', 'train'), count('Bach', 'validation'), count('Bach', 'test')]).toEqual([
      14, 3, 3,
    ]);
    expect([count('Haydn', 'train'), count('Haydn', 'validation'), count('Haydn', 'test')]).toEqual(
      [1, 1, 1],
    );
    expect(count('Solo', 'train')).toBe(1);
  });

  it('is deterministic for a seed, independent of file order, and changes with the seed', () => {
    const entries = corpus();
    const a = splitPieces(entries, { seed: 7 });
    const b = splitPieces([...entries].reverse(), { seed: 7 });
    expect([...a].sort()).toEqual([...b].sort());
    const c = splitPieces(entries, { seed: 8 });
    expect([...a].sort()).not.toEqual([...c].sort());
  });
});
