import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import yargs from 'yargs';
import { describe, expect, it } from 'vitest';
import { synthCommand } from '../../src/cli/commands/synth.ts';
import { loadCorpus } from '../../src/corpus/manifest.ts';
import {
  generateSyntheticCorpus,
  groundTruthAt,
  loadSyntheticSpec,
  textureShare,
  writeSyntheticCorpus,
  type SyntheticPiece,
} from '../../src/corpus/synthetic.ts';
import { readMidiFile } from '../../src/midi/read.ts';
import { UserError } from '../../src/util/errors.ts';
import { sha256 } from '../../src/util/files.ts';
import { tempDir } from '../helpers/cli.ts';

const SPEC = join(import.meta.dirname, '..', '..', 'corpora', 'synthetic.yaml');
const spec = loadSyntheticSpec(SPEC);
const { pieces } = generateSyntheticCorpus(spec, { piecesPerComposer: 12 });
const tmp = tempDir('synth-test-');

describe('synthetic corpus spec', () => {
  it('promises what the design needs: 5+ composers, exclusive signatures, unused negative controls', () => {
    expect(spec.composers.length).toBeGreaterThanOrEqual(5);
    expect(new Set(spec.composers.map((c) => c.signature)).size).toBe(spec.composers.length);
    expect(spec.negativeControls.length).toBeGreaterThanOrEqual(2);
    for (const c of spec.composers) expect(c.signatureShare).toBeGreaterThanOrEqual(0.6);
    // Some texture is a confounder: in the mixture of two or more composers.
    const users = new Map<string, number>();
    for (const c of spec.composers)
      for (const t of Object.keys(c.others)) users.set(t, (users.get(t) ?? 0) + 1);
    expect(Math.max(...users.values())).toBeGreaterThanOrEqual(2);
  });

  it('reports YAML mistakes with file and line', () => {
    const text = readFileSync(SPEC, 'utf8').replace(
      'others: { scales: 2, octaves: 1, tremolo: 1 }',
      'others: { scales: 2, octaves: 1, tremolo: 1, trill: 1 }',
    );
    const bad = join(tmp, 'bad.yaml');
    writeFileSync(bad, text);
    const line = text.split('\n').findIndex((l) => l.includes('trill: 1')) + 1;
    expect(() => loadSyntheticSpec(bad)).toThrow(UserError);
    expect(() => loadSyntheticSpec(bad)).toThrow(
      `${bad}:${line}: composers[3].others: trill is a negative control`,
    );
    writeFileSync(bad, text.replace('signature: canon', 'signature: fugue'));
    expect(() => loadSyntheticSpec(bad)).toThrow(
      /bad\.yaml:\d+: composers\[3\]\.signature: expected one of alberti/,
    );
    writeFileSync(bad, text.replace('signature: canon', 'signature: stride'));
    expect(() => loadSyntheticSpec(bad)).toThrow(
      /composers\[3\]\.signature: stride is already Joplinski's signature/,
    );
  });
});

describe('generateSyntheticCorpus', () => {
  const signatureOf = new Map(spec.composers.map((c) => [c.name, c]));

  it('keeps each signature at or above its promised share of every piece, and out of the others', () => {
    for (const piece of pieces) {
      for (const c of spec.composers) {
        const share = textureShare(piece, c.signature);
        if (c.name === piece.composer) expect(share).toBeGreaterThanOrEqual(c.signatureShare);
        else expect(share).toBeLessThanOrEqual(0.05);
      }
    }
  });

  it('never uses the negative controls', () => {
    for (const piece of pieces) {
      for (const t of spec.negativeControls) expect(textureShare(piece, t)).toBe(0);
    }
  });

  it('makes pieces of the promised length, with layered sections and varied keys and tempi', () => {
    for (const p of pieces) {
      expect(p.durationSeconds).toBeGreaterThanOrEqual(spec.pieceSeconds[0]);
      expect(p.durationSeconds).toBeLessThanOrEqual(spec.pieceSeconds[1] + 1e-6);
      expect(p.segments.every((s) => s.end <= p.durationSeconds + 1e-6)).toBe(true);
    }
    expect(pieces.filter((p) => p.segments.some((s) => s.hand !== 'full')).length).toBeGreaterThan(
      pieces.length / 2,
    );
    expect(new Set(pieces.map((p) => p.key.tonic)).size).toBeGreaterThanOrEqual(8);
    for (const c of spec.composers) {
      const mine = pieces.filter((p) => p.composer === c.name);
      expect(mine).toHaveLength(12);
      expect(new Set(mine.map((p) => p.tempo)).size).toBeGreaterThan(4);
      expect(signatureOf.get(c.name)).toBeDefined();
    }
  });

  it('records segments that agree with the notes', () => {
    for (const piece of pieces.slice(0, 30)) {
      // Every note lies inside a segment's time and pitch range ...
      for (const n of piece.notes) {
        const home = piece.segments.some(
          (s) =>
            n.onset >= s.start - 1e-6 &&
            n.offset <= s.end + 1e-6 &&
            n.pitch >= s.lowPitch &&
            n.pitch <= s.highPitch,
        );
        expect(home).toBe(true);
        expect(n.pitch).toBeGreaterThanOrEqual(21);
        expect(n.pitch).toBeLessThanOrEqual(108);
      }
      // ... and every segment's extremes are played within it.
      for (const s of piece.segments) {
        const inside = piece.notes.filter(
          (n) => n.onset >= s.start - 1e-6 && n.onset < s.end - 1e-6,
        );
        expect(inside.some((n) => n.pitch === s.lowPitch)).toBe(true);
        expect(inside.some((n) => n.pitch === s.highPitch)).toBe(true);
      }
    }
  });

  it('generates the whole corpus (200 pieces) in under 3 s, deterministically', () => {
    const t0 = performance.now();
    const full = generateSyntheticCorpus(SPEC);
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(full.pieces).toHaveLength(spec.composers.length * spec.piecesPerComposer);
    // Forked streams: a piece does not depend on how many pieces are generated.
    expect(full.pieces[0]).toEqual(pieces[0]);
    expect(generateSyntheticCorpus(spec, { piecesPerComposer: 12, seed: 1 }).pieces[0]).not.toEqual(
      pieces[0],
    );
  });
});

describe('groundTruthAt', () => {
  const piece: Pick<SyntheticPiece, 'segments'> = {
    segments: [
      { texture: 'alberti', start: 0, end: 10, lowPitch: 40, highPitch: 60, hand: 'bass' },
      { texture: 'scales', start: 5, end: 15, lowPitch: 62, highPitch: 90, hand: 'treble' },
      { texture: 'alberti', start: 12, end: 20, lowPitch: 45, highPitch: 58, hand: 'full' },
    ],
  };

  it('gives the share of a range each texture covers (hand-worked)', () => {
    expect(groundTruthAt(piece, 0, 10)).toEqual([
      { texture: 'alberti', fraction: 1 },
      { texture: 'scales', fraction: 0.5 },
    ]);
    // [8, 16): alberti 8-10 and 12-16 = 6 s, scales 8-15 = 7 s, of 8 s.
    expect(groundTruthAt(piece, 8, 16)).toEqual([
      { texture: 'scales', fraction: 7 / 8 },
      { texture: 'alberti', fraction: 6 / 8 },
    ]);
    expect(groundTruthAt(piece, 20, 30)).toEqual([]);
  });

  it('restricts to a pitch band', () => {
    expect(groundTruthAt(piece, 0, 10, { low: 70, high: 108 })).toEqual([
      { texture: 'scales', fraction: 0.5 },
    ]);
    expect(groundTruthAt(piece, 0, 20, { low: 21, high: 59 })).toEqual([
      { texture: 'alberti', fraction: 0.9 },
    ]);
  });
});

describe('writeSyntheticCorpus', () => {
  function snapshot(dir: string): Record<string, string> {
    const out: Record<string, string> = {};
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(d, e.name));
        else out[relative(dir, join(d, e.name))] = sha256(readFileSync(join(d, e.name)));
      }
    };
    walk(dir);
    return out;
  }

  it('writes MIDI, manifest and ground truth, byte-identical on every run', () => {
    const a = join(tmp, 'a');
    const b = join(tmp, 'b');
    const summary = writeSyntheticCorpus(SPEC, a, { piecesPerComposer: 3 });
    writeSyntheticCorpus(SPEC, b, { piecesPerComposer: 3 });
    expect(summary.pieces).toBe(15);
    const first = snapshot(a);
    expect(Object.keys(first)).toHaveLength(15 + 2);
    expect(snapshot(b)).toEqual(first);
    writeSyntheticCorpus(SPEC, a, { piecesPerComposer: 3 });
    expect(snapshot(a)).toEqual(first);
    const c = join(tmp, 'c');
    writeSyntheticCorpus(SPEC, c, { piecesPerComposer: 3, seed: 99 });
    expect(snapshot(c)['corpus.yaml']).toBeDefined();
    expect(snapshot(c)['Albertini/albertini-01.mid']).not.toBe(first['Albertini/albertini-01.mid']);
  });

  it('round-trips: the manifest loads as a corpus and the MIDI files hold the generated notes', () => {
    const dir = join(tmp, 'a');
    const corpus = loadCorpus(dir);
    expect(corpus.entries).toHaveLength(15);
    expect(new Set(corpus.entries.map((e) => e.composer))).toEqual(
      new Set(spec.composers.map((c) => c.name)),
    );
    const truth = JSON.parse(readFileSync(join(dir, 'ground-truth.json'), 'utf8'));
    expect(truth.pieces).toHaveLength(15);
    const generated = generateSyntheticCorpus(SPEC, { piecesPerComposer: 3 }).pieces;
    for (const entry of corpus.entries.slice(0, 5)) {
      const piece = generated.find((p) => p.id === entry.piece)!;
      expect(truth.pieces.find((t: { piece: string }) => t.piece === entry.piece).segments).toEqual(
        piece.segments,
      );
      const read = readMidiFile(entry.path).notes.sort(
        (x, y) => x.onset - y.onset || x.pitch - y.pitch,
      );
      expect(read).toHaveLength(piece.notes.length);
      read.forEach((n, i) => {
        expect(n.pitch).toBe(piece.notes[i].pitch);
        expect(n.velocity).toBe(piece.notes[i].velocity);
        expect(Math.abs(n.onset - piece.notes[i].onset)).toBeLessThan(0.002);
      });
    }
  });

  it('is what `corpus synth` writes', async () => {
    const out = join(tmp, 'cli');
    await yargs(['synth', '--out', out, '--pieces', '2', '--json'])
      .command(synthCommand)
      .strict()
      .parseAsync();
    expect(loadCorpus(out).entries).toHaveLength(10);
  });
});
