/**
 * Keep the state repo small. isomorphic-git writes every object loose and never packs: ~13 KB
 * on disk per operation, 130 MB at 10,000 operations. After a record, when loose objects pile up,
 * pyctl starts `pyctl _maintain` detached (it never delays or fails the pip run that triggered
 * it); that takes the home's lock and packs: with the git CLI `git repack -d` (and `repack -a -d`
 * once packs accumulate: deltas make 10,000 operations a few MB), else isomorphic-git's
 * packObjects + indexPack (no deltas, so larger).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, realpathSync, rmdirSync, unlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { HomePaths } from '../paths.js';
import { fs, loadGit } from './git.js';
import { writeAtomic } from '../fs/durable.js';
import { readTextOr } from '../fs/read-text.js';
import { withLock } from './lock.js';

/** Start maintenance when this many of the 256 object fan-out folders exist (~70 loose objects, ~20 operations). */
export const LOOSE_DIRS_THRESHOLD = 64;
/** Consolidate into one pack when there are more than this many packs. */
export const MAX_PACKS = 8;

const FANOUT = /^[0-9a-f]{2}$/;

/** How many fan-out folders (objects/00..ff) exist: one readdir, a proxy for the loose object count. */
export function looseDirCount(gitDir: string): number {
  try {
    return readdirSync(join(gitDir, 'objects')).filter((n) => FANOUT.test(n)).length;
  } catch {
    return 0;
  }
}

/**
 * Fan-out folders left after the last maintenance: unreachable objects (an interrupted write)
 * stay loose until they are two weeks old, and must not make every record start a repack.
 */
const residualFile = (paths: HomePaths) => join(paths.runtime, 'maintained');

function residual(paths: HomePaths): number {
  const n = Number.parseInt(readTextOr(residualFile(paths), '0') ?? '0', 10);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

export function needsMaintenance(paths: HomePaths): boolean {
  const count = looseDirCount(paths.gitDir);
  return count >= Math.min(256, residual(paths) + LOOSE_DIRS_THRESHOLD);
}

/**
 * Start `pyctl _maintain` in the background when needed. Detached, output discarded, never
 * waited for: the caller (often a pip run) goes on at once. Quietly does nothing when pyctl is
 * not running from its bundle (e.g. under a test runner).
 */
export function maybeStartMaintenance(paths: HomePaths, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.PYCTL_NO_MAINTENANCE || !needsMaintenance(paths)) return false;
  let cli: string;
  try {
    cli = realpathSync(process.argv[1] ?? '');
  } catch {
    return false;
  }
  if (!/pyctl(\.js)?$/.test(cli)) return false;
  try {
    const child = spawn(process.execPath, [cli, '_maintain', '--home', paths.home], { detached: true, stdio: 'ignore', cwd: '/' });
    child.on('error', () => {});
    child.unref();
    return true;
  } catch {
    return false;
  }
}

export interface MaintainResult {
  ran: boolean;
  how?: 'git' | 'isomorphic-git';
  packs?: number;
}

function gitCli(args: string[], gitDir: string): boolean {
  const r = spawnSync('git', ['--git-dir', gitDir, '-c', 'gc.auto=0', ...args], { stdio: 'ignore' });
  return !r.error && r.status === 0;
}

const packCount = (gitDir: string) => {
  try {
    return readdirSync(join(gitDir, 'objects', 'pack')).filter((f) => f.endsWith('.pack')).length;
  } catch {
    return 0;
  }
};

/**
 * Pack loose objects, under the home's lock (a pip run that starts meanwhile waits for it: an
 * incremental repack takes tens of milliseconds). Gives up after `waitMs` if the lock is busy;
 * the next record will start it again.
 */
export async function maintain(paths: HomePaths, opts: { waitMs?: number; force?: boolean } = {}): Promise<MaintainResult> {
  if (!existsSync(join(paths.gitDir, 'HEAD'))) return { ran: false };
  try {
    return await withLock(
      paths.lock,
      'pyctl maintenance (packing the state repo)',
      async () => {
        if (!opts.force && !needsMaintenance(paths)) return { ran: false };
        if (gitCli(['--version'], paths.gitDir)) {
          // Incremental: loose objects -> one new pack, loose copies removed (prune-packed).
          gitCli(['repack', '-d', '-q'], paths.gitDir);
          if (packCount(paths.gitDir) > MAX_PACKS) {
            gitCli(['repack', '-a', '-d', '-q'], paths.gitDir);
            // Unreachable leftovers (interrupted writes), once old enough that no writer can still need them.
            gitCli(['prune', '--expire=2.weeks.ago'], paths.gitDir);
          }
          writeAtomic(residualFile(paths), `${looseDirCount(paths.gitDir)}\n`);
          return { ran: true, how: 'git' as const, packs: packCount(paths.gitDir) };
        }
        await packWithIsomorphicGit(paths);
        writeAtomic(residualFile(paths), `${looseDirCount(paths.gitDir)}\n`);
        return { ran: true, how: 'isomorphic-git' as const, packs: packCount(paths.gitDir) };
      },
      { timeoutMs: opts.waitMs ?? 60_000 }, // no note: run detached, nobody would see it
    );
  } catch {
    return { ran: false };
  }
}

async function packWithIsomorphicGit(paths: HomePaths): Promise<void> {
  const git = await loadGit();
  const objects = join(paths.gitDir, 'objects');
  const loose: string[] = [];
  for (const d of readdirSync(objects).filter((n) => FANOUT.test(n))) {
    for (const f of readdirSync(join(objects, d))) if (/^[0-9a-f]{38}$/.test(f)) loose.push(d + f);
  }
  if (!loose.length) return;
  const base = { fs, dir: paths.home, gitdir: paths.gitDir };
  const { filename } = await git.packObjects({ ...base, oids: loose, write: true });
  const pack = join(objects, 'pack', filename);
  const { oids } = await git.indexPack({ ...base, filepath: relative(paths.home, pack) });
  // Only once the pack and its index are complete do the loose copies go.
  for (const oid of oids) {
    try {
      unlinkSync(join(objects, oid.slice(0, 2), oid.slice(2)));
    } catch {
      // already gone
    }
  }
  for (const d of readdirSync(objects).filter((n) => FANOUT.test(n))) {
    try {
      if (!readdirSync(join(objects, d)).length) rmdirSync(join(objects, d));
    } catch {
      // not empty (a writer added one meanwhile) or gone
    }
  }
}
