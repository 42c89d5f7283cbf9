/**
 * Make the venv match a target installed set, as one transaction: find every source first,
 * keep a copy of everything it will remove (a stored package: hard links, else a wheel), change
 * only what differs (stored packages are linked back, wheels installed, the rest through pip),
 * check the result, and on any failure (pip, a missing wheel, Ctrl-C) put the venv back exactly
 * as it was.
 */
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PyctlError } from '../errors.js';
import { changeLine, diffSets, type PackageSet } from '../plan/changes.js';
import { expectedAfter, planIsEmpty, planReconcile, type ReconcilePlan, type Step } from '../plan/reconcile.js';
import { pipError, runPip } from '../pip/run.js';
import { freezeText, readInstalled, type Installed } from '../venv/freeze.js';
import { normalizeVersion } from '../packaging/pep440.js';
import { parseFreeze } from '../packaging/parse-freeze.js';
import { venvPythonVersion } from '../venv/syspath.js';
import { installWheels, type WheelRequest } from '../wheel/install.js';
import { uninstallDist, type Trash } from '../wheel/uninstall.js';
import { isStoredInstall, storePackage } from '../wheel/package-store.js';
import { linkBack, type LinkBack } from '../wheel/link-back.js';
import { silentReporter, thousands, type Reporter, type Task } from '../render/progress.js';
import { sidePath } from '../venv/aside.js';
import { Wheelhouse } from '../wheelhouse/wheelhouse.js';
import type { ScanCache } from '../venv/scan-cache.js';
import { resolveSources, type KnownFiles, type Source, type StoreTarget } from './sources.js';
import type { LockedFile } from './from-lock.js';
import { testPause } from '../debug/faults.js';
import type { PinHashes } from './hashes.js';
import { isErrnoError, osErrorLine } from '../os-error.js';

export interface ReconcileOptions {
  venv: string;
  wheelhouse: Wheelhouse;
  note(line: string): void;
  /** Progress of the steps (only a terminal shows it). */
  reporter?: Reporter;
  verbose?: boolean;
  dryRun?: boolean;
  /** Keys to install with REQUESTED (asked for by the user); those installed with it keep it. */
  requested?: Set<string>;
  /** Skip re-reading unchanged .dist-info directories (the caller saves it). */
  scanCache?: ScanCache;
  /** The content-addressed .pyc cache (venv/create.ts): undo/redo of the same versions compiles once. */
  pycCache?: string;
  /** The home's LinkStore folder: files come back as hard links instead of new files. */
  store?: string;
  /** Keys to take out and put back even at the same version (a build that does not fit, or is damaged). */
  reinstall?: ReadonlySet<string>;
  /** Use the wheelhouse only, never the index (a missing wheel is a MISSING_WHEEL error). */
  offline?: boolean;
  /** Recorded sha256 of original files: a kept or downloaded original must match (sources.ts). */
  known?: () => Promise<KnownFiles>;
  /** A lock file's files per version (restore --file pylock.toml): fetched from there. */
  locked?: ReadonlyMap<string, readonly LockedFile[]>;
  /** --hash values by package key (restore --file): each installed file must match one. */
  hashes?: Map<string, PinHashes>;
  /** The stored packages' index folder (paths.packages): with `store`, undo/redo link whole packages back. */
  packages?: string;
  /**
   * Read stored packages, never write their index (bisect's scratch venvs): an entry names the
   * user's venv it was installed into, and a scratch venv must not take that over.
   */
  storeReadOnly?: boolean;
}

/** The stored packages this venv can use, when the caller gave the store's folders. */
function storeTarget(opts: ReconcileOptions): StoreTarget | undefined {
  if (!opts.store || !opts.packages) return undefined;
  let python: string;
  try {
    python = venvPythonVersion(opts.venv).split('.').slice(0, 2).join('.');
  } catch {
    return undefined;
  }
  return { dirs: { files: opts.store, packages: opts.packages }, venv: resolve(opts.venv), python };
}

export interface ReconcileResult {
  plan: ReconcilePlan;
  /** The installed set before, as freeze text. */
  before: string;
  /** The installed set after (equal to before on a dry run). */
  after: string;
}

function setOf(items: Installed[]): PackageSet {
  return new Map(items.map((d) => [d.key, { name: d.name, version: d.version, line: d.line }]));
}

export async function reconcile(targetText: string, opts: ReconcileOptions): Promise<ReconcileResult> {
  const installed = readInstalled(opts.venv, { cache: opts.scanCache });
  const before = freezeText(installed);
  const target = parseFreeze(targetText);
  opts = { ...opts, requested: new Set([...(opts.requested ?? []), ...installed.filter((d) => d.requested).map((d) => d.key)]) };
  const plan = planReconcile(setOf(installed), target, opts.reinstall);
  if (opts.dryRun || planIsEmpty(plan)) return { plan, before, after: before };

  const store = storeTarget(opts);
  const sources = await resolveSources(plan.install, {
    venv: opts.venv,
    wheelhouse: opts.wheelhouse,
    store,
    note: opts.note,
    verbose: opts.verbose,
    pycCache: opts.pycCache,
    offline: opts.offline,
    known: opts.known,
    locked: opts.locked,
    hashes: opts.hashes,
  });
  const byKey = new Map(installed.map((d) => [d.key, d]));
  // A build being repaired is not worth keeping (and a damaged one cannot be rebuilt into a wheel).
  keepCopies(
    plan.remove.filter((s) => !opts.reinstall?.has(s.key)).map((s) => byKey.get(s.key)!),
    opts,
    opts.storeReadOnly ? undefined : store,
  );

  let interrupted = false;
  const onInt = () => {
    interrupted = true;
  };
  process.on('SIGINT', onInt);
  const trash: Trash = { dir: sidePath(opts.venv, 'trash', `${process.pid}-${Date.now()}`), used: 0, paths: 0 };
  try {
    await apply(
      plan,
      byKey,
      sources,
      opts,
      () => {
        if (interrupted) throw new PyctlError('RECONCILE_FAILED', 'interrupted (Ctrl-C)', undefined, 130);
      },
      trash,
    );
    if (interrupted) throw new PyctlError('RECONCILE_FAILED', 'interrupted (Ctrl-C)', undefined, 130);
    const now = readInstalled(opts.venv, { cache: opts.scanCache });
    const after = freezeText(now);
    const problem = mismatch(expectedAfter(setOf(installed), target), parseFreeze(after));
    if (problem) throw new PyctlError('RECONCILE_FAILED', `the venv does not match the target after reconciling: ${problem}`);
    if (store && !opts.storeReadOnly) storeInstalled(now, sources, store);
    return { plan, before, after };
  } catch (e) {
    await rollBack(before, opts, e as Error);
    throw e; // unreachable: rollBack throws
  } finally {
    process.off('SIGINT', onInt);
    if (trash.used) deleteTrash(trash);
  }
}

/**
 * Before removing anything, make sure it can come back: its stored package (the files are
 * linked into the store, checked against RECORD first when they were not stored at install
 * time), else a wheel in the wheelhouse (a venv the store cannot link: another filesystem).
 */
function keepCopies(removing: Installed[], opts: ReconcileOptions, store?: StoreTarget): void {
  const capturable = removing.filter(Wheelhouse.capturable);
  const wheelsNeeded = capturable.filter((d) => !store || !keptInStore(d, store));
  opts.wheelhouse.capture(opts.venv, wheelsNeeded);
  const lost = wheelsNeeded.filter((d) => !opts.wheelhouse.keeps(d));
  if (lost.length) {
    throw new PyctlError(
      'RECONCILE_FAILED',
      `cannot keep a copy of ${lost.map((d) => `${d.name} ${d.version}`).join(', ')} (its installed files do not match its RECORD)`,
      'reinstall it with pip first, then try again; nothing was changed',
    );
  }
}

/**
 * The stored package of an installed distribution is this install (its files are the stored
 * ones: nothing better to keep; whether they were edited is checked when they come back), or
 * it is stored now, each file checked against RECORD first.
 */
function keptInStore(d: Installed, store: StoreTarget): boolean {
  if (isStoredInstall(store.dirs, d, store.venv)) return true;
  return storePackage(store.dirs, store.venv, d, store.python, { trusted: false }) !== null;
}

/** Packages that came from wheels (pyctl's installer wrote them just now) become stored packages too. */
function storeInstalled(now: Installed[], sources: Map<string, Source>, store: StoreTarget): void {
  for (const d of now) {
    if (sources.get(d.key)?.kind !== 'wheel' || !Wheelhouse.capturable(d)) continue;
    storePackage(store.dirs, store.venv, d, store.python, { trusted: true });
  }
}

/**
 * Removed folders are deleted after the change: a few files here (less CPU than starting a
 * process: node:child_process, a fork and rm cost an undo of a small package ~20-30 ms), more in
 * the background, so an undo of torch does not wait for 21,000 unlinks. Doctor finds leftovers.
 */
const TRASH_HERE = 500;
function deleteTrash(trash: Trash): void {
  if (trash.paths <= TRASH_HERE) {
    try {
      rmSync(trash.dir, { recursive: true, force: true });
      return;
    } catch {
      // left for the background rm below
    }
  }
  spawn('rm', ['-rf', trash.dir], { detached: true, stdio: 'ignore' }).unref();
}

async function apply(plan: ReconcilePlan, byKey: Map<string, Installed>, sources: Map<string, Source>, opts: ReconcileOptions, check: () => void, trash?: Trash): Promise<void> {
  const total = plan.remove.length + plan.install.length;
  let done = 0;
  const task: Task = (opts.reporter ?? silentReporter).start('changing the venv', total);
  // "[3/10] linking torch 2.13.0 back (5,000 of 20,917 files)": the step being worked on now.
  const show = (what: string) => task.tick(0, `[${Math.min(done + 1, total)}/${total}] ${what}`);
  const step = () => {
    done++;
    task.tick(1);
  };
  try {
    for (const s of plan.remove) {
      check();
      const d = byKey.get(s.key)!;
      show(`removing ${d.name} ${d.version}`);
      if (opts.verbose) opts.note(d.format === 'dist-info' ? `uninstall ${d.name} ${d.version} (the files its RECORD lists)` : `pip uninstall -y ${d.name}`);
      if (d.format === 'dist-info' && opts.reinstall?.has(s.key) && !existsSync(join(d.infoPath, 'RECORD'))) rmSync(d.infoPath, { recursive: true, force: true });
      else if (d.format === 'dist-info') uninstallDist(opts.venv, d.infoPath, trash);
      else await pip(opts, ['uninstall', '-y', d.name], s);
      step();
      if (done === 1) await testPause('reconcile');
    }
    const wheels: WheelRequest[] = [];
    const viaPip: [Step, string[]][] = [];
    const links: LinkBack[] = [];
    for (const s of plan.install) {
      const src = sources.get(s.key)!;
      if (src.kind === 'stored') links.push({ entry: src.entry, requested: opts.requested?.has(s.key) ?? false });
      else if (src.kind === 'wheel') wheels.push({ path: src.path, directUrl: src.directUrl, requested: opts.requested?.has(s.key) });
      else viaPip.push([s, src.args]);
    }
    const dirs = opts.store && opts.packages ? { files: opts.store, packages: opts.packages } : null;
    if (links.length) {
      if (!dirs) throw new Error('stored packages to link back, but no store');
      await linkBack(dirs, opts.venv, links, {
        check,
        start: (e) => {
          show(`linking ${e.name} ${e.version} back`);
          if (opts.verbose) opts.note(`link ${e.name} ${e.version} back from the store (${e.files.length} files, no pip, no unpacking)`);
        },
        tick: (e, files) => show(`linking ${e.name} ${e.version} back (${thousands(files)} of ${thousands(e.files.length)} files)`),
        done: step,
      });
    }
    check();
    if (wheels.length) {
      if (opts.verbose) opts.note(`install from the wheelhouse (no pip, no network): ${wheels.map((w) => w.path.slice(w.path.lastIndexOf('/') + 1)).join(' ')}`);
      show(`installing ${wheels.length === 1 ? wheels[0].path.slice(wheels[0].path.lastIndexOf('/') + 1) : `${wheels.length} wheels`}`);
      await installWheels(opts.venv, wheels, { pycCache: opts.pycCache, store: opts.store });
      for (let i = 0; i < wheels.length; i++) step();
    }
    for (const [s, args] of viaPip) {
      check();
      show(`installing ${s.name} with pip`);
      await pip(opts, ['install', '--no-deps', ...args], s);
      step();
    }
    check();
  } finally {
    task.end();
  }
}

async function pip(opts: ReconcileOptions, args: string[], s: Step): Promise<void> {
  if (opts.verbose) opts.note(`pip ${args.join(' ')}`);
  const r = await runPip(opts.venv, args, { verbose: opts.verbose });
  if (r.exitCode !== 0) throw new PyctlError('RECONCILE_FAILED', `pip ${args[0]} ${s.name} failed: ${pipError(r)}`);
}

/** Plain pins compare by normalized version (a target may spell `Foo_Bar==1.0` for `foo-bar==1.0`). */
function comparable(set: PackageSet): PackageSet {
  const out: PackageSet = new Map();
  for (const [k, e] of set) {
    const plain = /^[A-Za-z0-9._-]+\s*===?\s*\S+$/.test(e.line);
    out.set(k, plain ? { ...e, line: `${k}==${normalizeVersion(e.version) ?? e.version}` } : e);
  }
  return out;
}

function mismatch(expected: Map<string, string>, got: PackageSet): string | null {
  const want: PackageSet = new Map([...expected].map(([k, line]) => [k, parseFreeze(line).get(k) ?? { name: k, version: '', line }]));
  const d = diffSets(comparable(want), comparable(got));
  return d.length ? d.slice(0, 3).map(changeLine).join(', ') : null;
}

/** Put the venv back to `before`; the error says what failed and that nothing changed. */
async function rollBack(before: string, opts: ReconcileOptions, cause: Error): Promise<never> {
  // A full disk or another OS error: one line naming the path and the errno.
  const reason = isErrnoError(cause) ? osErrorLine(cause) : cause.message;
  try {
    const installed = readInstalled(opts.venv, { cache: opts.scanCache });
    const plan = planReconcile(setOf(installed), parseFreeze(before));
    if (!planIsEmpty(plan)) {
      const sources = await resolveSources(plan.install, { venv: opts.venv, wheelhouse: opts.wheelhouse, store: storeTarget(opts), note: () => {}, pycCache: opts.pycCache });
      await apply(plan, new Map(installed.map((d) => [d.key, d])), sources, { ...opts, reporter: undefined }, () => {});
    }
    const now = freezeText(readInstalled(opts.venv, { cache: opts.scanCache }));
    if (now !== before) throw new Error('the venv still differs after rolling back');
  } catch (e) {
    throw new PyctlError('RECONCILE_FAILED', `${reason}; rolling back also failed: ${(e as Error).message}`, "run 'pyctl doctor --fix' to record and repair the venv", exitOf(cause));
  }
  // Ctrl-C keeps its conventional status (130) once the venv is back as it was.
  const ctrlC = exitOf(cause) === 130;
  throw new PyctlError('RECONCILE_FAILED', ctrlC ? 'interrupted (Ctrl-C): rolled back' : reason, 'the venv was put back exactly as it was; nothing was recorded', exitOf(cause));
}

const exitOf = (e: Error) => (e instanceof PyctlError ? e.exitCode : 1);
