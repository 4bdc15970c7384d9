/**
 * Hooks for fault-injection tests, inert unless `CONCEPT_LENS_TEST_PAUSE` is set. The kill test
 * (test/faults/kill.test.ts) sets it to `<point>:<ms>` to widen a window that lasts microseconds in
 * real runs (e.g. between the two renames of a commit), so that a kill can land inside it. The
 * pause is synchronous, as the window it widens is: a signal handler cannot run inside it.
 */
export function testPause(point: string): void {
  const spec = process.env.CONCEPT_LENS_TEST_PAUSE;
  if (!spec) return;
  for (const item of spec.split(',')) {
    const [name, ms] = item.split(':');
    if (name !== point) continue;
    process.stderr.write(`concept-lens: test pause at ${point}\n`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(ms) || 0);
  }
}
