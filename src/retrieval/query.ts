import { existsSync } from 'node:fs';
import { readUserFile } from '../util/files.ts';
import { dirname, join, relative, resolve } from 'node:path';
import { resolveExamples, type ConceptExample } from '../concepts/examples.ts';
import { loadConcepts, type ConceptFile } from '../concepts/load.ts';
import type { ConceptLens } from '../lens/lens.ts';
import type { ExcerptRef, RunResults } from '../results/results.ts';
import type { SimilarQuery } from '../results/similar.ts';
import { UserError } from '../util/errors.ts';

/**
 * What a musicologist can search with, turned into notes the model can hear:
 *  - a MIDI file, whole or a range of it (`bars` or `seconds`);
 *  - a discovered concept's excerpt (a MIDI file that discover/explain exported): as a MIDI file,
 *    and, found in its run's results.json, where it comes from in the corpus;
 *  - a concept YAML: its examples, whose mean activation is the query.
 * A range is cut into model windows as concept examples are (src/concepts/examples.ts: a range
 * shorter than a window is repeated to fill it, a longer one gives consecutive windows); the
 * query is the mean of its windows' pooled activations.
 */
export interface ResolvedQuery {
  info: SimilarQuery;
  examples: ConceptExample[];
}

export interface QuerySpec {
  path: string;
  bars?: [number, number];
  seconds?: [number, number];
}

export async function resolveQuery(lens: ConceptLens, spec: QuerySpec): Promise<ResolvedQuery> {
  const path = resolve(spec.path);
  if (!existsSync(path)) throw new UserError(`${spec.path}: no such file`);
  const ctx = {
    windowSeconds: lens.classifier.input.windowFrames / lens.classifier.input.fps,
    corpusRoot: lens.index.corpus.root,
    sustain: lens.index.sustain,
  };
  if (/\.ya?ml$/i.test(path)) {
    if (spec.bars || spec.seconds)
      throw new UserError(
        `${spec.path}: --bars and --seconds apply to a MIDI query, not to a concept`,
      );
    const loaded = loadConcepts(path);
    if (loaded.errors.length > 0) throw new UserError(loaded.errors[0].reason);
    const concept = loaded.concepts[0];
    const examples = await resolveExamples(concept, 'examples', ctx);
    return {
      info: {
        kind: 'concept',
        source: spec.path,
        label: `concept ${concept.spec.name} (mean of its ${examples.length} examples)`,
        windows: examples.length,
      },
      examples,
    };
  }
  if (!/\.midi?$/i.test(path))
    throw new UserError(
      `${spec.path}: give a MIDI file (.mid) or a concept YAML (.yaml) as --query`,
    );
  const range = spec.bars ? { bars: spec.bars } : spec.seconds ? { seconds: spec.seconds } : {};
  const concept: ConceptFile = {
    path: join(dirname(path), '.query.yaml'),
    spec: { name: 'query', examples: [{ midi: path, ...range }] },
  };
  const examples = await resolveExamples(concept, 'examples', ctx);
  const discovered = discoveredExcerpt(path);
  const corpusFile =
    discovered?.ref.file ??
    [...lens.index.entries.values()].find((e) => resolve(e.path) === path)?.file;
  const where = spec.bars
    ? `bars ${spec.bars[0]}-${spec.bars[1]}`
    : spec.seconds
      ? `${spec.seconds[0]}-${spec.seconds[1]} s`
      : undefined;
  const label = discovered
    ? `excerpt of discovered concept ${discovered.concept}: ${discovered.ref.composer}, ${discovered.ref.piece}${discovered.ref.bars ? `, bars ${discovered.ref.bars.start}-${discovered.ref.bars.end}` : `, ${discovered.ref.start.toFixed(1)}-${discovered.ref.end.toFixed(1)} s`}`
    : `${corpusFile ? corpusLabel(lens, corpusFile) : relative(process.cwd(), path) || path}${where ? `, ${where}` : ''}`;
  return {
    info: {
      kind: discovered ? 'excerpt' : 'midi',
      source: spec.path,
      label,
      windows: examples.length,
      ...(corpusFile ? { corpusFile } : {}),
      ...(spec.bars ? { bars: spec.bars } : {}),
      ...(spec.seconds ? { seconds: spec.seconds } : {}),
    },
    examples,
  };
}

function corpusLabel(lens: ConceptLens, file: string): string {
  const e = lens.index.entries.get(file)!;
  return `${e.composer}, ${e.title ?? e.piece} (${file})`;
}

/**
 * The run folder an exported excerpt belongs to: `<out>/excerpts/<concept>/<name>.mid` beside
 * `<out>/results.json`, and the entry of results.json that exported it.
 */
function discoveredExcerpt(path: string): { concept: string; ref: ExcerptRef } | undefined {
  const out = dirname(dirname(dirname(path)));
  const results = join(out, 'results.json');
  if (!existsSync(results)) return undefined;
  let parsed: RunResults;
  try {
    parsed = JSON.parse(readUserFile(results).toString('utf8')) as RunResults;
  } catch {
    return undefined;
  }
  const rel = relative(out, path).split(/[\\/]/).join('/');
  for (const c of parsed.concepts ?? []) {
    for (const ref of [...(c.excerpts ?? []), ...(c.leastTypical ?? [])]) {
      if (ref.midi === rel || ref.midiLocalized === rel) return { concept: c.id, ref };
    }
  }
  return undefined;
}
