import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { ConceptLens } from '../../src/lens/lens.ts';
import { readMidiFile } from '../../src/midi/read.ts';
import type { SimilarResults } from '../../src/results/similar.ts';
import { PassageExporter } from '../../src/retrieval/export.ts';
import { hubAttack, type HubAttackResult } from '../../src/retrieval/hub-attack.ts';
import { INDEX_DEFAULTS, RetrievalIndex } from '../../src/retrieval/index.ts';
import { applyEdits, editGrid } from '../../src/edits/index.ts';
import { tempDir } from '../helpers/cli.ts';
import { SYNTHETIC_MODEL } from '../synthetic/helpers.ts';

const tmp = tempDir('cl-hub-attack-');
const cacheDir = join(tmp, 'cache');
let lens: ConceptLens;
let index: RetrievalIndex;
let result: HubAttackResult;

describe('the hub attack on the synthetic corpus', () => {
  beforeAll(async () => {
    lens = await ConceptLens.open({ model: SYNTHETIC_MODEL, corpus: 'synthetic', cacheDir });
    index = await RetrievalIndex.open(lens, { ...INDEX_DEFAULTS, layer: 'layer3' }, { cacheDir });
    const reader = new PassageExporter(lens, () => '');
    result = await hubAttack(lens, index, (x) => reader.notes(x), {
      excerpts: 3,
      queries: 80,
      k: 10,
      budget: 0.05,
      candidates: 8,
      scalings: ['none', 'mp-empirical'],
      seed: 3,
    });
  }, 300_000);
  afterAll(async () => {
    await lens?.close();
  });

  it('counts the unchanged window as the retrieval itself does (re-rendered from its notes)', async () => {
    const xs = index.excerpts;
    const rows = await Promise.all([...Array(index.n).keys()].map((q) => index.corpusRows(q, 1)));
    for (const w of result.windows) {
      for (const scaling of ['none', 'mp-empirical'] as const) {
        // Every window outside the target's file as a query: is the target in its top 10?
        let hits = 0;
        for (let q = 0; q < index.n; q++) {
          if (xs[q].file === w.excerpt.file) continue;
          const top = index.search(
            rows[q],
            { k: 10, scaling, skip: (i) => xs[i].file === xs[q].file },
            q,
          );
          if (top.some((h) => h.index === w.index)) hits++;
        }
        // The attack measures MP from the window's side (its fresh profile): the same where exact.
        const slack = scaling === 'none' ? 0 : Math.max(1, Math.round(0.15 * hits));
        expect(
          Math.abs(w.before[scaling] - hits),
          `${w.excerpt.id} ${scaling}`,
        ).toBeLessThanOrEqual(slack);
      }
    }
  });

  it('stays within the budget and makes only deletions of original notes and additions', () => {
    const grid = editGrid(lens.layout, lens.classifier.input.windowFrames);
    expect(result.windows).toHaveLength(3);
    for (const w of result.windows) {
      expect(w.budget).toBe(Math.max(1, Math.round(0.05 * w.original.length)));
      for (const run of w.runs) {
        expect(run.edits.length).toBeLessThanOrEqual(w.budget);
        expect(applyEdits(w.original, run.edits, grid)).toEqual(run.notes);
        expect(run.edits.every((e) => e.kind === 'delete' || e.kind === 'add')).toBe(true);
        const deleted = run.edits.flatMap((e) => (e.kind === 'delete' ? [e.note] : []));
        expect(new Set(deleted).size).toBe(deleted.length);
        for (const r of Object.values(run.hits)) expect(r).toBeLessThanOrEqual(w.queries);
      }
    }
  });

  it('summarises success rates as shares of queries', () => {
    for (const s of result.summary) {
      for (const v of [s.before, s.after, s.transferred, s.hubs])
        expect(v >= 0 && v <= 1, `${s.scaling}: ${v}`).toBe(true);
    }
  });
});

describe('concept-lens similar --hub-attack', () => {
  it('writes the attacked windows as MIDI, before and after, with the edits listed', async () => {
    const out = join(tmp, 'attack-run');
    const code = await main([
      'similar',
      '--model',
      SYNTHETIC_MODEL,
      '--corpus',
      'synthetic',
      '--cache-dir',
      cacheDir,
      '--quiet',
      '--hub-attack',
      '2',
      '--attack-queries',
      '40',
      '--attack-candidates',
      '4',
      '--out',
      out,
      '--json',
    ]);
    expect(code).toBe(0);
    const r = JSON.parse(readFileSync(join(out, 'similar.json'), 'utf8')) as SimilarResults;
    const a = r.hubAttack!;
    expect(a.windows).toHaveLength(2);
    expect(a.summary.map((s) => s.scaling)).toEqual(['none', 'mp-empirical', 'mp-gaussian']);
    for (const w of a.windows) {
      const original = readMidiFile(join(out, w.midi)).notes;
      expect(original).toHaveLength(w.notes);
      for (const attack of w.attacks) {
        const attacked = readMidiFile(join(out, attack.midi)).notes;
        const added = attack.edits.filter((e) => e.kind === 'add').length;
        const deleted = attack.edits.length - added;
        expect(attacked).toHaveLength(w.notes - deleted + added);
        for (const e of attack.edits) expect(e.text).toMatch(/^(delete|add) [A-G]/);
        // Every added note is in the attacked file.
        for (const e of attack.edits.filter((x) => x.kind === 'add'))
          expect(
            attacked.some((n) => n.pitch === e.pitch && Math.abs(n.onset - e.onset) < 0.01),
          ).toBe(true);
      }
    }
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('id="hub-attack"');
  });
});
