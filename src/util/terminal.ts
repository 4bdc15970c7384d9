/**
 * Text from inputs (composer names from folder names or CSV cells, layer names from ONNX files)
 * reaches the terminal in results, logs and error lines. Control characters in it could move the
 * cursor, rewrite earlier lines or change the terminal's state, so everything printed for people
 * goes through `printable`: C0/C1 controls (except newline and tab), DEL and the Unicode bidi
 * overrides become visible escapes such as `\x1b` or `\u202e`.
 */
const UNSAFE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function printable(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** One line for an error or warning: control characters escaped, only the first line kept. */
export function oneLine(text: string): string {
  return printable(text.split('\n')[0]);
}

/**
 * JSON for stdout: JSON.stringify already escapes C0 controls; C1 controls and bidi overrides are
 * escaped too (as \u00XX, still valid JSON), so `--json` output is as safe in a terminal as text.
 */
export function safeJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    /[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
