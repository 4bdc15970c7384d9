import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { writeFileAtomic } from '../util/files.ts';
import type { RunResults } from './results.ts';

/**
 * The output folder of a run, written so that an interrupted run never leaves half-written results:
 * everything is written to a staging folder beside it, and only `commit()` moves the products
 * (results.json, report.html, excerpts/) into place, replacing the previous run's. Other files in
 * the output folder are left alone.
 */
export class RunOutput {
  readonly out: string;
  readonly staging: string;
  private static readonly PRODUCTS = ['excerpts', 'results.json', 'report.html', 'similar.json'];

  constructor(out: string) {
    this.out = resolve(out);
    this.staging = join(dirname(this.out), `.${basename(this.out)}.partial-${process.pid}`);
    rmSync(this.staging, { recursive: true, force: true });
    mkdirSync(this.staging, { recursive: true });
  }

  /** Absolute path of a product inside the staging folder (`rel` as it will be inside <out>). */
  path(rel: string): string {
    return join(this.staging, rel);
  }

  writeResults(results: RunResults): void {
    writeFileAtomic(this.path('results.json'), `${JSON.stringify(results, null, 1)}\n`);
  }

  writeText(rel: string, text: string): void {
    writeFileAtomic(this.path(rel), text);
  }

  commit(): void {
    mkdirSync(this.out, { recursive: true });
    for (const name of RunOutput.PRODUCTS) {
      const staged = join(this.staging, name);
      const target = join(this.out, name);
      if (!existsSync(staged)) {
        rmSync(target, { recursive: true, force: true });
        continue;
      }
      if (existsSync(target)) rmSync(target, { recursive: true, force: true });
      renameSync(staged, target);
    }
    rmSync(this.staging, { recursive: true, force: true });
  }

  /** Drop the staging folder (on failure or interruption). */
  abandon(): void {
    rmSync(this.staging, { recursive: true, force: true });
  }
}
