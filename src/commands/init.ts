/** pyctl init: the venv, the recording hook, the state repo, operation 0 and the baseline tag. */
import { existsSync, mkdirSync, realpathSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PyctlError, usage } from '../errors.js';
import { DEFAULT_CONFIG_TEXT } from '../config/config.js';
import { recordDrift, recordFirst, recoverAfterCrash } from '../operations/record.js';
import { clearCrashMarker, readCrashMarker } from '../gitstore/recover.js';
import { hookState, installHook, installMode, selfCommand } from '../pip/hook.js';
import { withoutFlushes, writeAtomic } from '../fs/durable.js';
import { BASELINE, listOwed, oweFlush } from '../operations/first-flush.js';
import { readTextOr } from '../fs/read-text.js';
import { checkHome, isPyctlRepo } from '../operations/home-check.js';
import { withLock } from '../gitstore/lock.js';
import { createVenv, findPython } from '../venv/create.js';
import { spawnSync } from 'node:child_process';
import { rebuildReport, rebuildVenv } from '../operations/rebuild-venv.js';
import { pickPython, venvHealth } from '../venv/health.js';
import { seedWheelhouse } from '../wheelhouse/wheelhouse.js';
import type { Context, Output } from '../operations/context.js';
import type { SharedFiles } from '../wheel/package-store.js';

export async function init(ctx: Context, opts: { python?: string; pipWheel?: string; from?: string; snapshot?: string; dropMissing?: boolean; dryRun?: boolean }): Promise<Output> {
  const { home } = ctx;
  const { paths } = home;
  if (ctx.system && installMode() !== 'system') {
    // The system venv's pip hook calls back the program that runs init: it should be the
    // system-wide copy, which every user can read and which outlives any one user's install.
    ctx.note(
      `warning: this pyctl (${selfCommand().cli}) is not the system-wide install; the system venv's pip will record through it. Run 'sudo ./install.sh --system' to set it up with the system copy.`,
    );
  }
  // Never make (or adopt) a home in /, a system folder, or another project's git repo.
  if (!(home.initialized() && isPyctlRepo(paths.gitDir))) checkHome(paths.home);
  if (opts.from !== undefined || opts.snapshot !== undefined) {
    if (opts.from === undefined) throw usage('--snapshot needs --from URL', 'pyctl init --from https://host/env.git --snapshot NAME');
    return (await import('./init-from.js')).initFrom(ctx, opts.from, opts);
  }
  if (home.initialized() && (await home.repo.headOid())) {
    if (opts.python) {
      // init --python X on an existing home moves it to that Python (as doctor --fix does).
      const moved = await moveToPython(ctx, opts.python, opts);
      if (moved) return moved;
    }
    if (opts.dryRun) return { text: 'nothing would change (the venv already runs that Python; dry run)\n', json: { dryRun: true, moved: false } };
    return already(ctx);
  }
  if (opts.dropMissing || opts.dryRun)
    throw usage(`${opts.dropMissing ? '--drop-missing' : '--dry-run'} is for moving an existing home to another Python (with --python)`, 'pyctl init --python 3.12 --dry-run');
  void home.config; // a broken config.toml stops here, before anything else is made
  return initLocal(ctx, findPython(opts.python), opts.pipWheel ? resolve(opts.pipWheel) : undefined);
}

/** A new home: venv, hook, state repo, operation 0 (also the first step of init --from). */
export async function initLocal(ctx: Context, python: string, pipWheel?: string): Promise<Output> {
  const { home } = ctx;
  const { paths } = home;
  // A first init that fails (no pip to be had, a refused download) leaves no home behind.
  const made = mkdirSync(paths.home, { recursive: true }); // the first folder made, if any
  // Everything under the lock (it lives in .git/pyctl, made here if need be): two inits at once
  // make one venv and one operation 0; a pip run waits for the venv to be recorded.
  let failed = false;
  // Ctrl-C before operation 0 is committed stops the init and takes out what it made (exit 130).
  // (Caught only once the lock is held: a Ctrl-C while waiting for it ends the wait as before.)
  let interrupted = false;
  const onInt = () => {
    interrupted = true;
  };
  const stopIfInterrupted = () => {
    if (interrupted) throw new PyctlError('INTERRUPTED', 'interrupted (Ctrl-C): nothing was set up', "run 'pyctl init' again", 130);
  };
  try {
    return await withLock(
      paths.lock,
      'pyctl init',
      async () => {
        if (home.initialized() && (await home.repo.headOid())) return already(ctx, true);
        process.on('SIGINT', onInt);
        // Nothing is flushed: the first record after this init pays the flush, or makes
        // operation 0 again from the venv if a power cut emptied it (operations/first-flush.ts).
        // On a busy disk every flush round waits behind other writers' data.
        oweFlush(paths);
        try {
          const { result, unflushed } = await withoutFlushes(() => create(ctx, python, pipWheel, stopIfInterrupted));
          listOwed(paths, unflushed);
          return result;
        } catch (e) {
          failed = true;
          throw e;
        }
      },
      { note: ctx.note },
    );
  } catch (e) {
    if (failed && made) rmSync(made, { recursive: true, force: true });
    stopIfInterrupted(); // whatever failed on the way (a venv tool killed by the same Ctrl-C)
    throw e;
  } finally {
    process.off('SIGINT', onInt);
  }
}

/** The system tier is marked so records made by its pip hook know to keep files world-readable. */
function markSystem(ctx: Context): void {
  const { paths } = ctx.home;
  if (ctx.system && !existsSync(paths.systemMarker)) writeAtomic(paths.systemMarker, 'This is the system tier: root-owned, read-only for users (pyctl --system).\n');
}

async function already(ctx: Context, locked = false): Promise<Output> {
  const { paths } = ctx.home;
  markSystem(ctx);
  // Homes made before init wrote one get the repo's own git identity (git commit works there).
  if (!ctx.system && (await ctx.home.repo.ensureIdentity())) ctx.note(`set the state repo's git identity (user.name/user.email in ${paths.gitDir}/config)`);
  // A reinstall from another place (or another node) must point the hook at the new program.
  if (hookState(paths) !== 'ok') {
    if (locked) installHook(paths);
    else await withLock(paths.lock, 'pyctl init --refresh-hook', async () => installHook(paths), { note: ctx.note });
    return { text: `pyctl is already set up in ${paths.home}; refreshed the pip hook to this pyctl.\n`, json: { home: paths.home, venv: paths.venv, created: false, hookRefreshed: true } };
  }
  return {
    text: `pyctl is already set up in ${paths.home}; nothing changed.\n`,
    json: { home: paths.home, venv: paths.venv, created: false },
  };
}

async function create(ctx: Context, python: string, pipWheel: string | undefined, stopIfInterrupted: () => void): Promise<Output> {
  const { home } = ctx;
  const { paths, repo } = home;
  // Written unflushed (withoutFlushes): one a power cut left empty is written again.
  if (!readTextOr(paths.config)?.trim()) writeAtomic(paths.config, DEFAULT_CONFIG_TEXT);
  void home.config;
  const crash = readCrashMarker(paths);
  if (crash) {
    // A first init killed before its operation 0: its temp files and half-installed packages
    // go, and a venv it had not finished (no python or no pip) is made anew; a whole one stays.
    await recoverAfterCrash(home, crash);
    if (!existsSync(join(paths.venv, 'bin', 'python')) || !existsSync(join(paths.venv, 'bin', 'pip'))) {
      ctx.note(`removing the half-made ${paths.venv} an interrupted 'pyctl init' left`);
      rmSync(paths.venv, { recursive: true, force: true });
    }
  }
  let shared: SharedFiles | undefined;
  if (!existsSync(paths.venv)) {
    // Made in place (a venv's scripts name their own path); a failure removes the half-made one.
    ctx.note(`creating ${paths.venv} with ${python}`);
    try {
      const made = await createVenv(paths.venv, python, { store: paths.store, wheelhouse: paths.wheelhouse, pipWheel });
      const { wheels, seededFrom } = made;
      shared = made.shared;
      if (seededFrom) ctx.note(`pip for the venv came from ${seededFrom}${pipWheel ? '' : ` (${python} has no ensurepip)`}`);
      seedWheelhouse(paths.wheelhouse, wheels, !seededFrom);
    } catch (e) {
      rmSync(paths.venv, { recursive: true, force: true });
      throw e;
    }
  }
  stopIfInterrupted();
  await repo.initFirst();
  mkdirSync(paths.runtime, { recursive: true });
  markSystem(ctx);
  installHook(paths);
  stopIfInterrupted(); // past this, operation 0 is committed and the init finishes
  const { rec, baseline, version } = await recordFirst(home, shared);
  if (crash) clearCrashMarker(paths); // operation 0 is the whole state: nothing more to record
  const lines = [
    `pyctl is set up in ${paths.home}`,
    `  venv:    ${paths.venv} (Python ${version})`,
    `  history: ${rec ? `operation ${rec.op} recorded` : 'kept'}${baseline ? `, snapshot '${BASELINE}' made` : ''}`,
    `Put ${paths.venv}/bin first on PATH (./install.sh or 'pyctl setup-shell' does this) and 'pip install' lands here.`,
  ];
  return { text: lines.join('\n') + '\n', json: { home: paths.home, venv: paths.venv, python: version, created: true, op: rec?.op ?? null, baseline } };
}

/** The real interpreter behind a python command (pyenv shims and symlinks resolved), or null. */
function realInterpreter(python: string): string | null {
  const r = spawnSync(python, ['-c', 'import os, sys; print(os.path.realpath(sys.executable))'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/**
 * `pyctl init --python X` on an existing home: rebuild the venv on X with its packages, recorded
 * as a `rebuild` operation (docs/doctor.md). Null when the venv already runs on X.
 */
async function moveToPython(ctx: Context, spec: string, opts: { dropMissing?: boolean; dryRun?: boolean }): Promise<Output | null> {
  const { home } = ctx;
  const { paths } = home;
  const health = venvHealth(paths.venv);
  const python = pickPython(paths.venv, spec, health.version);
  if (health.status === 'ok' && health.base) {
    const want = realInterpreter(python);
    let cur: string | null = null;
    try {
      cur = realpathSync(health.base);
    } catch {
      // gone: rebuild
    }
    if (want && want === cur) return null;
  }
  const r = await withLock(
    paths.lock,
    'pyctl init --python',
    async () => {
      if (!opts.dryRun) {
        const drift = await recordDrift(home);
        if (drift) ctx.note(`recorded changes made outside pip as operation ${drift.op} (external change)`);
      }
      return rebuildVenv(home, {
        python,
        subject: (from, to) => `pyctl init --python ${spec}: venv moved to Python ${to}${from ? ` (was ${from})` : ''}`,
        note: ctx.note,
        verbose: ctx.verbose,
        dropMissing: opts.dropMissing,
        dryRun: opts.dryRun,
      });
    },
    { note: ctx.note },
  );
  const was = r.from ? ` (was ${r.from})` : '';
  const head = r.dryRun
    ? `moving ${paths.venv} to Python ${r.to}${was} ${r.dropped.length ? `would be refused: ${r.dropped.length} package(s) have no build for it (--drop-missing would leave them out)` : 'would bring every package across'} (dry run: nothing changed)`
    : `moved ${paths.venv} to Python ${r.to}${was} in ${(r.ms / 1000).toFixed(1)} s: ${r.reinstalled} package(s) reinstalled${r.op !== null ? `, recorded as operation ${r.op}` : ''}`;
  return {
    text: [head, ...rebuildReport(r)].join('\n') + '\n',
    json: {
      home: paths.home,
      venv: paths.venv,
      created: false,
      moved: !r.dryRun,
      dryRun: r.dryRun,
      from: r.from ?? null,
      python: r.to,
      op: r.op,
      carried: r.carried,
      dropped: r.dropped,
      seedChanges: r.seedChanges,
    },
    exitCode: r.dryRun && r.dropped.length ? 1 : 0,
  };
}
