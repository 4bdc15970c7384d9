/** Command-line flags of the benches: `--name value`, with a default when absent. */
export const args = process.argv.slice(2);

export function opt(name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
}
