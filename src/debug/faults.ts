/**
 * Test-only: with PYCTL_TEST_PAUSE_AT=<point>, pyctl says "pyctl: test pause at <point>" on
 * stderr and sleeps there for a minute, so a test can SIGKILL it at a known moment, or hold the
 * lock on purpose and let the run go on with SIGUSR2 (test/safety.test.ts, test/faults.test.ts,
 * test/fault-points.test.ts; docs/safety.md lists every point and the tests that drive it).
 * Points: `reconcile` (after the first package of an undo/restore/clean was changed), `install`
 * (a wheel's files written, or a stored package's linked back, its RECORD not yet; in init and
 * clean, pip seeded into the new venv), `clean` (clean's new venv made, its hook not yet),
 * `commit` (freeze.txt written and staged, the commit not yet made), `ref` (the commit's objects
 * in place, not yet flushed, the branch not yet moved; the record path's own writer only), and
 * in the pip hook (hooks/pyctl_hook.py, the same protocol) `pip-end` (pip has ended, its record
 * started with it not yet told: SIGUSR2 goes to pip alone, since it ends a Node process).
 * Unset (always, outside tests) it costs one environment lookup.
 */
const paused = new Set<string>();

/** Where the pause is announced: stderr, given by cli.ts and the record lane (the printers). */
let signal: ((line: string) => void) | null = null;

export function setPauseSignal(write: (line: string) => void): void {
  signal = write;
}

export async function testPause(point: string): Promise<void> {
  // Without a signal no test could see the pause, so there is none.
  if (process.env.PYCTL_TEST_PAUSE_AT !== point || paused.has(point) || !signal) return;
  paused.add(point); // once per run: a point inside a loop (one wheel of several) pauses at the first
  signal(`pyctl: test pause at ${point}\n`);
  // Ctrl-C ends the pause (where the caller handles SIGINT) as it would end real work there;
  // SIGUSR2 ends it and the run goes on, so a test can hold the lock on purpose and let go.
  await new Promise<void>((r) => {
    const done = () => {
      clearTimeout(t);
      process.off('SIGINT', done);
      process.off('SIGUSR2', done);
      r();
    };
    const t = setTimeout(done, 60_000);
    if (process.listenerCount('SIGINT') > 0) process.on('SIGINT', done);
    process.on('SIGUSR2', done);
  });
}

/**
 * Test-only: with PYCTL_TEST_FAIL_AT=<point>, throw ENOSPC there as a full disk would, so tests
 * can check each write step's failure path without filling a disk. Once per run, as the pause:
 * the rollback that follows passes the same point again and must get through. A no-op outside tests.
 */
const failed = new Set<string>();

export function testFail(point: string, path = point): void {
  if (process.env.PYCTL_TEST_FAIL_AT !== point || failed.has(point)) return;
  failed.add(point);
  const e = new Error(`ENOSPC: no space left on device, write '${path}'`) as NodeJS.ErrnoException;
  e.code = 'ENOSPC';
  e.syscall = 'write';
  e.path = path;
  throw e;
}
