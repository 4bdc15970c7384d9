/** Results go to stdout (JSON with --json, readable text otherwise); logs and progress to stderr. */
export function printResult(json: boolean, value: unknown, text: () => string): void {
  if (json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  else process.stdout.write(`${text()}\n`);
}

export function log(message: string): void {
  process.stderr.write(`${message}\n`);
}
