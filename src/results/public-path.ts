import { basename, isAbsolute, relative, resolve, sep } from 'node:path';

/**
 * How a file or folder given on the command line is named in anything a run writes (results.json,
 * bank.json, timeline.json, every page): never the machine's own path. A path inside the working
 * folder is given relative to it (`models/asap.onnx`); anything else (a corpus elsewhere on the
 * disk, the cache, a temporary or staging folder) by its last part alone (`asap`). Pages and
 * results are shared with other people and other machines, where an absolute path means nothing
 * and tells about the machine it was made on.
 */
export function publicPath(path: string, cwd: string = process.cwd()): string {
  if (path === '' || path === 'synthetic') return path;
  const rel = relative(resolve(cwd), resolve(path));
  const inside = rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
  // Hidden folders (the cache, staging folders `.x.partial-123`) are machinery, not names.
  if (inside && !rel.split(sep).some((part) => part.startsWith('.')))
    return rel.split(sep).join('/');
  return basename(resolve(path)) || path;
}
