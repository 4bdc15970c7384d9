import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UserError } from '../util/errors.ts';
import { installInterruptHandler } from '../util/interrupt.ts';
import { commands } from './commands/index.ts';

/**
 * The `concept-lens` command line. Each command lives in `commands/`; this file wires them up and
 * turns user errors into one line on stderr and exit code 2 (no stack trace), bugs into exit 1.
 */
export async function main(argv: string[]): Promise<number> {
  installInterruptHandler(
    'concept-lens: interrupted: nothing was written to the output folder; cached activations are kept for the next run',
  );
  let parser = yargs(argv)
    .scriptName('concept-lens')
    .usage('$0 <command> [options]\n\nExplains symbolic composer classifiers in musical terms.')
    .strict()
    .demandCommand(1, 'Name a command; see --help.')
    .recommendCommands()
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .fail((msg, err) => {
      // yargs validation failures (unknown flag, missing argument) are user errors.
      if (err) throw err;
      throw new UserError(msg);
    })
    .help()
    .version();
  for (const command of commands) parser = parser.command(command);
  try {
    await parser.parseAsync();
    return Number(process.exitCode ?? 0);
  } catch (err) {
    if (err instanceof UserError) {
      process.stderr.write(`concept-lens: ${err.message.split('\n')[0]}\n`);
      return 2;
    }
    throw err;
  }
}

const isEntry = process.argv[1] && /concept-lens$|main\.ts$/.test(process.argv[1]);
if (isEntry) {
  main(hideBin(process.argv)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(
        `concept-lens: internal error: ${err instanceof Error ? err.stack : err}\n`,
      );
      process.exit(1);
    },
  );
}
