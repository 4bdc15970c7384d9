import { printable, safeJson } from '../util/terminal.ts';

/**
 * Results go to stdout (JSON with --json, readable text otherwise); logs and progress to stderr.
 * Names from inputs can hold control characters: text is escaped (printable), JSON too (safeJson).
 */
export function printResult(json: boolean, value: unknown, text: () => string): void {
  if (json) process.stdout.write(`${safeJson(value)}\n`);
  else process.stdout.write(`${printable(text())}\n`);
}

export function log(message: string): void {
  process.stderr.write(`${printable(message)}\n`);
}
