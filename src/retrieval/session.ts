/**
 * One query against an open index, and a session of many: what `similar --query` does once and
 * `similar --queries` does per line while the index, the model and the corpus stay loaded. Loading
 * them is the expensive part of a query (ASAP: several seconds of start-up, model loading and
 * corpus hashing); the search itself takes a fraction of a second, so a session answers each
 * further query interactively.
 */
import type { ConceptLens } from '../lens/lens.ts';
import { UserError } from '../util/errors.ts';
import type { RetrievalIndex } from './index.ts';
import type { QuerySpec, ResolvedQuery } from './query.ts';
import type { Scaling } from './types.ts';

export interface SearchOptions {
  k: number;
  scaling: Scaling;
  /** Let windows of the query's own corpus file be hits. */
  includeOwnFile: boolean;
}

export interface QueryAnswer {
  query: ResolvedQuery;
  hits: { index: number; distance: number; scaled: number }[];
  /** What was left out of the hits, in words. */
  excluded?: string;
  /** Seconds from the query's notes to its hits (embedding and search). */
  seconds: number;
}

/** The k passages of the index nearest to a query (the mean of its windows' pooled activations). */
export async function answerQuery(
  lens: ConceptLens,
  index: RetrievalIndex,
  query: ResolvedQuery,
  o: SearchOptions,
): Promise<QueryAnswer> {
  const started = Date.now();
  const items = query.examples.map((e) => lens.notesItem(e.id, e.notes));
  const vectors = await index.embed(items);
  const mean = new Float32Array(index.meta.dims);
  for (let i = 0; i < items.length; i++)
    for (let e = 0; e < mean.length; e++) mean[e] += vectors[i * mean.length + e] / items.length;
  const row = await index.queryRows(mean, 1);
  const own = o.includeOwnFile ? undefined : query.info.corpusFile;
  const hits = index.search(row, {
    k: Math.min(o.k, index.n),
    scaling: o.scaling,
    skip: own ? (i) => index.excerpts[i].file === own : undefined,
  });
  return {
    query,
    hits,
    excluded: own ? `windows of the query's own file (${own}) are left out` : undefined,
    seconds: (Date.now() - started) / 1000,
  };
}

/**
 * A query line of a session: a MIDI file or concept YAML, optionally followed by `bars a b` or
 * `seconds a b` (the flags' forms `--bars a b` work too). Blank lines and `#` comments give
 * undefined.
 */
export function parseQueryLine(line: string): QuerySpec | undefined {
  const words = line.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0 || words[0].startsWith('#')) return undefined;
  const spec: QuerySpec = { path: words[0] };
  const rest = words.slice(1);
  if (rest.length === 0) return spec;
  const kind = rest[0].replace(/^--/, '');
  const values = rest.slice(1).map(Number);
  if ((kind !== 'bars' && kind !== 'seconds') || rest.length !== 3)
    throw new UserError(`expected "<file> [bars a b | seconds a b]", got "${line.trim()}"`);
  if (!values.every(Number.isFinite) || values[1] < values[0])
    throw new UserError(`${kind}: give two numbers, start and end (start <= end)`);
  spec[kind] = [values[0], values[1]];
  return spec;
}
