import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ActivationCache } from '../../src/model/cache.ts';
import { BIN, REPO, tempDir } from '../helpers/cli.ts';

/**
 * A FIFO where a file is expected (src/util/files.ts, openRegular): a plain read of one blocks
 * inside the system call until something writes to it, where neither Ctrl-C nor a signal handler
 * can act, so a run would hang for ever. Each is refused in one line (exit 2), or skipped and
 * listed in a corpus, or, as a cache entry, recomputed. Every run is a separate process with a
 * time limit, so that a hang fails the test instead of hanging the suite.
 */
const tmp = tempDir('cl-fifo-');
const fifo = (path: string) => expect(spawnSync('mkfifo', [path]).status).toBe(0);

function cli(...args: string[]) {
  const r = spawnSync(BIN, args, {
    cwd: REPO,
    encoding: 'utf8',
    timeout: 60_000,
    killSignal: 'SIGKILL',
  });
  return { code: r.status, signal: r.signal, stderr: r.stderr, stdout: r.stdout };
}

describe('a FIFO where a file is expected', () => {
  it('as a model or a concept file: one line, exit 2, no hang', () => {
    const model = join(tmp, 'model.onnx');
    const concept = join(tmp, 'concept.yaml');
    fifo(model);
    fifo(concept);
    const m = cli('model', 'inspect', model);
    expect(m.signal).toBeNull();
    expect(m.code).toBe(2);
    expect(m.stderr.trim()).toBe(
      `concept-lens: ${model}: is not a regular file (a FIFO, a device or a socket); give a file`,
    );
    const c = cli('concepts', 'validate', concept);
    expect(c.signal).toBeNull();
    expect(c.code).toBe(2);
    expect(c.stdout + c.stderr).toMatch(/concept\.yaml: is not a regular file/);
  });

  it('in a corpus: skipped and listed, the rest read', () => {
    const corpus = join(tmp, 'corpus', 'Bach');
    mkdirSync(corpus, { recursive: true });
    copyFileSync(join(REPO, 'test/fixtures/midi/extra_track.mid'), join(corpus, 'real.mid'));
    fifo(join(corpus, 'piece.mid'));
    const r = cli('corpus', 'info', join(tmp, 'corpus'));
    expect(r.signal).toBeNull();
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /skipped 1 file\(s\):\n {2}Bach\/piece\.mid: is not a regular file \(a FIFO, a device or a socket\)/,
    );
  });

  it('as an activation cache entry: a miss, recomputed and not written through', () => {
    const cache = new ActivationCache(join(tmp, 'cache'));
    const ns = cache.namespace('model', { spec: 1 });
    cache.put(ns, 'layer', 'x1', Float32Array.from([1, 2, 3]));
    const folder = join(tmp, 'cache', ns);
    const [entry] = readdirSync(folder, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) =>
        join(
          (e as { parentPath?: string; path?: string }).parentPath ??
            (e as { path?: string }).path ??
            '',
          e.name,
        ),
      );
    // Replace the entry by a FIFO: reading it must not block (this process would hang).
    spawnSync('rm', [entry]);
    fifo(entry);
    expect(cache.get(ns, 'layer', 'x1', 3)).toBeNull();
  });
});
