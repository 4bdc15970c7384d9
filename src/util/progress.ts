import cliProgress from 'cli-progress';
import { printable } from './terminal.ts';

/** A progress reporter for long stages. Progress goes to stderr; stdout stays for results. */
export interface Progress {
  start(stage: string, total: number): void;
  tick(n?: number): void;
  stop(): void;
}

/** Bars on stderr when it is a terminal, one line per stage otherwise (CI logs stay readable). */
export function stderrProgress(enabled = true): Progress {
  if (!enabled) return silentProgress;
  if (process.stderr.isTTY) {
    let bar: cliProgress.SingleBar | null = null;
    return {
      start(stage, total) {
        stage = printable(stage);
        bar?.stop();
        bar = new cliProgress.SingleBar(
          {
            stream: process.stderr,
            format: `${stage.padEnd(28)} {bar} {value}/{total} {duration_formatted} eta {eta_formatted}`,
            hideCursor: true,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, 0);
      },
      tick(n = 1) {
        bar?.increment(n);
      },
      stop() {
        bar?.stop();
        bar = null;
      },
    };
  }
  let t0 = 0;
  let label = '';
  let count = 0;
  return {
    start(stage, total) {
      label = printable(stage);
      count = total;
      t0 = Date.now();
    },
    tick() {},
    stop() {
      if (label)
        process.stderr.write(
          `${label}: ${count} done in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
        );
      label = '';
    },
  };
}

export const silentProgress: Progress = { start() {}, tick() {}, stop() {} };
