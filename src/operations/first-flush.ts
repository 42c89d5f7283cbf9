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
import { existsSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PyctlError } from '../errors.js';
import { DEFAULT_CONFIG_TEXT } from '../config/config.js';
import { flushLater, flushNow, flushPending, fsyncDir, replaceViaTemp, writeAtomic } from '../fs/durable.js';
import { readTextOr } from '../fs/read-text.js';
import { sweepAfterCrash } from '../gitstore/recover.js';
import { branchNames, tagNames } from '../gitstore/refs.js';
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

/**
 * Pay a first init's owed flush, under the lock, before anything names operation 0. Returns
 * 'flushed', 'rebuilt' (operation 0 recorded again from the venv by `recordFirst`), or null
 * (nothing owed; no operation 0 yet: an init still to finish, which `pyctl init` does; or not
 * whole and no `recordFirst` given).
 */
export async function settleFirstInit(home: Home, recordFirst: ((home: Home) => Promise<unknown>) | null): Promise<'flushed' | 'rebuilt' | null> {
  const { paths, repo } = home;
  if (!flushOwed(paths)) return null;
  // No branch and no tag yet: an init still making operation 0 (this very run, one that did not
  // finish, or the rebuild below recording it again).
  if (!branchNames(paths.gitDir).length && !tagNames(paths.gitDir).length) return null;
  const owed = readOwed(paths);
  const check = await repo.verify(1).catch(() => null);
  const whole = !!check && check.commits > 0 && !check.problems.length && !check.tagProblems.length;
  if (whole) {
    await pay(paths, owed);
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
  if (!readTextOr(paths.config)?.trim()) writeAtomic(paths.config, DEFAULT_CONFIG_TEXT);
  await repo.initFirst();
  if (hookState(paths) !== 'ok') installHook(paths);
  await recordFirst(home);
  await pay(paths, owed);
  return 'rebuilt';
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

/**
 * Flush what init wrote: the marker's list, or without it (init did not get to its end, or a
 * power cut emptied the marker) every loose object, as the crash sweep finds them, the refs and
 * the other files init writes durably. Then the marker goes.
 */
async function pay(paths: HomePaths, owed: { files: string[]; dirs: string[] } | null): Promise<void> {
  if (owed) await flushNow(owed);
  else {
    sweepAfterCrash(paths);
    const refs = [...branchNames(paths.gitDir).map((n) => `heads/${n}`), ...tagNames(paths.gitDir).map((n) => `tags/${n}`)];
    for (const f of [
      join(paths.gitDir, 'HEAD'),
      join(paths.gitDir, 'config'),
      paths.config,
      join(paths.home, '.gitignore'),
      ...hookFiles(paths.venv),
      ...refs.map((r) => join(paths.gitDir, 'refs', r)),
    ]) {
      flushLater(f);
    }
    await flushPending();
  }
  done(paths);
}

/** The flush is paid: the marker goes, and its removal reaches the disk (else the next run pays again). */
function done(paths: HomePaths): void {
  unlinkSync(marker(paths));
  fsyncDir(paths.runtime);
}
