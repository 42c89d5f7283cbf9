/**
 * After a crash: what a SIGKILLed pyctl or pip run can leave behind, and how the next run
 * copes (docs/safety.md). Called under the home's lock when a dead holder's lock was taken over.
 *
 * - The crash marker (`.git/pyctl/interrupted`): the dead holder's lock line.
 * - Temp files of atomic writes that never got renamed: removed (only a dead writer's).
 * - Loose objects that are empty or do not inflate: garbage, removed (a write of the same
 *   object rewrites it; see gitstore/git.ts). The others are flushed before anything names them
 *   (`flushLater`): a killed writer may have left them in place unflushed, and the next write of
 *   the same object finds it there and skips it, so its ref would otherwise name an object a
 *   power cut could still empty.
 * - HEAD naming a commit that cannot be read: moved back to the last operation pyctl knows it
 *   completed (last.json), which is always older than any half-done write.
 */
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { HomePaths } from '../paths.js';
import { flushLater, writeAtomicLast } from '../fs/durable.js';
import { looseObjectBroken } from './git.js';
import { crashMarkerPath, holderAlive, readLock, type LockHolder } from './lock.js';

export function readCrashMarker(paths: HomePaths): LockHolder | null {
  return readLock(crashMarkerPath(paths.lock));
}

export function clearCrashMarker(paths: HomePaths): void {
  rmSync(crashMarkerPath(paths.lock), { force: true });
}

const TEMP = /\.(tmp|new)-(\d+)(-\d+)?$/;

function deadWriter(name: string): boolean {
  const m = TEMP.exec(name);
  return !!m && !holderAlive({ pid: Number(m[2]), host: hostname(), what: '' });
}

function files(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Remove what a dead writer left half done. Returns how many files were removed. */
export function sweepAfterCrash(paths: HomePaths): number {
  let removed = 0;
  const rm = (p: string) => {
    rmSync(p, { force: true });
    removed++;
  };
  const objects = join(paths.gitDir, 'objects');
  for (const fan of files(objects)) {
    if (!/^[0-9a-f]{2}$/.test(fan)) continue;
    const dir = join(objects, fan);
    for (const name of files(dir)) {
      const p = join(dir, name);
      if (TEMP.test(name)) {
        if (deadWriter(name)) rm(p);
      } else if (/^[0-9a-f]{38}$/.test(name)) {
        if (looseObjectBroken(p)) rm(p);
        else flushLater(p);
      }
    }
  }
  const walkRefs = (dir: string) => {
    for (const name of files(dir)) {
      const p = join(dir, name);
      let isDir = false;
      try {
        isDir = statSync(p).isDirectory();
      } catch {
        continue;
      }
      if (isDir) walkRefs(p);
      else if (TEMP.test(name) && deadWriter(name)) rm(p);
    }
  };
  walkRefs(join(paths.gitDir, 'refs'));
  for (const dir of [paths.gitDir, paths.home, paths.runtime, paths.wheelhouse]) {
    for (const name of files(dir)) if (TEMP.test(name) && deadWriter(name)) rm(join(dir, name));
  }
  return removed;
}

/** The commit HEAD's branch should name, if HEAD's commit is unreadable; else null. */
export function lastKnownGood(paths: HomePaths): string | null {
  try {
    const last = JSON.parse(readFileSync(join(paths.runtime, 'last.json'), 'utf8')) as { commit?: string };
    return typeof last.commit === 'string' && /^[0-9a-f]{40}$/.test(last.commit) ? last.commit : null;
  } catch {
    return null;
  }
}

/** Point the branch HEAD names at `oid` (an atomic write of the loose ref). */
export async function resetBranch(paths: HomePaths, oid: string): Promise<void> {
  const head = readFileSync(join(paths.gitDir, 'HEAD'), 'utf8').trim();
  const m = /^ref: (refs\/heads\/.+)$/.exec(head);
  await writeAtomicLast(join(paths.gitDir, m ? m[1] : 'HEAD'), `${oid}\n`);
}
