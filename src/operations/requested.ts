/**
 * The names the user asked for (pip's REQUESTED marker), remembered in .git/pyctl/requested.json
 * so that undo/restore/clean, which reinstall from the wheelhouse, put REQUESTED back on what
 * had it. Only grows: a name once asked for stays asked for (a conservative choice — autoremove
 * then keeps rather than removes). Untracked: another machine starts from the venv's own markers.
 */
import { join } from 'node:path';
import type { HomePaths } from '../paths.js';
import { writeAtomic } from '../fs/durable.js';
import { readTextOr } from '../fs/read-text.js';
import type { Installed } from '../venv/freeze.js';

const file = (p: HomePaths) => join(p.runtime, 'requested.json');

export function readRequested(paths: HomePaths): Set<string> {
  try {
    const list = JSON.parse(readTextOr(file(paths)) ?? '[]') as unknown;
    return new Set(Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : []);
  } catch {
    return new Set();
  }
}

/** Add the installed distributions that carry REQUESTED; writes only when something is new. */
export function rememberRequested(paths: HomePaths, installed: Installed[]): void {
  const known = readRequested(paths);
  const size = known.size;
  for (const d of installed) if (d.requested) known.add(d.key);
  if (known.size !== size) {
    try {
      writeAtomic(file(paths), JSON.stringify([...known].sort()) + '\n', { sync: false });
    } catch {
      // Best effort: a read-only home still records nothing new here.
    }
  }
}
