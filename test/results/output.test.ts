import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MANIFEST, recoverOutput, RunOutput } from '../../src/results/output.ts';
import { UserError } from '../../src/util/errors.ts';
import { tempDir } from '../helpers/cli.ts';

const tmp = tempDir('cl-output-');

/** A process id that is not running (a child that has exited). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(r.stdout);
}

function run(out: string, files: Record<string, string>): RunOutput {
  const output = new RunOutput(out);
  for (const [rel, text] of Object.entries(files)) output.writeText(rel, text);
  output.commit();
  return output;
}

describe('RunOutput: the output folder is replaced whole', () => {
  it('replaces the previous products, keeps the user own files, and writes a manifest', () => {
    const out = join(tmp, 'a');
    run(out, { 'results.json': '1', 'report.html': 'r1', 'excerpts/x/1.mid': 'm' });
    writeFileSync(join(out, 'notes.txt'), 'mine');
    mkdirSync(join(out, 'my-folder'));
    writeFileSync(join(out, 'my-folder', 'f'), 'f');
    run(out, { 'results.json': '2' });
    expect(readdirSync(out).sort()).toEqual([MANIFEST, 'my-folder', 'notes.txt', 'results.json']);
    expect(readFileSync(join(out, 'results.json'), 'utf8')).toBe('2');
    expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('mine');
    expect(readFileSync(join(out, 'my-folder', 'f'), 'utf8')).toBe('f');
    const manifest = JSON.parse(readFileSync(join(out, MANIFEST), 'utf8'));
    expect(Object.keys(manifest.products)).toEqual(['results.json']);
    expect(manifest.kept).toEqual(['my-folder/f', 'notes.txt']);
    expect(readdirSync(tmp).filter((e) => e.startsWith('.'))).toEqual([]);
  });

  it('refuses a folder it did not write, before any work, and leaves it alone', () => {
    const out = join(tmp, 'theirs');
    mkdirSync(out);
    writeFileSync(join(out, 'thesis.tex'), 'x');
    expect(() => new RunOutput(out)).toThrow(UserError);
    expect(readdirSync(out)).toEqual(['thesis.tex']);
    expect(readdirSync(tmp).filter((e) => e.includes('theirs.'))).toEqual([]);
  });

  it('refuses a folder without a manifest even when it holds names a run writes (the user own results.json and excerpts)', () => {
    const out = join(tmp, 'lookalike');
    mkdirSync(join(out, 'excerpts'), { recursive: true });
    writeFileSync(join(out, 'excerpts', 'mine.mid'), 'm');
    writeFileSync(join(out, 'results.json'), 'theirs');
    expect(() => new RunOutput(out)).toThrow(
      /lookalike: exists and was not written by concept-lens/,
    );
    // A manifest of the wrong format is no manifest.
    writeFileSync(join(out, MANIFEST), '{"format":"something else","products":{}}');
    expect(() => new RunOutput(out)).toThrow(/is not a valid concept-lens manifest/);
    expect(readFileSync(join(out, 'results.json'), 'utf8')).toBe('theirs');
    expect(readFileSync(join(out, 'excerpts', 'mine.mid'), 'utf8')).toBe('m');
    expect(readdirSync(tmp).filter((e) => e.startsWith('.lookalike'))).toEqual([]);
  });

  it('keeps a product the user edited, and a file of theirs where a product goes, under another name', () => {
    const out = join(tmp, 'edited');
    run(out, { 'results.json': '1', 'excerpts/a.mid': 'a' });
    writeFileSync(join(out, 'results.json'), 'my edit');
    writeFileSync(join(out, 'excerpts', 'mine.mid'), 'mine');
    run(out, { 'results.json': '2', 'excerpts/a.mid': 'b' });
    expect(readFileSync(join(out, 'results.json'), 'utf8')).toBe('2');
    expect(readFileSync(join(out, 'results.json.yours'), 'utf8')).toBe('my edit');
    expect(readFileSync(join(out, 'excerpts', 'mine.mid'), 'utf8')).toBe('mine');
    expect(readFileSync(join(out, 'excerpts', 'a.mid'), 'utf8')).toBe('b');
    const manifest = JSON.parse(readFileSync(join(out, MANIFEST), 'utf8'));
    expect(manifest.kept).toEqual(['excerpts/mine.mid', 'results.json.yours']);
  });

  it('one run at a time: a second RunOutput on the same folder is refused while the first holds it', () => {
    const out = join(tmp, 'locked');
    const first = new RunOutput(out);
    expect(() => new RunOutput(out)).toThrow(/locked: another concept-lens run \(process \d+/);
    first.writeText('results.json', '1');
    first.commit();
    run(out, { 'results.json': '2' });
    expect(readFileSync(join(out, 'results.json'), 'utf8')).toBe('2');
    expect(readdirSync(tmp).filter((e) => e.startsWith('.locked'))).toEqual([]);
  });

  it('abandon leaves the previous run as it was', () => {
    const out = join(tmp, 'b');
    run(out, { 'results.json': '1' });
    const output = new RunOutput(out);
    output.writeText('results.json', '2');
    output.abandon();
    expect(readFileSync(join(out, 'results.json'), 'utf8')).toBe('1');
    expect(readdirSync(tmp).filter((e) => e.startsWith('.b.'))).toEqual([]);
  });

  it('refuses paths that leave the staging folder (names are sanitised before; this is the last check)', () => {
    const output = new RunOutput(join(tmp, 'c'));
    expect(() => output.path('../../escape.txt')).toThrow(/outside/);
    output.abandon();
  });

  it('cleans staging folders of dead processes, and completes a swap killed between its renames', () => {
    const out = join(tmp, 'd');
    run(out, { 'results.json': 'old' });
    const pid = deadPid();
    // A killed run's staging folder beside a healthy output: removed.
    mkdirSync(join(tmp, `.d.new-${pid}`));
    mkdirSync(join(tmp, `.d.partial-${pid}`));
    recoverOutput(out);
    expect(readdirSync(tmp).filter((e) => e.startsWith('.d.'))).toEqual([]);

    // Killed between the renames, new run complete (manifest written): rolled forward.
    const staged = new RunOutput(out);
    staged.writeText('results.json', 'new');
    writeFileSync(join(staged.staging, MANIFEST), '{}');
    renameSync(out, join(tmp, `.d.old-${pid}`));
    renameSync(staged.staging, join(tmp, `.d.new-${pid}`));
    staged.abandon(); // the lock (the kill itself is tested in test/faults/kill.test.ts)
    recoverOutput(out);
    expect(readFileSync(join(out, 'results.json'), 'utf8')).toBe('new');
    expect(readdirSync(tmp).filter((e) => e.startsWith('.d.'))).toEqual([]);

    // Killed between the renames with an incomplete staging folder: rolled back.
    renameSync(out, join(tmp, `.d.old-${pid}`));
    mkdirSync(join(tmp, `.d.new-${pid}`));
    recoverOutput(out);
    expect(readFileSync(join(out, 'results.json'), 'utf8')).toBe('new');
    expect(existsSync(join(tmp, `.d.new-${pid}`))).toBe(false);
  });
});
