/**
 * A first `pyctl init` flushes nothing (fs/durable.ts `withoutFlushes`): on a busy disk every
 * flush round waits behind other writers' data, and all init writes can be made again from the
 * venv, which `python -m venv` does not flush either. The flush is owed, not dropped:
 *
 * - `.git/pyctl/unflushed`, created before anything else init writes, says so; at the end it
 *   lists what init wrote unflushed. Journaling file systems (ext4, XFS, btrfs) keep metadata
 *   changes in order, so whenever operation 0's ref survived a power cut, the marker did too.
 * - The first record after it (any command that writes history, and the pip hook's record, all
 *   under the lock) settles it: operation 0 read whole (commit, tree, blobs, tag) -> what init
 *   wrote is flushed, then the marker goes; not whole (a power cut emptied some of it) -> the
 *   branch and tags init made go, and operation 0 is recorded again from the venv, flushed.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PyctlError } from '../errors.js';
import { DEFAULT_CONFIG_TEXT } from '../config/config.js';
import { flushNow, fsyncDir, replaceViaTemp, writeAtomic } from '../fs/durable.js';
import { readTextOr } from '../fs/read-text.js';
import { sweepAfterCrash } from '../gitstore/recover.js';
import { hookFiles, hookState, installHook } from '../pip/hook.js';
import { venvHealth } from '../venv/health.js';
import type { HomePaths } from '../paths.js';
import type { Home } from './home.js';

/** The snapshot a first init makes (config `snapshots.auto_baseline`). */
export const BASELINE = 'baseline';

const marker = (paths: HomePaths) => join(paths.runtime, 'unflushed');

/** Whether a first init's flush is still owed (one stat: every record asks). */
export function flushOwed(paths: HomePaths): boolean {
  return existsSync(marker(paths));
}

/** Before a first init writes anything: the flush it skips is owed from now on. */
export function oweFlush(paths: HomePaths): void {
  writeFileSync(marker(paths), '');
}

/** At the end of a first init: what it wrote unflushed, for the settling run to flush. */
export function listOwed(paths: HomePaths, unflushed: { files: string[]; dirs: string[] }): void {
  replaceViaTemp(marker(paths), (tmp) => writeFileSync(tmp, JSON.stringify(unflushed)));
}

let settling = false;

/**
 * Pay a first init's owed flush, under the lock, before anything names operation 0. Returns
 * 'flushed', 'rebuilt' (operation 0 recorded again from the venv by `recordFirst`), or null
 * (nothing owed; no operation 0 yet: an init still to finish, which `pyctl init` does; or not
 * whole and no `recordFirst` given).
 */
export async function settleFirstInit(home: Home, recordFirst: ((home: Home) => Promise<unknown>) | null): Promise<'flushed' | 'rebuilt' | null> {
  const { paths, repo } = home;
  if (settling || !flushOwed(paths)) return null;
  // No branch and no tag yet: an init still making operation 0 (this very run, or one that did not finish).
  if (!hasRefs(paths)) return null;
  const owed = readOwed(paths);
  const check = await repo.verify(1).catch(() => null);
  const whole = !!check && check.commits > 0 && !check.problems.length && !check.tagProblems.length;
  if (whole) {
    await flushNow(owed ?? everything(paths));
    done(paths);
    return 'flushed';
  }
  // Only paying (a record started with pip: the venv is changing): making it again waits for the record.
  if (!recordFirst) return null;
  // What a power cut may have emptied: init's branch and tag (made again below), its loose
  // objects (swept: empty or not inflating), and the files a re-run of init writes again.
  for (const d of ['heads', 'tags']) {
    const dir = join(paths.gitDir, 'refs', d);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
  }
  rmSync(join(paths.gitDir, 'packed-refs'), { force: true });
  for (const f of [join(paths.gitDir, 'HEAD'), join(paths.gitDir, 'config')]) if (!readTextOr(f)?.trim()) rmSync(f, { force: true });
  if (!existsSync(join(paths.gitDir, 'HEAD'))) rmSync(join(paths.gitDir, 'config'), { force: true }); // made again together
  sweepAfterCrash(paths);
  repo.forget();
  if (venvHealth(paths.venv).status !== 'ok') {
    // Nothing to record operation 0 from: the home is as an init that never finished.
    throw new PyctlError(
      'STATE_CORRUPT',
      `the first state of ${paths.home} was lost before it reached the disk (a power cut right after pyctl init), and the venv is damaged too`,
      `remove ${paths.venv} and run 'pyctl init' again`,
    );
  }
  settling = true;
  try {
    if (!readTextOr(paths.config)?.trim()) writeAtomic(paths.config, DEFAULT_CONFIG_TEXT);
    await repo.initFirst();
    if (hookState(paths) !== 'ok') installHook(paths);
    await recordFirst(home);
  } finally {
    settling = false;
  }
  await flushNow(owed ?? everything(paths));
  done(paths);
  return 'rebuilt';
}

function hasRefs(paths: HomePaths): boolean {
  const any = (dir: string) => {
    try {
      return readdirSync(join(paths.gitDir, 'refs', dir)).length > 0;
    } catch {
      return false;
    }
  };
  return any('heads') || any('tags') || existsSync(join(paths.gitDir, 'packed-refs'));
}

/** The marker's list, or null when it has none (init did not get to its end, or a power cut emptied it). */
function readOwed(paths: HomePaths): { files: string[]; dirs: string[] } | null {
  try {
    const o = JSON.parse(readFileSync(marker(paths), 'utf8')) as { files?: unknown; dirs?: unknown };
    if (Array.isArray(o.files) && Array.isArray(o.dirs)) return { files: o.files.map(String), dirs: o.dirs.map(String) };
  } catch {
    // torn or empty
  }
  return null;
}

/** Without the list: every file init writes durably, and their folders. */
function everything(paths: HomePaths): { files: string[]; dirs: string[] } {
  const files = [join(paths.gitDir, 'HEAD'), join(paths.gitDir, 'config'), paths.config, join(paths.home, '.gitignore'), ...hookFiles(paths.venv)];
  const walk = (dir: string) => {
    let names: import('node:fs').Dirent[];
    try {
      names = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const d of names) (d.isDirectory() ? walk : (p: string) => files.push(p))(join(dir, d.name));
  };
  walk(join(paths.gitDir, 'objects'));
  walk(join(paths.gitDir, 'refs'));
  return { files, dirs: [...new Set(files.map((f) => dirname(f)))] };
}

/** The flush is paid: the marker goes, and its removal reaches the disk (else the next run pays again). */
function done(paths: HomePaths): void {
  unlinkSync(marker(paths));
  fsyncDir(paths.runtime);
}
