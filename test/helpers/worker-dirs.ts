/** Per-worker folders in the temp dir, named `<prefix>-<pid>-*` for the vitest worker that made them. */
import { readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Deletes the `<prefix>-<pid>-*` folders of workers that are gone: vitest ends its workers without
 * an exit event (and a SIGKILLed process cleans nothing up), so each new one sweeps for the old.
 */
export function sweepGoneWorkers(prefix: string): void {
  const named = new RegExp(`^${prefix}-(\\d+)-`);
  for (const n of readdirSync(tmpdir())) {
    const pid = named.exec(n)?.[1];
    if (pid && !alive(Number(pid))) rmSync(join(tmpdir(), n), { recursive: true, force: true });
  }
}
