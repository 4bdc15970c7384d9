import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { stabilityNote } from '../../src/cli/commands/tcav.ts';
import type { RunResults, TcavEntry } from '../../src/results/results.ts';
import { REPO, runMain, tempDir } from '../helpers/cli.ts';

const tmp = tempDir('cl-tcav-seeds-');

// Small settings on the synthetic model: the flags reach the run and the results say what was done.
const SMALL = [
  '--corpus',
  'synthetic',
  '--concepts',
  join(REPO, 'concepts/textures/alberti.yaml'),
  join(REPO, 'concepts/textures/trill.yaml'),
  '--targets',
  'Albertini',
  'Kantorius',
  '--random-runs',
  '4',
  '--set-size',
  '10',
  '--target-excerpts',
  '10',
  '--pool-size',
  '80',
  '--quiet',
];
// A null of 20 random concepts decides little: its cells are undecided (decide.ts). The seeds test
// gives the sequential decisions a budget that decides the planted cell; FastCAV random concepts
// over the bank of counterexample sets cost microseconds.
const NULL_SMALL = ['--null-concepts', '20'];
const NULL_DECIDING = ['--null-concepts', '8000'];

describe('concept-lens tcav --seeds, --cav', () => {
  it('repeats the run over seeds and marks each cell with how its verdict held', async () => {
    const out = join(tmp, 'seeds');
    const { code } = await runMain([
      'tcav',
      '--model',
      join(REPO, 'models/synthetic.onnx'),
      ...SMALL,
      ...NULL_DECIDING,
      '--seed',
      '4',
      '--seeds',
      '3',
      '--out',
      out,
    ]);
    expect(code).toBe(0);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as RunResults;
    expect(results.run.parameters).toMatchObject({
      seeds: [4, 5, 6],
      nullConcepts: 8000,
      cav: 'fast',
    });
    expect(results.tcav).toHaveLength(4);
    for (const e of results.tcav) {
      expect(e.stability!.seeds).toEqual([4, 5, 6]);
      expect(e.stability!.effects).toHaveLength(3);
      expect(e.stability!.effects[0]).toBe(e.effect); // the cells are the first seed's
      const called = e.stability!.significantUp + e.stability!.significantDown;
      expect(e.stability!.stable).toBe(called === 3 && e.stability!.significantUp % 3 === 0);
      expect(e).toMatchObject({
        cav: 'fast',
        runs: 4,
        counterexamples: 'random',
      });
    }
    // alberti raises its composer in every seed, even with these small settings, and no cell
    // reverses (significant in one seed, not significant in another).
    const alberti = results.tcav.find((e) => e.concept === 'alberti' && e.target === 'Albertini')!;
    expect(alberti.stability).toMatchObject({ significantUp: 3, stable: true });
    for (const e of results.tcav) expect(e.stability!.reversed).toBe(false);
  });

  it('says how often a cell was significant in its own direction', () => {
    const cell = (significantUp: number, significantDown: number, undecided: number) =>
      ({
        stability: {
          seeds: Array.from({ length: 10 }, (_, i) => i + 1),
          significantUp,
          significantDown,
          undecided,
          stable: significantUp === 10 || significantDown === 10,
          reversed: false,
        },
      }) as unknown as TcavEntry;
    // A lowering cell significant in 7 seeds (it once read "0/10 seeds", counting raises only).
    expect(stabilityNote(cell(0, 7, 3))).toBe(' (significant in 7 of 10 seeds, undecided in 3)');
    expect(stabilityNote(cell(4, 0, 6))).toBe(' (significant in 4 of 10 seeds, undecided in 6)');
    expect(stabilityNote(cell(0, 10, 0))).toBe(' (stable)');
    expect(stabilityNote(cell(2, 1, 0))).toBe(' (raises in 2, lowers in 1 of 10 seeds)');
  });

  it('takes --cav logistic and rejects a bad --seeds with exit code 2', async () => {
    const out = join(tmp, 'logistic');
    const model = join(REPO, 'models/synthetic.onnx');
    expect(
      await main([
        'tcav',
        '--model',
        model,
        ...SMALL,
        ...NULL_SMALL,
        '--cav',
        'logistic',
        '--out',
        out,
      ]),
    ).toBe(0);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as RunResults;
    expect(results.tcav.every((e) => e.cav === 'logistic')).toBe(true);
    const bad = await runMain([
      'tcav',
      '--model',
      model,
      ...SMALL,
      ...NULL_SMALL,
      '--seeds',
      '0',
      '--out',
      join(tmp, 'bad'),
    ]);
    expect(bad.code).toBe(2);
  });

  it('reads effects over --effect-windows windows, says so per cell, and rejects a negative count', async () => {
    const model = join(REPO, 'models/synthetic.onnx');
    const out = join(tmp, 'effect-windows');
    const ok = await runMain([
      'tcav',
      '--model',
      model,
      ...SMALL,
      ...NULL_SMALL,
      '--effect-windows',
      '25',
      '--out',
      out,
    ]);
    expect(ok.code).toBe(0);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as RunResults;
    expect(results.run.parameters).toMatchObject({ effectWindows: 25 });
    expect(results.tcav.every((e) => e.effectWindows === 25)).toBe(true);
    const bad = await runMain([
      'tcav',
      '--model',
      model,
      ...SMALL,
      ...NULL_SMALL,
      '--effect-windows',
      '-1',
      '--out',
      join(tmp, 'bad-effect-windows'),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--effect-windows');
  });
});
