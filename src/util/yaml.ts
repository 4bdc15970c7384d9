import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { UserError } from './errors.ts';
import { readFileHead, readUserFile } from './files.ts';

/** YAML files (concepts, manifests, configs) are small; a larger file is refused unread. */
const MAX_YAML_BYTES = 8 * 1024 * 1024;

/**
 * Read a YAML file and validate it with a zod schema. Every error names the file, the line and
 * what is wrong, e.g. `concepts/alberti.yaml:12: examples[2].bars: expected a number`.
 */
export function parseYamlFile<S extends z.ZodType>(
  path: string,
  schema: S,
  check?: Check<z.infer<S>>,
): z.infer<S> {
  const { size } = readFileHead(path, 0);
  if (size > MAX_YAML_BYTES)
    throw new UserError(
      `${path}: ${size} bytes; YAML files over ${MAX_YAML_BYTES} bytes are not read`,
    );
  return parseYamlText(readUserFile(path).toString('utf8'), path, schema, check);
}

/** A further check after the schema passed: the first problem found, with the path it concerns. */
export type Check<T> = (value: T) => { path: (string | number)[]; message: string } | undefined;

export function parseYamlText<S extends z.ZodType>(
  text: string,
  path: string,
  schema: S,
  check?: Check<z.infer<S>>,
): z.infer<S> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    const line = lineCounter.linePos(err.pos[0]).line;
    throw new UserError(`${path}:${line}: ${err.message.split('\n')[0]}`);
  }
  let value: unknown;
  try {
    // Aliases are expanded here; `maxAliasCount` stops "billion laughs" documents.
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new UserError(`${path}: ${(err as Error).message.split('\n')[0]}`);
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue.path.length > 0 ? `${formatPath(issue.path)}: ` : '';
    throw new UserError(
      `${path}:${lineOf(doc, issue.path, lineCounter)}: ${where}${issue.message}`,
    );
  }
  const problem = check?.(result.data);
  if (problem) {
    const where = problem.path.length > 0 ? `${formatPath(problem.path)}: ` : '';
    throw new UserError(
      `${path}:${lineOf(doc, problem.path, lineCounter)}: ${where}${problem.message}`,
    );
  }
  return result.data;
}

/** The line of the deepest node along a path that exists in the document (1 if none). */
function lineOf(doc: Document, path: readonly PropertyKey[], lines: LineCounter): number {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth) as unknown[], true);
    if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
  }
  return 1;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i > 0 ? '.' : ''}${String(p)}`))
    .join('');
}
