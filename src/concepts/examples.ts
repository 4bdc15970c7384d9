import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { glob } from 'tinyglobby';
import { readMidiFile } from '../midi/read.ts';
import { barToSeconds } from '../midi/timemap.ts';
import type { Note } from '../midi/types.ts';
import { excerptNotes } from '../midi/write.ts';
import { UserError } from '../util/errors.ts';
import { yieldToSignals } from '../util/interrupt.ts';
import { CONCEPT_BOUNDS } from '../util/limits.ts';
import type { ConceptFile } from './load.ts';
import { detectExamples } from './detect-examples.ts';
import { generateTexture } from './patterns/index.ts';
import type { ExampleSpec } from './schema.ts';

/** One example of a concept: notes starting at 0 that fill (at most) one model window. */
export interface ConceptExample {
  /** Stable identity, used as the activation cache key. */
  id: string;
  /** Where it came from, for people: `alberti.yaml examples[0]: pattern alberti #3`. */
  source: string;
  notes: Note[];
  /** The file it was cut from (corpus-relative for corpus and detect examples), when it has one. */
  file?: string;
  /** The piece it comes from, when a corpus says (detect examples). */
  piece?: string;
}

export interface ResolveContext {
  /** Length of the model's window, seconds. */
  windowSeconds: number;
  /** Root of the corpus that `corpus:` examples are relative to. */
  corpusRoot?: string;
  sustain?: boolean;
}

/**
 * Turn a concept's example specs into window-sized note excerpts.
 *  - pattern: `count` windows from the texture generator (seed + i; `vary` on unless set).
 *  - file (midi: or corpus:): the range (bars, seconds, or the whole file) cut into consecutive
 *    windows; a range shorter than a window fills it by repetition (`fill: loop`, default) or
 *    leaves silence after it (`fill: silence`): repetition keeps the CAV from learning "silence".
 */
export async function resolveExamples(
  concept: ConceptFile,
  which: 'examples' | 'counterexamples',
  ctx: ResolveContext,
): Promise<ConceptExample[]> {
  const out: ConceptExample[] = [];
  const file = relative(process.cwd(), concept.path) || concept.path;
  const max = CONCEPT_BOUNDS.maxExamples;
  for (const [i, spec] of (concept.spec[which] ?? []).entries()) {
    // Checked as examples accumulate, so a concept asking for millions stops at the limit.
    if (out.length > max)
      throw new UserError(
        `${file}: ${which} yield more than ${max} examples (a limit); use fewer or shorter ranges`,
      );
    await yieldToSignals();
    const where = `${file}: ${which}[${i}]`;
    if (spec.pattern !== undefined) {
      out.push(...(await patternExamples(spec, ctx, `${concept.spec.name}/${which}[${i}]`, where)));
    } else if (spec.detect !== undefined) {
      out.push(...(await detectExamples(spec, ctx, `${concept.spec.name}/${which}[${i}]`, where)));
    } else {
      for (const path of await filesOf(spec, concept, ctx, where)) {
        out.push(
          ...fileExamples(
            spec,
            path,
            ctx,
            concept.spec.fill ?? 'loop',
            `${concept.spec.name}/${which}[${i}]`,
            where,
          ),
        );
        await yieldToSignals();
        if (out.length > max) break;
      }
    }
  }
  if (out.length > max)
    throw new UserError(
      `${file}: ${which} yield more than ${max} examples (a limit); use fewer or shorter ranges`,
    );
  return out;
}

async function patternExamples(
  spec: ExampleSpec,
  ctx: ResolveContext,
  id: string,
  where: string,
): Promise<ConceptExample[]> {
  const count = spec.count ?? 20;
  const base = spec.seed ?? 1;
  const out: ConceptExample[] = [];
  for (let k = 0; k < count; k++) {
    await yieldToSignals();
    const params = { vary: true, ...spec.params, seed: base + k, seconds: ctx.windowSeconds };
    let notes: Note[];
    try {
      notes = generateTexture(spec.pattern!, params);
    } catch (err) {
      if (err instanceof UserError) throw new UserError(`${where}: ${err.message}`);
      throw err;
    }
    out.push({
      id: `${id}#${base + k}`,
      source: `${where}: pattern ${spec.pattern} seed ${base + k}`,
      notes,
    });
  }
  return out;
}

async function filesOf(
  spec: ExampleSpec,
  concept: ConceptFile,
  ctx: ResolveContext,
  where: string,
): Promise<string[]> {
  if (spec.corpus !== undefined) {
    if (!ctx.corpusRoot)
      throw new UserError(`${where}: a corpus excerpt needs a corpus (give --corpus)`);
    const path = join(ctx.corpusRoot, spec.corpus);
    if (!existsSync(path))
      throw new UserError(
        `${where}: ${spec.corpus}: no such file in the corpus at ${ctx.corpusRoot}`,
      );
    return [path];
  }
  const pattern = spec.midi!;
  const cwd = dirname(concept.path);
  if (!/[*?[{]/.test(pattern)) {
    const path = isAbsolute(pattern) ? pattern : join(cwd, pattern);
    if (!existsSync(path)) throw new UserError(`${where}: ${pattern}: no such file`);
    return [path];
  }
  const files = (await glob(pattern, { cwd, absolute: true })).sort();
  if (files.length === 0) throw new UserError(`${where}: ${pattern}: matches no file`);
  return files;
}

function fileExamples(
  spec: ExampleSpec,
  path: string,
  ctx: ResolveContext,
  fill: 'loop' | 'silence',
  id: string,
  where: string,
): ConceptExample[] {
  let content;
  try {
    content = readMidiFile(path, { sustain: ctx.sustain });
  } catch (err) {
    if (err instanceof UserError) throw new UserError(`${where}: ${err.message}`);
    throw err;
  }
  let start = 0;
  let end = content.durationSeconds;
  let label = 'whole file';
  if (spec.bars) {
    start = barToSeconds(content.timeMap, spec.bars[0]);
    end = barToSeconds(content.timeMap, spec.bars[1] + 1);
    label = `bars ${spec.bars[0]}-${spec.bars[1]}`;
  } else if (spec.seconds) {
    [start, end] = spec.seconds;
    label = `${start}-${end} s`;
  }
  end = Math.min(end, content.durationSeconds);
  if (!(end > start))
    throw new UserError(
      `${where}: ${label} lies outside ${path} (${content.durationSeconds.toFixed(1)} s long)`,
    );
  // A shorter range would be repeated thousands of times to fill a window (and is not music).
  if (end - start < MIN_RANGE_SECONDS)
    throw new UserError(
      `${where}: ${label} of ${path} lasts ${(end - start).toPrecision(2)} s; a range must last at least ${MIN_RANGE_SECONDS} s`,
    );
  let notes = excerptNotes(content.notes, start, end);
  if (spec.pitch)
    notes = notes.filter((n) => n.pitch >= spec.pitch![0] && n.pitch <= spec.pitch![1]);
  if (notes.length === 0) throw new UserError(`${where}: ${label} of ${path} holds no notes`);

  const W = ctx.windowSeconds;
  const length = end - start;
  const key = `${id}:${relative(process.cwd(), path)}:${start.toFixed(3)}-${end.toFixed(3)}:${spec.pitch ?? ''}`;
  if (length <= W) {
    if (fill === 'loop' && Math.ceil(W / length) * notes.length > MAX_LOOPED_NOTES)
      throw new UserError(
        `${where}: ${label} of ${path} holds ${notes.length} notes in ${length.toPrecision(2)} s; repeated to fill a ${W} s window that would make over ${MAX_LOOPED_NOTES} notes (a limit)`,
      );
    const filled = fill === 'loop' ? loop(notes, length, W) : notes;
    return [
      { id: key, source: `${where}: ${path} ${label}`, notes: filled, file: fileOf(spec, path) },
    ];
  }
  // Consecutive windows; the last one aligned to the end of the range.
  const starts: number[] = [];
  for (let s = 0; s + W <= length + 1e-9; s += W) starts.push(s);
  if (starts[starts.length - 1] + W < length - 1e-9) starts.push(length - W);
  return starts.map((s) => ({
    id: `${key}@${s.toFixed(3)}`,
    source: `${where}: ${path} ${label} +${s.toFixed(1)} s`,
    notes: excerptNotes(notes, s, s + W),
    file: fileOf(spec, path),
  }));
}

/** The file an example comes from: its corpus-relative path, or relative to the working folder. */
function fileOf(spec: ExampleSpec, path: string): string {
  return spec.corpus ?? (relative(process.cwd(), path) || path);
}

/** Shortest range of a file example, seconds (half a frame at 20 fps). */
export const MIN_RANGE_SECONDS = 0.025;
/** Most notes a range repeated to fill one window may make. */
const MAX_LOOPED_NOTES = 200_000;

/** Repeat `notes` (a passage `length` seconds long) until `total` seconds are filled. */
export function loop(notes: readonly Note[], length: number, total: number): Note[] {
  const out: Note[] = [];
  for (let shift = 0; shift < total; shift += length) {
    for (const n of notes) {
      if (n.onset + shift >= total) continue;
      out.push({ ...n, onset: n.onset + shift, offset: Math.min(n.offset + shift, total) });
    }
    if (length <= 0) break;
  }
  return out;
}
