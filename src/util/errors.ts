/**
 * A problem with what the user gave us (a file, a flag, a YAML document), as opposed to a bug.
 * The CLI prints `message` as one line on stderr and exits with code 2, without a stack trace.
 * Messages name the input first: "<file>: <what is wrong>".
 */
export class UserError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/** Prefix a UserError's message with the input it concerns; other errors pass through. */
export function inFile<T>(file: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof UserError && !err.message.startsWith(file)) {
      throw new UserError(`${file}: ${err.message}`);
    }
    throw err;
  }
}
