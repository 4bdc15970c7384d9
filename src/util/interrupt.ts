/**
 * Ctrl-C and SIGTERM: one handler for the whole process (installed by the CLI), which runs the
 * cleanups registered by whatever is in progress (dropping a staging folder, say), prints one
 * line and exits with 130. Code that stages output registers a cleanup for as long as it runs.
 *
 * Node runs a signal handler only when the event loop turns, so a long synchronous computation
 * would delay Ctrl-C until it ends. Long loops (MIDI reading, rendering, NMF, k-means, CAV fits,
 * MIDI export) therefore `await yieldToSignals()` often: it costs nothing until `budgetMs` has
 * passed since the last turn, then lets the loop turn once, so a pending Ctrl-C acts within about
 * two budgets.
 */
const cleanups = new Set<() => void>();
let installed = false;

/** Register a cleanup to run on interrupt; returns the function that unregisters it. */
export function onInterrupt(cleanup: () => void): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

export function installInterruptHandler(message: string): void {
  if (installed) return;
  installed = true;
  const handler = () => {
    for (const c of [...cleanups].reverse()) {
      try {
        c();
      } catch {
        // Best effort: an interrupt must still exit.
      }
    }
    process.stderr.write(`${message}\n`);
    process.exit(130);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

let lastTurn = performance.now();

/**
 * Let a pending interrupt act if more than `budgetMs` passed since the loop last turned here.
 * `setImmediate` goes through the loop's poll phase, where signals are delivered.
 */
export async function yieldToSignals(budgetMs = 50): Promise<void> {
  if (performance.now() - lastTurn < budgetMs) return;
  await new Promise<void>((resolve) => setImmediate(resolve));
  lastTurn = performance.now();
}

/** Yield now, whatever the budget: before a point of no return such as a commit. */
export async function turnEventLoop(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  await new Promise<void>((resolve) => setImmediate(resolve));
  lastTurn = performance.now();
}
