import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConceptLens } from '../../src/lens/lens.ts';
import { readMidiFile } from '../../src/midi/read.ts';
import { excerptNotes } from '../../src/midi/write.ts';
import type { SimilarResults } from '../../src/results/similar.ts';
import { evaluateRetrieval } from '../../src/retrieval/evaluate.ts';
import { decodeBundle, encodeBundle } from '../../src/retrieval/bundle.ts';
import { INDEX_DEFAULTS, RetrievalIndex } from '../../src/retrieval/index.ts';
import { REPO, runMain, tempDir } from '../helpers/cli.ts';
import { SYNTHETIC_MODEL } from '../synthetic/helpers.ts';

const tmp = tempDir('cl-similar-');
const cacheDir = join(tmp, 'cache');
let lens: ConceptLens;

beforeAll(async () => {
  lens = await ConceptLens.open({ model: SYNTHETIC_MODEL, corpus: 'synthetic', cacheDir });
}, 120_000);
afterAll(async () => {
  await lens?.close();
});

/** Run `f`, collecting the lines it writes to stderr (warnings) into `lines`. */
async function withWarnings<T>(lines: string[], f: () => Promise<T>): Promise<T> {
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    return await f();
  } finally {
    spy.mockRestore();
  }
}

/** Run `similar` on the synthetic model; returns the exit code, stdout, and everything printed (stdout and stderr). */
async function cli(args: string[]): Promise<{ code: number; out: string; stdout: string }> {
  const r = await runMain([
    'similar',
    '--model',
    SYNTHETIC_MODEL,
    '--corpus',
    'synthetic',
    '--cache-dir',
    cacheDir,
    '--quiet',
    ...args,
  ]);
  return { code: r.code, out: r.output, stdout: r.stdout };
}

describe('the retrieval index on the synthetic corpus', () => {
  it('is built once, read back from the cache, and rebuilt when its file is damaged', async () => {
    const settings = { ...INDEX_DEFAULTS, layer: 'layer4' };
    const first = await RetrievalIndex.open(lens, settings, { cacheDir });
    expect(first.built).toBe(true);
    expect(first.n).toBe(lens.index.excerpts().length);
    expect(first.meta.dims).toBe(128 * 3); // [128, 13, 3] pooled over time
    const again = await RetrievalIndex.open(lens, settings, { cacheDir });
    expect(again.built).toBe(false);
    expect([...again.vectors.data]).toEqual([...first.vectors.data]);
    expect([...again.profiles.nearIds]).toEqual([...first.profiles.nearIds]);
    // Flip one byte in the stored file: the checksum fails and the index is built again.
    const folder = join(cacheDir, 'retrieval');
    const file = readdirSync(folder).find((f) => f.startsWith('layer4') && f.endsWith('.clrx'))!;
    const bytes = readFileSync(join(folder, file));
    bytes[bytes.length - 5] ^= 0xff;
    writeFileSync(join(folder, file), bytes);
    const rebuilt = await RetrievalIndex.open(lens, settings, { cacheDir });
    expect(rebuilt.built).toBe(true);
    expect([...rebuilt.profiles.nearIds]).toEqual([...first.profiles.nearIds]);
  });

  it('is built again when its stored values hold NaN under a valid (forged) checksum', async () => {
    const settings = { ...INDEX_DEFAULTS, layer: 'layer4' };
    const first = await RetrievalIndex.open(lens, settings, { cacheDir });
    const folder = join(cacheDir, 'retrieval');
    const file = readdirSync(folder).find((f) => f.startsWith('layer4') && f.endsWith('.clrx'))!;
    const bundle = decodeBundle(readFileSync(join(folder, file)))!;
    (bundle.arrays.vectors as Float32Array)[7] = Number.NaN;
    writeFileSync(join(folder, file), encodeBundle(bundle.header, bundle.arrays));
    const warnings: string[] = [];
    const forged = await withWarnings(warnings, () =>
      RetrievalIndex.open(lens, settings, { cacheDir }),
    );
    expect(forged.built).toBe(true);
    expect(warnings.join('\n')).toMatch(
      /NaN or infinite values \(vectors\) under a valid checksum/,
    );
    expect([...forged.vectors.data]).toEqual([...first.vectors.data]);
  });

  it('is never written or read through a symbolic link planted in the cache', async () => {
    const linked = join(tmp, 'cache-linked');
    const outside = join(tmp, 'outside');
    mkdirSync(linked);
    mkdirSync(outside);
    writeFileSync(join(outside, 'precious.txt'), 'the user file');
    symlinkSync(outside, join(linked, 'retrieval'));
    const settings = { ...INDEX_DEFAULTS, layer: 'layer4' };
    const first = await RetrievalIndex.open(lens, settings, { cacheDir: linked });
    await first.hubness([5]);
    expect(first.built).toBe(true);
    // Nothing landed outside: the link's target holds the user's file only.
    expect(readdirSync(outside)).toEqual(['precious.txt']);
    // An index file of a matching name placed outside is not read through the link either.
    const ref = await RetrievalIndex.open(lens, settings, { cacheDir });
    const stored = readdirSync(join(cacheDir, 'retrieval')).find(
      (f) => f.startsWith('layer4') && f.endsWith('.clrx'),
    )!;
    writeFileSync(join(outside, stored), readFileSync(join(cacheDir, 'retrieval', stored)));
    expect(ref.built).toBe(false);
    const again = await RetrievalIndex.open(lens, settings, { cacheDir: linked });
    expect(again.built).toBe(true);
  });

  it('refuses an index over the memory limit, naming what to do', async () => {
    await expect(
      RetrievalIndex.open(
        lens,
        { ...INDEX_DEFAULTS, layer: 'layer3', pooling: 'none' },
        { cacheDir: false, maxBytes: 1024 * 1024 },
      ),
    ).rejects.toThrow(/--pool time/);
  });

  it('finds windows of the same fictional composer (each has a signature texture), with or without MP', async () => {
    const index = await RetrievalIndex.open(
      lens,
      { ...INDEX_DEFAULTS, layer: 'layer3' },
      { cacheDir },
    );
    // Synthetic pieces have one file each, so "same piece" is always excluded with the own file.
    const ev = await evaluateRetrieval(index, {
      queries: 100,
      k: 10,
      seed: 1,
      scalings: ['none', 'mp-empirical', 'mp-gaussian'],
      minFiles: 1,
    });
    expect(ev.queries).toBe(100);
    expect(ev.chanceComposer).toBeLessThan(0.25);
    for (const s of ev.scores) expect(s.sameComposer, s.scaling).toBeGreaterThan(0.9);
  });

  it('measures hubness, and empirical MP lowers the skewness of N_10', async () => {
    const index = await RetrievalIndex.open(
      lens,
      { ...INDEX_DEFAULTS, layer: 'layer3' },
      { cacheDir },
    );
    const report = await index.hubness([5, 10]);
    const skew = (s: string) =>
      report.scalings.find((x) => x.scaling === s)!.occurrence.find((o) => o.k === 10)!.skewness;
    for (const s of report.scalings)
      for (const o of s.occurrence) {
        // N_k sums to n * k: every window has k neighbours.
        expect(o.counts.reduce((a, c, v) => a + c * v, 0)).toBe(index.n * o.k);
        expect(o.counts.reduce((a, c) => a + c, 0)).toBe(index.n);
      }
    expect(skew('none')).toBeGreaterThan(0.3);
    expect(Math.abs(skew('mp-empirical'))).toBeLessThan(skew('none') / 2);
  });
});

describe('concept-lens similar', () => {
  const entry = () => [...lens.index.entries.values()].find((e) => e.composer === 'Canonici')!;

  it('returns the k nearest passages of a corpus file range, leaving out its own file, as MIDI', async () => {
    const out = join(tmp, 'run1');
    const q = entry();
    const { code, out: text } = await cli([
      '--query',
      q.path,
      '--seconds',
      '0',
      '20',
      '--k',
      '5',
      '--out',
      out,
    ]);
    expect(code, text).toBe(0);
    const r = JSON.parse(readFileSync(join(out, 'similar.json'), 'utf8')) as SimilarResults;
    expect(r.run.command).toBe('similar');
    expect(r.scaling).toBe('mp-empirical');
    expect(r.query!.corpusFile).toBe(q.file);
    expect(r.query!.label).toContain('Canonici');
    expect(r.hits).toHaveLength(5);
    expect(r.hits.map((h) => h.rank)).toEqual([1, 2, 3, 4, 5]);
    for (const h of r.hits) {
      expect(h.file).not.toBe(q.file);
      expect(h.composer).toBe('Canonici'); // the canon texture is unmistakable
      // The MIDI file holds the window's notes, shifted to start at 0.
      const written = readMidiFile(join(out, h.midi)).notes;
      const expected = excerptNotes(lens.index.content(h.file).notes, h.start, h.end);
      expect(written.length).toBe(expected.length);
      expect(written[0].pitch).toBe(expected[0].pitch);
      expect(written[0].onset).toBeCloseTo(expected[0].onset, 2);
    }
    const scaled = r.hits.map((h) => h.scaled);
    expect(scaled).toEqual([...scaled].sort((a, b) => a - b));
    expect(existsSync(join(out, 'report.html'))).toBe(true);
    expect(existsSync(join(out, r.query!.midi!))).toBe(true);
    expect(text).toContain('nearest by Mutual Proximity (empirical)');
  });

  it('may include the own file, and ranks by plain distance with --scaling none', async () => {
    const q = entry();
    const { code, stdout } = await cli([
      '--query',
      q.path,
      '--seconds',
      '0',
      '20',
      '--k',
      '3',
      '--scaling',
      'none',
      '--include-own-file',
      '--json',
    ]);
    expect(code).toBe(0);
    const r = JSON.parse(stdout) as SimilarResults;
    // The query is the file's first window itself: distance 0 (up to float32 rounding).
    expect(r.hits[0].file).toBe(q.file);
    expect(r.hits[0].start).toBe(0);
    expect(r.hits[0].distance).toBeLessThan(1e-2);
    expect(r.hits.map((h) => h.scaled)).toEqual(r.hits.map((h) => h.distance));
    expect(r.excluded).toBeUndefined();
  });

  it('takes a concept YAML as the mean of its examples', async () => {
    const { code, out, stdout } = await cli([
      '--query',
      join(REPO, 'concepts/textures/stride.yaml'),
      '--json',
    ]);
    expect(code, out).toBe(0);
    const r = JSON.parse(stdout) as SimilarResults;
    expect(r.query!.kind).toBe('concept');
    expect(r.query!.windows).toBeGreaterThan(1);
    // Joplinski's signature texture is stride.
    expect(r.hits.filter((h) => h.composer === 'Joplinski').length).toBeGreaterThanOrEqual(8);
  });

  it('answers a session of queries (--queries) with the same hits as one query each, listing bad lines', async () => {
    const q = entry();
    const lines = [
      `${q.path} seconds 0 20`,
      '# a comment, then a blank line',
      '',
      '/nonexistent/x.mid',
      `${join(REPO, 'concepts/textures/stride.yaml')}`,
      `${q.path} bars 3`,
    ];
    const file = join(tmp, 'queries.txt');
    writeFileSync(file, lines.join('\n'));
    const { code, stdout, out } = await cli(['--queries', file, '--k', '5', '--json']);
    expect(code, out).toBe(0);
    const answers = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(answers.map((a) => a.line)).toEqual([1, 5]);
    expect(out).toContain(`${file}:4: /nonexistent/x.mid: no such file`);
    expect(out).toMatch(new RegExp(`${file}:6: expected`));
    expect(out).toContain('2 queries of');
    // The same hits as the one-query command.
    const single = await cli(['--query', q.path, '--seconds', '0', '20', '--k', '5', '--json']);
    const one = JSON.parse(single.stdout) as SimilarResults;
    expect(answers[0].hits.map((h: { file: string; start: number }) => [h.file, h.start])).toEqual(
      one.hits.map((h) => [h.file, h.start]),
    );
    expect(
      answers[1].hits.filter((h: { composer: string }) => h.composer === 'Joplinski').length,
    ).toBeGreaterThanOrEqual(4);
  });

  it('refuses --queries with --out (a session prints its answers)', async () => {
    const { code, out } = await cli([
      '--queries',
      join(tmp, 'queries.txt'),
      '--out',
      join(tmp, 'x'),
    ]);
    expect(code).toBe(2);
    expect(out).toContain('--queries answers a session');
  });

  it("takes a discovered concept's exported excerpt, knowing where it comes from", async () => {
    const run = join(tmp, 'discover-run');
    const q = entry();
    mkdirSync(join(run, 'excerpts', 'kmeans-layer3-01'), { recursive: true });
    const midi = 'excerpts/kmeans-layer3-01/01-Canonici-piece.mid';
    writeFileSync(join(run, midi), readFileSync(q.path));
    writeFileSync(
      join(run, 'results.json'),
      JSON.stringify({
        concepts: [
          {
            id: 'kmeans-layer3-01',
            excerpts: [
              { composer: q.composer, piece: q.piece, file: q.file, start: 0, end: 20, midi },
            ],
            leastTypical: [],
          },
        ],
      }),
    );
    const { code, out, stdout } = await cli([
      '--query',
      join(run, midi),
      '--seconds',
      '0',
      '20',
      '--json',
    ]);
    expect(code, out).toBe(0);
    const r = JSON.parse(stdout) as SimilarResults;
    expect(r.query!.kind).toBe('excerpt');
    expect(r.query!.label).toContain('kmeans-layer3-01');
    expect(r.query!.corpusFile).toBe(q.file);
    expect(r.hits.every((h) => h.file !== q.file)).toBe(true);
  });

  it('reports hubness on its own', async () => {
    const { code, out } = await cli(['--hubness']);
    expect(code).toBe(0);
    expect(out).toMatch(/hubness over \d+ windows/);
    expect(out).toMatch(/mp-empirical\s+10/);
  });

  it.each([
    [['--query', '/nonexistent/x.mid'], /no such file/],
    [['--query', join(REPO, 'README.md')], /MIDI file \(\.mid\) or a concept YAML/],
    [['--query', 'Q', '--seconds', '5', '1'], /--seconds: give two numbers/],
    [['--seconds', '0', '5'], /give --query|need --query/],
    [[], /give --query/],
    [['--hubness', '--layer', 'nope'], /nope/],
  ])('rejects bad input %j with one line and exit 2, writing nothing', async (args, message) => {
    const out = join(tmp, 'bad');
    const { code, out: text } = await cli([
      ...args.map((a) => (a === 'Q' ? entry().path : a)),
      '--out',
      out,
    ]);
    expect(code).toBe(2);
    expect(text).toMatch(message);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(tmp).some((f) => f.startsWith('.bad.'))).toBe(false);
  });
});
