import { RunOutput } from '../results/output.ts';
import { UserError } from '../util/errors.ts';
import { onInterrupt, turnEventLoop } from '../util/interrupt.ts';

/**
 * Run a command whose products go to an output folder: products are staged (RunOutput) and
 * committed, as one folder swap, only when `body` completes; on an error or an interrupt (SIGINT,
 * SIGTERM) the staging folder is dropped and the previous output stays as it was (the process-wide
 * interrupt handler of src/util/interrupt.ts runs the cleanup). Every command that writes an
 * output folder goes through here.
 */
export async function stagedRun<T>(
  out: string,
  body: (output: RunOutput) => Promise<T>,
): Promise<T> {
  // Created once the inputs are known to be good (callers open models and corpora first), so a
  // bad input leaves no staging folder.
  const output = new RunOutput(out);
  const unregister = onInterrupt(() => output.abandon());
  try {
    const result = await body(output);
    // A Ctrl-C pressed while the last products were written acts now, before the point of no return.
    await turnEventLoop();
    output.commit();
    return result;
  } catch (err) {
    output.abandon();
    // A problem writing a product names it where it was going (`<out>/results.json`), not staging.
    if (err instanceof UserError && err.message.includes(output.staging))
      throw new UserError(err.message.split(output.staging).join(output.out));
    throw err;
  } finally {
    unregister();
  }
}
