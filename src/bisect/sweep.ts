/**
 * Finding and sweeping abandoned scratch venvs (`<venv>.bisect-<pid|session>`, see scratch.ts).
 * Kept apart from scratch.ts so that every command can sweep for one readdir without loading
 * venv creation.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { HomePaths } from '../paths.js';
import { holderAlive } from '../gitstore/lock.js';
import { sessionPath } from './session-file.js';

export const MARKER = '.pyctl-bisect';
const PREFIX = '.bisect-';

export const scratchPath = (paths: HomePaths, id: string | number): string => `${paths.venv}${PREFIX}${id}`;
export const SESSION_ID = 'session';

/** The scratch venvs in a home (any owner). */
export function scratchVenvs(paths: HomePaths): string[] {
  const base = paths.venv.slice(paths.home.length + 1) + PREFIX;
  try {
    return readdirSync(paths.home)
      .filter((n) => n.startsWith(base))
      .map((n) => join(paths.home, n));
  } catch {
    return [];
  }
}

/**
 * Whether its owner is gone: the session's when the session file is gone (it is written before
 * its scratch venv is made), a run's when its pid is dead (the name holds the pid; the marker
 * the host, for a home on a shared disk).
 */
export function abandoned(paths: HomePaths, dir: string): boolean {
  const id = dir.slice(dir.lastIndexOf(PREFIX) + PREFIX.length);
  if (id === SESSION_ID) return !existsSync(sessionPath(paths));
  if (!/^\d+$/.test(id)) return true;
  let host = hostname();
  try {
    host = readFileSync(join(dir, MARKER), 'utf8').trim().split(/\s+/)[1] ?? host;
  } catch {
    // Being created right now by a live run, or left by a dead one: the pid tells.
  }
  return !holderAlive({ pid: Number(id), host, what: 'bisect' });
}

/** Remove scratch venvs whose owner is gone; returns what it removed. Cheap when there are none (one readdir). */
export function sweepScratch(paths: HomePaths): string[] {
  const gone = scratchVenvs(paths).filter((d) => abandoned(paths, d));
  const removed: string[] = [];
  for (const d of gone) {
    try {
      rmSync(d, { recursive: true, force: true });
      removed.push(d);
    } catch {
      // Not ours to remove (another user's home, read-only): doctor reports it.
    }
  }
  return removed;
}
