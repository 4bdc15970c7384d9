/**
 * Ctrl-C and SIGTERM: one handler for the whole process (installed by the CLI), which runs the
 * cleanups registered by whatever is in progress (dropping a staging folder, say), prints one
 * line and exits with 130. Code that stages output registers a cleanup for as long as it runs.
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
