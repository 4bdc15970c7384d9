import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UserError } from '../util/errors.ts';
import { describeFsError } from '../util/files.ts';
import { installInterruptHandler } from '../util/interrupt.ts';
import { DEFAULT_LIMITS, setLimits } from '../util/limits.ts';
import { oneLine } from '../util/terminal.ts';
import { commands } from './commands/index.ts';
import { GLOBAL_GROUP, ownOptionsFirst } from './help.ts';

/**
 * The `concept-lens` command line. Each command lives in `commands/`; this file wires them up and
 * turns user errors into one line on stderr and exit code 2 (no stack trace), bugs into exit 1.
 * File-system errors that no layer wrapped (they carry the path) are user errors too.
 */
export async function main(argv: string[]): Promise<number> {
  try {
    await buildParser(argv).parseAsync();
    return Number(process.exitCode ?? 0);
  } catch (err) {
    const message = userMessage(err);
    if (message === undefined) throw err;
    process.stderr.write(`concept-lens: ${oneLine(message)}\n`);
    return 2;
  }
}

/** Thrown by `checkArgs`'s middleware once yargs has validated a command line. */
class ArgsChecked extends Error {}

/**
 * Parse and validate a command line (command, flags, their types and choices) without running
 * it: the error yargs gives, or undefined when the line is valid. The docs test runs every
 * documented command through this, so examples cannot name a flag that no longer exists.
 */
export async function checkArgs(argv: string[]): Promise<string | undefined> {
  try {
    await buildParser(argv)
      .middleware(() => {
        throw new ArgsChecked();
      })
      .parseAsync();
    return 'the command ran instead of stopping after validation';
  } catch (err) {
    if (err instanceof ArgsChecked) return undefined;
    return err instanceof Error ? err.message : String(err);
  }
}

/** What `--help` prints for a command line, without printing it or exiting (for tests). */
export function helpText(argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    buildParser(argv)
      .exitProcess(false)
      .parse(argv, {}, (err, _args, output) => (err ? reject(err) : resolve(output)));
  });
}

function buildParser(argv: string[]) {
  let parser = yargs(argv)
    .scriptName('concept-lens')
    .usage('$0 <command> [options]\n\nExplains symbolic composer classifiers in musical terms.')
    .strict()
    .demandCommand(1, 'Name a command; see --help.')
    .recommendCommands()
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .option('max-piece-minutes', {
      type: 'number',
      global: true,
      default: DEFAULT_LIMITS.maxPieceSeconds / 60,
      describe: 'Skip MIDI files whose music lasts longer (a limit that bounds memory)',
    })
    .option('lenient-midi', {
      type: 'boolean',
      global: true,
      default: false,
      describe:
        'Read MIDI files whose events run past their track up to the break (saying how many notes were lost) instead of skipping them',
    })
    .middleware((args) => {
      const minutes = args['max-piece-minutes'] as number;
      if (!(minutes > 0))
        throw new UserError(`--max-piece-minutes: expected a positive number, got ${minutes}`);
      setLimits({ maxPieceSeconds: minutes * 60, lenientMidi: Boolean(args['lenient-midi']) });
    })
    .fail((msg, err) => {
      // yargs validation failures (unknown flag, missing argument, a bad --config file) are user
      // errors; errors thrown by handlers pass through.
      if (err && err.name !== 'YError') throw err;
      throw new UserError(err ? err.message : msg);
    })
    .help()
    .version()
    // Global options in a group of their own: yargs lists a command's own options first, then these.
    .group(['max-piece-minutes', 'lenient-midi', 'help', 'version'], GLOBAL_GROUP);
  for (const command of commands) parser = parser.command(ownOptionsFirst(command));
  return parser;
}

/** The one line for an error the user can act on, or undefined for a bug. */
function userMessage(err: unknown): string | undefined {
  if (err instanceof UserError) return err.message;
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === 'string' && typeof e.path === 'string')
    return `${e.path}: ${describeFsError(e)}`;
  return undefined;
}

const isEntry = process.argv[1] && /concept-lens$|main\.ts$/.test(process.argv[1]);
if (isEntry) {
  // Only the real process gets the Ctrl-C handler: tests that call main() in-process must not
  // turn their worker's SIGTERM into an "interrupted" exit.
  installInterruptHandler(
    'concept-lens: interrupted; the output folder is as it was before the run; cached activations are kept',
  );
  main(hideBin(process.argv)).then(
    (code) => exitAfterFlush(code),
    (err) => {
      process.stderr.write(
        `concept-lens: internal error: ${err instanceof Error ? err.stack : err}\n`,
      );
      process.exit(1);
    },
  );
}

/**
 * Exit once stdout and stderr have been written out: on a pipe, writes are asynchronous, and
 * `process.exit` right after a large `--json` result would cut it short.
 */
function exitAfterFlush(code: number): void {
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}
