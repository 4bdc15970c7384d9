import { RunOutput } from '../results/output.ts';
import { onInterrupt } from '../util/interrupt.ts';

/**
 * Run a command whose products go to an output folder: products are staged (RunOutput) and
 * committed only when `body` completes; on an error or an interrupt (SIGINT, SIGTERM) the staging
 * folder is dropped and the previous output stays as it was (the process-wide interrupt handler
 * of src/util/interrupt.ts runs the cleanup). Every command that writes a run folder goes
 * through here.
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
    output.commit();
    return result;
  } catch (err) {
    output.abandon();
    throw err;
  } finally {
    unregister();
  }
}
