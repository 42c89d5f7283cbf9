/**
 * Make the venv match a target installed set, as one transaction: find every source first,
 * keep a wheel of everything it will remove, change only what differs, check the result, and
 * on any failure (pip, a missing wheel, Ctrl-C) put the venv back exactly as it was.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PyctlError } from '../errors.js';
import { changeLine, diffSets, type PackageSet } from '../plan/changes.js';
import { expectedAfter, planIsEmpty, planReconcile, type ReconcilePlan, type Step } from '../plan/reconcile.js';
import { pipError, runPip } from '../pip/run.js';
import { freezeText, normalizeVersion, parseFreeze, readInstalled, type Installed } from '../venv/freeze.js';
import { installWheels, type WheelRequest } from '../wheel/install.js';
import { uninstallDist } from '../wheel/uninstall.js';
import { Wheelhouse } from '../wheelhouse/wheelhouse.js';
import type { ScanCache } from '../venv/scan-cache.js';
import { resolveSources, type KnownFiles, type Source } from './sources.js';
import type { LockedFile } from './from-lock.js';
import { testPause } from '../debug/faults.js';
import type { PinHashes } from './hashes.js';
import { isErrnoError, osErrorLine } from '../os-error.js';

export interface ReconcileOptions {
  venv: string;
  wheelhouse: Wheelhouse;
  note(line: string): void;
  progress?(done: number, total: number, what: string): void;
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

  const sources = await resolveSources(plan.install, {
    venv: opts.venv,
    wheelhouse: opts.wheelhouse,
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
  keepCopies(plan.remove.filter((s) => !opts.reinstall?.has(s.key)).map((s) => byKey.get(s.key)!), opts);

  let interrupted = false;
  const onInt = () => {
    interrupted = true;
  };
  process.on('SIGINT', onInt);
  try {
    await apply(plan, byKey, sources, opts, () => {
      if (interrupted) throw new PyctlError('RECONCILE_FAILED', 'interrupted (Ctrl-C)', undefined, 130);
    });
    if (interrupted) throw new PyctlError('RECONCILE_FAILED', 'interrupted (Ctrl-C)', undefined, 130);
    const after = freezeText(readInstalled(opts.venv, { cache: opts.scanCache }));
    const problem = mismatch(expectedAfter(setOf(installed), target), parseFreeze(after));
    if (problem) throw new PyctlError('RECONCILE_FAILED', `the venv does not match the target after reconciling: ${problem}`);
    return { plan, before, after };
  } catch (e) {
    await rollBack(before, opts, e as Error);
    throw e; // unreachable: rollBack throws
  } finally {
    process.off('SIGINT', onInt);
  }
}

/** Before removing anything, make sure the wheelhouse can give it back. */
function keepCopies(removing: Installed[], opts: ReconcileOptions): void {
  const capturable = removing.filter(Wheelhouse.capturable);
  opts.wheelhouse.capture(opts.venv, capturable);
  const lost = capturable.filter((d) => !opts.wheelhouse.keeps(d));
  if (lost.length) {
    throw new PyctlError(
      'RECONCILE_FAILED',
      `cannot keep a copy of ${lost.map((d) => `${d.name} ${d.version}`).join(', ')} (its installed files do not match its RECORD)`,
      "reinstall it with pip first, then try again; nothing was changed",
    );
  }
}

async function apply(plan: ReconcilePlan, byKey: Map<string, Installed>, sources: Map<string, Source>, opts: ReconcileOptions, check: () => void): Promise<void> {
  const total = plan.remove.length + plan.install.length;
  let done = 0;
  const step = (what: string) => {
    done++; // not inside progress?.(…): optional chaining would skip the increment
    opts.progress?.(done, total, what);
  };
  for (const s of plan.remove) {
    check();
    const d = byKey.get(s.key)!;
    step(`removing ${d.name} ${d.version}`);
    if (opts.verbose) opts.note(d.format === 'dist-info' ? `uninstall ${d.name} ${d.version} (the files its RECORD lists)` : `pip uninstall -y ${d.name}`);
    if (d.format === 'dist-info' && opts.reinstall?.has(s.key) && !existsSync(join(d.infoPath, 'RECORD'))) rmSync(d.infoPath, { recursive: true, force: true });
    else if (d.format === 'dist-info') uninstallDist(opts.venv, d.infoPath);
    else await pip(opts, ['uninstall', '-y', d.name], s);
    if (done === 1) await testPause('reconcile');
  }
  const wheels: WheelRequest[] = [];
  const viaPip: [Step, string[]][] = [];
  for (const s of plan.install) {
    const src = sources.get(s.key)!;
    if (src.kind === 'wheel') wheels.push({ path: src.path, directUrl: src.directUrl, requested: opts.requested?.has(s.key) });
    else viaPip.push([s, src.args]);
  }
  check();
  if (wheels.length) {
    if (opts.verbose) opts.note(`install from the wheelhouse (no pip, no network): ${wheels.map((w) => w.path.slice(w.path.lastIndexOf('/') + 1)).join(' ')}`);
    await installWheels(opts.venv, wheels, { pycCache: opts.pycCache, store: opts.store });
    for (const w of wheels) step(`installed ${w.path.slice(w.path.lastIndexOf('/') + 1)}`);
  }
  for (const [s, args] of viaPip) {
    check();
    step(`installing ${s.name}`);
    await pip(opts, ['install', '--no-deps', ...args], s);
  }
  check();
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
      const sources = await resolveSources(plan.install, { venv: opts.venv, wheelhouse: opts.wheelhouse, note: () => {}, pycCache: opts.pycCache });
      await apply(plan, new Map(installed.map((d) => [d.key, d])), sources, { ...opts, progress: undefined }, () => {});
    }
    const now = freezeText(readInstalled(opts.venv, { cache: opts.scanCache }));
    if (now !== before) throw new Error('the venv still differs after rolling back');
  } catch (e) {
    throw new PyctlError(
      'RECONCILE_FAILED',
      `${reason}; rolling back also failed: ${(e as Error).message}`,
      "run 'pyctl doctor --fix' to record and repair the venv",
      exitOf(cause),
    );
  }
  // Ctrl-C keeps its conventional status (130) once the venv is back as it was.
  const ctrlC = exitOf(cause) === 130;
  throw new PyctlError('RECONCILE_FAILED', ctrlC ? 'interrupted (Ctrl-C): rolled back' : reason, 'the venv was put back exactly as it was; nothing was recorded', exitOf(cause));
}

const exitOf = (e: Error) => (e instanceof PyctlError ? e.exitCode : 1);
