import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../util/errors.ts';
import { isDirectory } from '../util/files.ts';
import { parseYamlFile } from '../util/yaml.ts';
import { textureParams } from './patterns/index.ts';
import { conceptSchema, type ConceptSpec } from './schema.ts';

/** A concept as written in its YAML file. */
export interface ConceptFile {
  /** Absolute path of the YAML file; example paths resolve against its folder. */
  path: string;
  spec: ConceptSpec;
}

export interface LoadedConcepts {
  concepts: ConceptFile[];
  /** Files that failed validation, each with its one-line reason (file:line: problem). */
  errors: { file: string; reason: string }[];
}

/**
 * Read concept files from a YAML file or a folder of them (recursively). A bad file does not stop
 * the others: its error is collected and the caller decides (the CLI reports and exits 2).
 */
export function loadConcepts(paths: string | string[]): LoadedConcepts {
  const files = (Array.isArray(paths) ? paths : [paths]).flatMap((p) => yamlFilesUnder(p));
  const concepts: ConceptFile[] = [];
  const errors: { file: string; reason: string }[] = [];
  for (const file of files) {
    try {
      concepts.push({
        path: resolve(file),
        spec: parseYamlFile(file, conceptSchema, checkPatterns),
      });
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      errors.push({ file, reason: err.message });
    }
  }
  // Two files defining one name: which one a result belongs to would be a guess, so neither runs.
  const byName = new Map<string, string>();
  for (const c of concepts) {
    const other = byName.get(c.spec.name);
    if (other) {
      throw new UserError(
        `${c.path}: concept '${c.spec.name}' is also defined in ${other}; concept names must be unique`,
      );
    }
    byName.set(c.spec.name, c.path);
  }
  for (const c of concepts) {
    if (c.spec.relativeTo && !byName.has(c.spec.relativeTo)) {
      errors.push({
        file: c.path,
        reason: `${c.path}: relativeTo names '${c.spec.relativeTo}', which no concept file defines`,
      });
    }
  }
  return { concepts, errors };
}

function yamlFilesUnder(path: string): string[] {
  if (!isDirectory(path)) {
    if (!/\.ya?ml$/i.test(path))
      throw new UserError(`${path}: expected a concept .yaml file or a folder of them`);
    return [path];
  }
  const out: string[] = [];
  for (const item of readdirSync(path, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const p = join(path, item.name);
    if (item.isDirectory()) out.push(...yamlFilesUnder(p));
    else if (/\.ya?ml$/i.test(item.name)) out.push(p);
  }
  return out;
}

/** Pattern names and parameters are validated by the texture generators' own schemas. */
function checkPatterns(spec: ConceptSpec) {
  for (const key of ['examples', 'counterexamples'] as const) {
    for (const [i, example] of (spec[key] ?? []).entries()) {
      if (example.pattern === undefined) continue;
      try {
        textureParams(example.pattern, example.params ?? {});
      } catch (err) {
        if (!(err instanceof UserError)) throw err;
        return { path: [key, i, example.params ? 'params' : 'pattern'], message: err.message };
      }
    }
  }
  return undefined;
}
