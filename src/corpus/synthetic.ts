import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { z } from 'zod';
import {
  generateTexture,
  isTextureName,
  keyName,
  TEXTURE_NAMES,
  type Key,
  type TextureName,
} from '../concepts/patterns/index.ts';
import { chordSymbolSchema } from '../concepts/patterns/params.ts';
import type { Note } from '../midi/types.ts';
import { notesToMidiBytes } from '../midi/write.ts';
import { UserError } from '../util/errors.ts';
import {
  fsError,
  onPath,
  removeStale,
  sha256,
  writeFileInside,
  readUserFile,
} from '../util/files.ts';
import { safeSegment } from '../util/paths.ts';
import { yieldToSignals } from '../util/interrupt.ts';
import { Rng } from '../util/random.ts';
import { parseYamlFile } from '../util/yaml.ts';

/**
 * The synthetic-style corpus: fictional composers whose style is a known, seeded mixture of piano
 * textures (corpora/synthetic.yaml). Because the generator records which texture sounds when and
 * in which register, it is the ground truth against which classifiers, TCAV and concept
 * discovery can be checked.
 */

const textureName = z
  .string()
  .refine(isTextureName, { message: `expected one of ${TEXTURE_NAMES.join(', ')}` });
const pitch = z.number().int().min(21).max(108);
const register = z.object({ low: pitch, high: pitch }).strict();
const interval = z
  .tuple([z.number().positive(), z.number().positive()])
  .refine(([a, b]) => b >= a, { message: 'the end of a range must not come before its start' });

const composerSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z][\w-]*$/, 'use letters, digits, _ and - (it names a folder)'),
    /** Word used in titles ("Sonatina No. 3 in D minor"). */
    genre: z.string().default('Piece'),
    signature: textureName,
    /** Promise: the signature covers at least this share of every piece's time. */
    signatureShare: z.number().min(0).max(1),
    /** Where the signature sits when its section layers two textures. */
    signatureHand: z.enum(['bass', 'treble']).default('bass'),
    /** Chance that a signature section adds a second texture in the other hand. */
    layerChance: z.number().min(0).max(1).default(0),
    /** Textures of the other sections, with weights. */
    others: z.record(textureName, z.number().positive()),
    tempo: interval,
    /** Beats per bar to choose from (one per piece). */
    meters: z.array(z.number().int().min(2).max(7)).min(1).default([4]),
    /** Chance that a piece is in a minor key. */
    minor: z.number().min(0).max(1).default(0.3),
  })
  .strict();

export const syntheticSpecSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().optional(),
    license: z.string().optional(),
    source: z.string().optional(),
    seed: z.number().int(),
    piecesPerComposer: z.number().int().min(1).max(1000),
    pieceSeconds: interval,
    sectionSeconds: interval,
    registers: z.object({ full: register, bass: register, treble: register }).strict(),
    registerShift: z.number().int().min(0).max(12).default(0),
    modulation: z.number().min(0).max(1).default(0),
    progressions: z.array(z.array(chordSymbolSchema).min(1)).min(1),
    negativeControls: z.array(textureName).default([]),
    composers: z.array(composerSchema).min(2),
  })
  .strict()
  .superRefine((spec, ctx) => {
    const owner = new Map<string, string>();
    spec.composers.forEach((c, i) => {
      if (owner.has(c.signature)) {
        ctx.addIssue({
          code: 'custom',
          path: ['composers', i, 'signature'],
          message: `${c.signature} is already ${owner.get(c.signature)}'s signature`,
        });
      }
      owner.set(c.signature, c.name);
    });
    spec.composers.forEach((c, i) => {
      if (spec.composers.findIndex((d) => d.name === c.name) !== i) {
        ctx.addIssue({
          code: 'custom',
          path: ['composers', i, 'name'],
          message: `duplicate composer ${c.name}`,
        });
      }
      for (const t of [c.signature, ...Object.keys(c.others)]) {
        if ((spec.negativeControls as string[]).includes(t)) {
          ctx.addIssue({
            code: 'custom',
            path: ['composers', i, t === c.signature ? 'signature' : 'others'],
            message: `${t} is a negative control: no composer may use it`,
          });
        }
      }
      for (const t of Object.keys(c.others)) {
        if (owner.has(t)) {
          ctx.addIssue({
            code: 'custom',
            path: ['composers', i, 'others', t],
            message: `${t} is ${owner.get(t)}'s signature; it may not appear in other textures`,
          });
        }
      }
    });
  });

export type SyntheticSpec = z.infer<typeof syntheticSpecSchema>;
export type ComposerSpec = SyntheticSpec['composers'][number];
type Hand = 'full' | 'bass' | 'treble';

/** Where one texture sounds in a piece: the ground truth. */
export interface SyntheticSegment {
  texture: TextureName;
  /** Seconds. */
  start: number;
  end: number;
  /** Lowest and highest pitch the texture plays in this segment. */
  lowPitch: number;
  highPitch: number;
  hand: Hand;
}

export interface SyntheticPiece {
  id: string;
  composer: string;
  title: string;
  notes: Note[];
  durationSeconds: number;
  segments: SyntheticSegment[];
  tempo: number;
  beatsPerBar: number;
  key: Key;
}

export interface SyntheticOptions {
  /** Overrides the spec's pieces per composer (e.g. a small corpus for tests). */
  piecesPerComposer?: number;
  /** Overrides the spec's seed. */
  seed?: number;
}

export function loadSyntheticSpec(path: string): SyntheticSpec {
  return parseYamlFile(path, syntheticSpecSchema);
}

/** A spec from a YAML path or an object (validated either way). */
export function resolveSpec(spec: string | unknown): SyntheticSpec {
  if (typeof spec === 'string') return loadSyntheticSpec(spec);
  const result = syntheticSpecSchema.safeParse(spec);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new UserError(`synthetic corpus spec: ${issue.path.join('.')}: ${issue.message}`);
  }
  return result.data;
}

export function generateSyntheticCorpus(
  spec: string | SyntheticSpec,
  options: SyntheticOptions = {},
): { spec: SyntheticSpec; pieces: SyntheticPiece[] } {
  const s = resolveSpec(spec);
  const steps = pieceSteps(s, options);
  for (;;) {
    const step = steps.next();
    if (step.done) return { spec: s, pieces: step.value };
  }
}

/** `generateSyntheticCorpus`, letting a pending Ctrl-C act between pieces. */
export async function generateSyntheticCorpusAsync(
  spec: string | SyntheticSpec,
  options: SyntheticOptions = {},
): Promise<{ spec: SyntheticSpec; pieces: SyntheticPiece[] }> {
  const s = resolveSpec(spec);
  const steps = pieceSteps(s, options);
  for (;;) {
    const step = steps.next();
    if (step.done) return { spec: s, pieces: step.value };
    await yieldToSignals();
  }
}

function* pieceSteps(
  s: SyntheticSpec,
  options: SyntheticOptions,
): Generator<void, SyntheticPiece[]> {
  const root = new Rng(options.seed ?? s.seed);
  const count = options.piecesPerComposer ?? s.piecesPerComposer;
  if (!Number.isInteger(count) || count < 1 || count > 1000) {
    throw new UserError(
      `pieces per composer: expected a whole number from 1 to 1000, got ${count}`,
    );
  }
  const pieces: SyntheticPiece[] = [];
  for (const composer of s.composers) {
    for (let i = 0; i < count; i++) {
      pieces.push(generatePiece(s, composer, i, root.fork(`${composer.name}/${i}`)));
      yield;
    }
  }
  return pieces;
}

interface Section {
  start: number;
  bars: number;
  end: number;
  layers: { texture: TextureName; hand: Hand }[];
}

function generatePiece(
  spec: SyntheticSpec,
  composer: ComposerSpec,
  index: number,
  rng: Rng,
): SyntheticPiece {
  const tempo = rng.int(Math.ceil(composer.tempo[0]), Math.floor(composer.tempo[1]));
  const beatsPerBar = rng.pick(composer.meters);
  const key: Key = { tonic: rng.int(0, 11), mode: rng.chance(composer.minor) ? 'minor' : 'major' };
  const barSeconds = (60 / tempo) * beatsPerBar;

  // Sections of whole bars until the piece reaches its target length.
  const target = uniform(rng, spec.pieceSeconds);
  const sections: Section[] = [];
  let time = 0;
  while (time < target - 1e-9) {
    // The last section is shortened (to whole bars) so the piece stays within pieceSeconds.
    const room = Math.floor((spec.pieceSeconds[1] - time) / barSeconds + 1e-9);
    if (room < 1) break;
    const bars = Math.max(
      1,
      Math.min(room, Math.round(uniform(rng, spec.sectionSeconds) / barSeconds)),
    );
    sections.push({ start: time, bars, end: time + bars * barSeconds, layers: [] });
    time += bars * barSeconds;
  }

  // Signature sections, in random order, until they cover the target share of the piece's time.
  const share = Math.min(1, composer.signatureShare + 0.25 * rng.next());
  let covered = 0;
  const signature = new Set<number>();
  for (const i of rng.shuffle(sections.map((_, j) => j))) {
    if (covered >= share * time - 1e-9) break;
    signature.add(i);
    covered += sections[i].end - sections[i].start;
  }
  const others = Object.entries(composer.others) as [TextureName, number][];
  const otherHand: Hand = composer.signatureHand === 'bass' ? 'treble' : 'bass';
  sections.forEach((section, i) => {
    if (!signature.has(i)) {
      if (others.length > 0)
        section.layers.push({ texture: weightedPick(rng, others), hand: 'full' });
      else section.layers.push({ texture: composer.signature, hand: 'full' });
    } else if (others.length > 0 && rng.chance(composer.layerChance)) {
      section.layers.push({ texture: composer.signature, hand: composer.signatureHand });
      section.layers.push({ texture: weightedPick(rng, others), hand: otherHand });
    } else {
      section.layers.push({ texture: composer.signature, hand: 'full' });
    }
  });

  const notes: Note[] = [];
  const segments: SyntheticSegment[] = [];
  for (const section of sections) {
    const sectionKey = rng.chance(spec.modulation) ? modulate(key, rng) : key;
    const progression = rng.pick(spec.progressions);
    for (const layer of section.layers) {
      const base = spec.registers[layer.hand];
      const shift = rng.int(-spec.registerShift, spec.registerShift);
      const generated = generateTexture(layer.texture, {
        key: sectionKey,
        progression,
        register: { low: clampPitch(base.low + shift), high: clampPitch(base.high + shift) },
        tempo,
        bars: section.bars,
        beatsPerBar,
        velocity: rng.int(58, 82) + (layer.hand === 'treble' ? 6 : 0),
        seed: rng.int(0, 2 ** 31 - 1),
        vary: true,
      });
      if (generated.length === 0) continue;
      let low = 127;
      let high = 0;
      for (const n of generated) {
        notes.push({
          ...n,
          onset: round(n.onset + section.start),
          offset: round(n.offset + section.start),
        });
        low = Math.min(low, n.pitch);
        high = Math.max(high, n.pitch);
      }
      segments.push({
        texture: layer.texture,
        start: round(section.start),
        end: round(section.end),
        lowPitch: low,
        highPitch: high,
        hand: layer.hand,
      });
    }
  }
  const played = onePerKey(notes);
  const number = String(index + 1).padStart(2, '0');
  return {
    id: `${composer.name.toLowerCase()}-${number}`,
    composer: composer.name,
    title: `${composer.genre} No. ${index + 1} in ${keyName(key)}`,
    notes: played,
    durationSeconds: round(time),
    segments,
    tempo,
    beatsPerBar,
    key,
  };
}

/**
 * A key sounds one note at a time: where two layers strike the same key, the earlier note is cut
 * when the later one starts, and of two notes struck together the louder is kept. (A MIDI file
 * cannot hold overlapping notes of one pitch unambiguously, so this also makes files round-trip.)
 */
function onePerKey(notes: Note[]): Note[] {
  const sorted = notes
    .slice()
    .sort((a, b) => a.pitch - b.pitch || a.onset - b.onset || b.velocity - a.velocity);
  const out: Note[] = [];
  for (const n of sorted) {
    const prev = out[out.length - 1];
    if (prev && prev.pitch === n.pitch && n.onset < prev.offset) {
      if (n.onset - prev.onset < 1e-3) {
        prev.offset = Math.max(prev.offset, n.offset);
        continue;
      }
      prev.offset = n.onset;
    }
    out.push({ ...n });
  }
  return out.sort((a, b) => a.onset - b.onset || a.pitch - b.pitch);
}

/** To the dominant, or to the relative minor/major. */
function modulate(key: Key, rng: Rng): Key {
  if (rng.chance(0.5)) return { tonic: (key.tonic + 7) % 12, mode: key.mode };
  return key.mode === 'major'
    ? { tonic: (key.tonic + 9) % 12, mode: 'minor' }
    : { tonic: (key.tonic + 3) % 12, mode: 'major' };
}

function weightedPick<T>(rng: Rng, items: readonly (readonly [T, number])[]): T {
  let r = rng.next() * items.reduce((a, [, w]) => a + w, 0);
  for (const [item, w] of items) {
    r -= w;
    if (r < 0) return item;
  }
  return items[items.length - 1][0];
}

function uniform(rng: Rng, [lo, hi]: readonly [number, number]): number {
  return lo + (hi - lo) * rng.next();
}

function clampPitch(p: number): number {
  return Math.max(21, Math.min(108, p));
}

function round(t: number): number {
  return Math.round(t * 1e6) / 1e6;
}

export interface TextureCover {
  texture: TextureName;
  /** Share of the range [start, end) during which the texture sounds. */
  fraction: number;
}

/**
 * Which textures sound during [start, end) seconds of a piece, and for what share of it, largest
 * first. With `band`, only segments whose pitches reach into [band.low, band.high] count (to ask
 * what the bass or the treble of an excerpt is doing).
 */
export function groundTruthAt(
  piece: Pick<SyntheticPiece, 'segments'>,
  start: number,
  end: number,
  band?: { low: number; high: number },
): TextureCover[] {
  if (!(end > start)) throw new Error(`groundTruthAt: empty range [${start}, ${end})`);
  const byTexture = new Map<TextureName, [number, number][]>();
  for (const s of piece.segments) {
    if (band && (s.highPitch < band.low || s.lowPitch > band.high)) continue;
    const from = Math.max(s.start, start);
    const to = Math.min(s.end, end);
    if (to <= from) continue;
    byTexture.set(s.texture, [...(byTexture.get(s.texture) ?? []), [from, to]]);
  }
  return [...byTexture]
    .map(([texture, intervals]) => ({ texture, fraction: unionLength(intervals) / (end - start) }))
    .sort((a, b) => b.fraction - a.fraction || a.texture.localeCompare(b.texture));
}

/** Share of the whole piece during which `texture` sounds. */
export function textureShare(piece: SyntheticPiece, texture: TextureName): number {
  return (
    groundTruthAt(piece, 0, piece.durationSeconds).find((c) => c.texture === texture)?.fraction ?? 0
  );
}

function unionLength(intervals: [number, number][]): number {
  const sorted = intervals.slice().sort((a, b) => a[0] - b[0]);
  let total = 0;
  let [curStart, curEnd] = [-Infinity, -Infinity];
  for (const [a, b] of sorted) {
    if (a > curEnd) {
      if (curEnd > curStart) total += curEnd - curStart;
      [curStart, curEnd] = [a, b];
    } else curEnd = Math.max(curEnd, b);
  }
  if (curEnd > curStart) total += curEnd - curStart;
  return total;
}

export interface SynthSummary {
  out: string;
  name: string;
  pieces: number;
  notes: number;
  seconds: number;
  composers: Record<string, number>;
}

/**
 * Write the corpus: `<out>/<composer>/<piece>.mid`, a `corpus.yaml` manifest (layout: list) and
 * `ground-truth.json`. Same spec and seed give byte-identical files.
 */
export function writeSyntheticCorpus(
  spec: string | SyntheticSpec,
  out: string,
  options: SyntheticOptions = {},
): SynthSummary {
  return writePieces(generateSyntheticCorpus(spec, options), out, options);
}

/** `writeSyntheticCorpus`, letting a pending Ctrl-C act while the pieces are generated. */
export async function writeSyntheticCorpusAsync(
  spec: string | SyntheticSpec,
  out: string,
  options: SyntheticOptions = {},
): Promise<SynthSummary> {
  return writePieces(await generateSyntheticCorpusAsync(spec, options), out, options);
}

function writePieces(
  { spec: s, pieces }: { spec: SyntheticSpec; pieces: SyntheticPiece[] },
  out: string,
  options: SyntheticOptions,
): SynthSummary {
  const files = pieces.map((p) => ({
    file: `${p.composer}/${p.id}.mid`,
    composer: p.composer,
    piece: p.id,
    title: p.title,
    kind: 'score' as const,
  }));
  pieces.forEach((p, i) => {
    // Written at the piece's own tempo so that beats in the file are the music's beats.
    writeFileInside(
      out,
      join(out, files[i].file),
      notesToMidiBytes(p.notes, { name: p.title, bpm: p.tempo }),
    );
  });
  const manifest = {
    name: s.name,
    ...(s.description ? { description: s.description } : {}),
    ...(s.license ? { license: s.license } : {}),
    ...(s.source ? { source: s.source } : {}),
    layout: 'list',
    files,
  };
  writeFileInside(out, join(out, 'corpus.yaml'), stringify(manifest, { lineWidth: 0 }));
  const truth = {
    name: s.name,
    seed: options.seed ?? s.seed,
    negativeControls: s.negativeControls,
    signatures: Object.fromEntries(s.composers.map((c) => [c.name, c.signature])),
    pieces: pieces.map((p, i) => ({
      file: files[i].file,
      piece: p.id,
      composer: p.composer,
      durationSeconds: p.durationSeconds,
      tempo: p.tempo,
      beatsPerBar: p.beatsPerBar,
      key: keyName(p.key),
      segments: p.segments,
    })),
  };
  writeFileInside(out, join(out, 'ground-truth.json'), `${JSON.stringify(truth, null, 1)}\n`);
  const composers: Record<string, number> = {};
  for (const p of pieces) composers[p.composer] = (composers[p.composer] ?? 0) + 1;
  return {
    out,
    name: s.name,
    pieces: pieces.length,
    notes: pieces.reduce((a, p) => a + p.notes.length, 0),
    seconds: round(pieces.reduce((a, p) => a + p.durationSeconds, 0)),
    composers,
  };
}

/** The shipped spec; `--corpus synthetic` names it. */
export const SYNTHETIC_SPEC = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'corpora',
  'synthetic.yaml',
);
/** Bump when the generators change what a spec produces, so materialised copies are regenerated. */
const GENERATOR_VERSION = 1;

/** True for `synthetic` and for YAML files that are synthetic corpus specs (they have `piecesPerComposer`). */
export function isSyntheticSpec(path: string): boolean {
  if (path === 'synthetic') return true;
  if (!/\.ya?ml$/i.test(path) || !existsSync(path)) return false;
  return /^piecesPerComposer\s*:/m.test(readUserFile(path).toString('utf8'));
}

/**
 * A synthetic corpus is generated on demand: the first use writes it (MIDI, manifest, ground truth)
 * under `<cacheDir>/corpora/<name>-<hash of the spec>`, later uses read that folder. The folder
 * name comes from the spec's `name` through safeSegment (a read-only command such as `corpus info`
 * writes nowhere but the cache), and the corpus is written to a folder of its own and renamed into
 * place, so an interrupted generation leaves no half corpus.
 */
export function materializeSynthetic(specPath: string, cacheDir = '.cache'): string {
  const path = specPath === 'synthetic' ? SYNTHETIC_SPEC : specPath;
  const spec = loadSyntheticSpec(path);
  const hash = sha256(`${GENERATOR_VERSION}\n${readUserFile(path).toString('utf8')}`).slice(0, 12);
  const corpora = join(cacheDir, 'corpora');
  const out = join(corpora, `${safeSegment(spec.name)}-${hash}`);
  if (existsSync(join(out, 'ground-truth.json'))) return out;
  onPath(corpora, () => mkdirSync(corpora, { recursive: true }));
  const prefix = `${basename(out)}.tmp-`;
  removeStale(corpora, prefix);
  const tmp = join(corpora, `${prefix}${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  try {
    writeSyntheticCorpus(spec, tmp);
    if (!existsSync(join(out, 'ground-truth.json'))) {
      rmSync(out, { recursive: true, force: true }); // incomplete, from a version that wrote in place
      try {
        renameSync(tmp, out);
      } catch (err) {
        // Another process may have put its copy in place meanwhile; that one is as good.
        if (!existsSync(join(out, 'ground-truth.json'))) throw fsError(out, err);
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return out;
}
