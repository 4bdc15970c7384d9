import { oneLine } from './terminal.ts';

const said = new Set<string>();

/**
 * A warning for people on stderr: one line, control characters escaped, and said once per `key`
 * (a full cache disk is reported once, not for every entry that could not be written).
 */
export function warn(message: string, key: string = message): void {
  if (said.has(key)) return;
  said.add(key);
  process.stderr.write(`concept-lens: warning: ${oneLine(message)}\n`);
}
