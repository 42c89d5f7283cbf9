/** A python3 for the test helpers' own small Python processes, found without starting one. */
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';

/**
 * The machine's /usr/bin/python3, else the first python3 on PATH that is not a pyenv shim (a
 * shell script that costs ~0.3-0.4 s of CPU a start); '' when there is none. Asked once a worker.
 */
let found: string | undefined;
export function plainPython3(): string {
  if (found !== undefined) return found;
  for (const dir of ['/usr/bin', ...(process.env.PATH ?? '').split(':').filter((d) => d && !d.endsWith('/shims'))]) {
    try {
      accessSync(join(dir, 'python3'), constants.X_OK);
      return (found = join(dir, 'python3'));
    } catch {
      // not there: the next one
    }
  }
  return (found = '');
}
