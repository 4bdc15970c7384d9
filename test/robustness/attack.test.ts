/**
 * The attack on the shipped synthetic model (issue 16's must-show): the greedy search needs fewer
 * edits than random edits, and every adversarial excerpt, written as MIDI and read back by the
 * normal reader, gets the same (changed) prediction from the model.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConceptLens } from '../../src/lens/lens.ts';
import { readMidiFile } from '../../src/midi/read.ts';
import { renderRoll } from '../../src/midi/render.ts';
import { rollsToBatch } from '../../src/model/input.ts';
import type { AttackResults, AttackSearch } from '../../src/results/attack.ts';
import { excerptGrid, loadExcerpts, selectExcerpts } from '../../src/robustness/excerpts.ts';
import { attackModel } from '../../src/robustness/model.ts';
import { ATTACK_DEFAULTS, runAttack } from '../../src/robustness/run.ts';
import { searchEdits } from '../../src/robustness/search.ts';
import { SMALL_EDIT_COST } from '../../src/edits/candidates.ts';
import { SYNTHETIC_MODEL } from '../synthetic/helpers.ts';

const BUDGET = 40;

describe('attack on the synthetic model', () => {
  let lens: ConceptLens;
  let out: string;
  let attack: AttackResults;

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'cl-attack-'));
    lens = await ConceptLens.open({ model: SYNTHETIC_MODEL, corpus: 'synthetic', cacheDir: false });
    attack = await runAttack(lens, {
      split: 'test',
      splitSeed: 1,
      excerpts: 6,
      seed: 1,
      targets: lens.targets(),
      budgets: [1, 2, 5, 10, 20, BUDGET],
      shares: ATTACK_DEFAULTS.shares,
      searches: ['greedy', 'random'],
      candidates: ATTACK_DEFAULTS.candidates,
      fallbackCandidates: ATTACK_DEFAULTS.fallbackCandidates,
      writeFile: (rel) => join(out, rel),
    });
  }, 600_000);
  afterAll(async () => {
    await lens?.close();
    rmSync(out, { recursive: true, force: true });
  });

  it('attacks the correctly classified excerpts of the test split, guided by exact input gradients', () => {
    expect(attack.ranking).toBe('input-gradients');
    expect(attack.excerpts).toBe(6);
    expect(attack.correct).toBeGreaterThanOrEqual(5); // the model is right on its test split
    expect(attack.attacked).toHaveLength(attack.correct);
  });

  it('the greedy search needs fewer edits than random edits, on average', () => {
    // Edits needed per excerpt; an attack that fails within the budget needs more than the budget,
    // so BUDGET + 1 is a lower bound for it (it only flatters the random search, which fails most).
    const needed = (s: AttackSearch) =>
      attack.attacked.map((x) => (x.outcomes[s]!.success ? x.outcomes[s]!.edits : BUDGET + 1));
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    const greedy = needed('greedy');
    const random = needed('random');
    expect(mean(greedy)).toBeLessThan(mean(random));
    // And excerpt by excerpt: greedy never needs more than random.
    greedy.forEach((g, i) => expect(g).toBeLessThanOrEqual(random[i]));
    expect(greedy.filter((g) => g <= BUDGET).length).toBeGreaterThan(
      random.filter((r) => r <= BUDGET).length,
    );
  });

  it('every adversarial excerpt round-trips through MIDI write/read to the same prediction', async () => {
    let checked = 0;
    for (const x of attack.attacked) {
      for (const o of Object.values(x.outcomes)) {
        if (!o.success) continue;
        const predict = async (rel: string) => {
          const notes = readMidiFile(join(out, rel)).notes;
          const roll = renderRoll(
            notes,
            lens.layout,
            lens.classifier.input.windowFrames / lens.layout.fps,
          );
          const { logits } = await lens.classifier.run(
            rollsToBatch([roll], lens.classifier.input),
            1,
          );
          return lens.labels[logits.indexOf(Math.max(...logits))];
        };
        expect(await predict(o.midi!.original)).toBe(x.composer);
        expect(await predict(o.midi!.adversarial)).toBe(o.predicted);
        expect(o.predicted).not.toBe(x.composer);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('without input gradients, the greedy search lets the model score random candidates', async () => {
    const { loaded } = loadExcerpts(
      lens,
      selectExcerpts(lens, {
        split: 'test',
        splitSeed: 1,
        count: 2,
        seed: 1,
        targets: lens.targets(),
      }),
    );
    const model = { ...(await attackModel(lens.classifier)), gradients: undefined };
    const logits = await model.logits(loaded.map((x) => x.roll));
    const labels = loaded.map((x) => lens.labels.indexOf(x.excerpt.composer));
    const results = await searchEdits(
      'greedy',
      model,
      loaded,
      labels,
      logits,
      lens.layout,
      excerptGrid(lens),
      {
        budget: 2,
        candidates: 8,
        fallbackCandidates: 8,
        seed: 1,
      },
    );
    for (const r of results) {
      expect(r.edits).toHaveLength(2);
      expect(r.logitsAfter).not.toEqual(r.logitsBefore);
    }
  });

  it('lists each attack’s edits for a musician: which note, where, what change', () => {
    for (const x of attack.attacked) {
      const o = x.outcomes.greedy!;
      if (!o.success) continue;
      expect(o.list).toHaveLength(o.edits);
      for (const e of o.list!) {
        expect(e.text).toMatch(/^(delete|add|play|lengthen|shorten|move) [A-G][♯♭𝄪𝄫]*-?\d at /);
        expect(e.costText).toMatch(/^cost /);
        expect(e.time).toBeGreaterThanOrEqual(x.start - 1e-6);
        expect(e.time).toBeLessThanOrEqual(x.end + 1e-6);
      }
      const text = readFileSync(join(out, o.midi!.edits), 'utf8');
      for (const e of o.list!) expect(text).toContain(e.text);
    }
  });

  it('makes small edits first: larger ones only where small ones failed, never a same-pitch overlap', () => {
    let small = 0;
    for (const x of attack.attacked)
      for (const search of ['greedy', 'random'] as const) {
        const o = x.outcomes[search]!;
        if (search === 'random') expect(o.tier).toBe('small');
        if (!o.success) continue;
        const costs = o.list!.map((e) => e.cost!);
        expect(o.cost).toBeCloseTo(
          costs.reduce((a, b) => a + b, 0),
          9,
        );
        if (o.tier === 'small') {
          small++;
          for (const e of o.list!) {
            expect(e.cost).toBeLessThanOrEqual(SMALL_EDIT_COST);
            expect(e.kind).not.toBe('octave');
          }
        }
        // The adversarial MIDI file as written: no two notes of one pitch overlap where an edit is.
        const notes = readMidiFile(join(out, o.midi!.adversarial)).notes;
        const edited = o.list!.flatMap((e) => (e.to ? [e.to] : []));
        for (const t of edited)
          expect(
            notes.filter(
              (n) => n.pitch === t.pitch && n.onset < t.offset - 2e-3 && t.onset < n.offset - 2e-3,
            ),
          ).toHaveLength(1);
      }
    expect(small).toBeGreaterThan(0);
  });
});
