/**
 * Test-only: with PYCTL_TEST_PAUSE_AT=<point>, pyctl prints "pyctl: test pause at <point>" on
 * stderr and sleeps there for a minute, so a test can SIGKILL it at a known moment
 * (test/safety.test.ts). Points: `reconcile` (after the first package of an undo/restore/clean
 * was changed), `commit` (freeze.txt written and staged, the commit not yet made).
 * Unset (always, outside tests) it costs one environment lookup.
 */
export async function testPause(point: string): Promise<void> {
  if (process.env.PYCTL_TEST_PAUSE_AT !== point) return;
  process.stderr.write(`pyctl: test pause at ${point}\n`);
  await new Promise((r) => setTimeout(r, 60_000));
}
