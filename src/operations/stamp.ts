/**
 * The stamp: site-packages' mtime when the venv was last recorded. One stat tells whether
 * anything was installed or removed since (docs/how-it-works.md); the pip hook reads the same file.
 */
import { sitePackagesMtimeNs } from '../venv/freeze.js';
import { writeAtomic } from '../fs/durable.js';
import { readTextOr } from '../fs/read-text.js';
import type { HomePaths } from '../paths.js';

export function currentMtime(paths: HomePaths): bigint | null {
  try {
    return sitePackagesMtimeNs(paths.venv);
  } catch {
    return null;
  }
}

export function readStamp(paths: HomePaths): bigint | null {
  const t = readTextOr(paths.stamp)?.trim();
  return t && /^\d+$/.test(t) ? BigInt(t) : null;
}

export function writeStamp(paths: HomePaths, mtime: bigint | null): void {
  // A cache: lost or stale, it only costs one re-scan of site-packages. Atomic, not flushed.
  if (mtime !== null) writeAtomic(paths.stamp, `${mtime}\n`, { sync: false });
}

/** True when site-packages changed since the last record (or we cannot tell). */
export function venvMoved(paths: HomePaths): boolean {
  const now = currentMtime(paths);
  return now === null || now !== readStamp(paths);
}
