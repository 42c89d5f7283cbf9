/**
 * Rebuild the user venv on a Python (the same one, a patch upgrade, or another version), keeping
 * the recorded packages: all of them or nothing. Used by `pyctl doctor --fix` (base Python gone,
 * venv broken or missing) and `pyctl init --python X` on an existing home. The caller holds the
 * home's lock.
 *
 * How it stays safe (docs/doctor.md):
 * 1. Check first, beside the old venv: a scratch venv on the new Python (`venv.new-<time>`,
 *    ~0.3 s) finds a build of every recorded package for that Python (reconcile/sources.ts: a
 *    kept wheel that fits, else the user's index through that venv's pip; the wheels found are
 *    kept). If any cannot be had, nothing changes: the old venv stays, nothing is recorded, and
 *    the error names each package and why (`--drop-missing` moves without them, listed).
 * 2. Then swap (venv/swap.ts, as `pyctl clean` does): venvs are not relocatable, so the new venv
 *    is built at its final path after the old one is renamed aside to `venv.old-<pid>` (one atomic
 *    rename) and filled offline from the wheels step 1 found. Any failure, or Ctrl-C, deletes the
 *    half-built venv and renames the old one back. Only once the new venv is checked and recorded
 *    is the old one deleted. A hard kill in between leaves the old venv beside it: the next command
 *    puts it back (after init --python, whose lock leaves the crash marker), and so does `doctor --fix`.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PyctlError } from '../errors.js';
import type { Home } from './home.js';
import { recordState } from './record.js';
import { FREEZE_FILE } from '../paths.js';
import { installHook } from '../pip/hook.js';
import type { Step } from '../plan/reconcile.js';
import { reconcile } from '../reconcile/apply.js';
import { findSources, pin, venvInterpreter } from '../reconcile/sources.js';
import { sidePath } from '../venv/aside.js';
import { moveAside, type Swap } from '../venv/swap.js';
import { createVenv, defaultPycCache } from '../venv/create.js';
import { readFreeze } from '../venv/freeze.js';
import { parseFreeze } from '../packaging/parse-freeze.js';
import { minorOf } from '../venv/health.js';
import { readPyvenvCfg } from '../venv/pyvenv.js';
import { Wheelhouse } from '../wheelhouse/wheelhouse.js';

/** What a venv gets from its Python's ensurepip: after a change of minor version, these follow the new Python. */
const SEEDS = new Set(['pip', 'setuptools', 'wheel', 'distribute']);

export interface RebuildResult {
  python: string;
  from?: string;
  to: string;
  /** Packages of the recorded set now installed (on a dry run: that would be). */
  reinstalled: number;
  /** `name==version`: what comes across (a dry run: would), and from where. */
  carried: { pin: string; from: 'wheelhouse' | 'index' | 'pip' }[];
  /** `name==version: why`, for recorded packages left behind (only with dropMissing) or, on a dry run, that cannot come across. */
  dropped: string[];
  /** pip/setuptools/wheel changes that come with the new Python. */
  seedChanges: string[];
  op: number | null;
  ms: number;
  dryRun: boolean;
}

export interface RebuildOptions {
  python: string;
  subject(from: string | undefined, to: string): string;
  note(line: string): void;
  verbose?: boolean;
  /** Move even when some packages cannot come across, leaving them out (listed). */
  dropMissing?: boolean;
  /** Only say what would come across and what would not. */
  dryRun?: boolean;
}

export async function rebuildVenv(home: Home, opts: RebuildOptions): Promise<RebuildResult> {
  const t0 = Date.now();
  const { paths, repo } = home;
  const venv = paths.venv;
  const from = readPyvenvCfg(venv).version;
  const head = repo.exists() ? await repo.headOid() : null;
  const target = head ? ((await repo.readAt(head, FREEZE_FILE)) ?? '') : '';
  const want = parseFreeze(target);
  const wheelhouse = new Wheelhouse(paths.wheelhouse);
  const pycCache = defaultPycCache();

  let interrupted = false;
  const onInt = () => {
    interrupted = true;
  };
  const check = () => {
    if (interrupted) throw new PyctlError('VENV_BROKEN', 'interrupted (Ctrl-C)', 'the old venv was put back as it was');
  };
  process.on('SIGINT', onInt);
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const stage = sidePath(venv, 'new', stamp);
  let swap: Swap | undefined;
  try {
    // 1. Beside the old venv: what can come across to this Python?
    opts.note(`checking which packages can come across to ${opts.python} (in ${stage}; the venv is not touched)`);
    rmSync(stage, { recursive: true, force: true });
    const { pythonVersion: to } = await createVenv(stage, opts.python, { store: paths.store, wheelhouse: paths.wheelhouse });
    check();
    const minorChanged = minorOf(from) !== minorOf(to);
    const fresh = parseFreeze(readFreeze(stage));
    if (!head) for (const [k, e] of fresh) want.set(k, e); // nothing recorded: keep what the new venv has
    const carry: Step[] = [];
    const seedChanges: string[] = [];
    for (const [key, e] of want) {
      if (minorChanged && SEEDS.has(key)) {
        const now = fresh.get(key);
        if (!now) seedChanges.push(`${e.name} ${e.version} not carried over (Python ${minorOf(to)} does not bundle it; pip install ${e.name} to get it back)`);
        else if (now.version !== e.version) seedChanges.push(`${e.name} ${e.version} -> ${now.version} (bundled with Python ${minorOf(to)})`);
        continue;
      }
      carry.push({ key, ...e });
    }
    const keptBefore = new Set([...wheelhouse.files().values()].flat());
    // Stored packages (recorded in the old venv's path) come across as wheels built from them.
    const store = { dirs: { files: paths.store, packages: paths.packages }, venv: resolve(stage), python: minorOf(to) ?? '' };
    const { sources, unavailable } = await findSources(carry, { venv: stage, wheelhouse, store, note: opts.note, verbose: opts.verbose, pycCache, keepNothing: opts.dryRun });
    check();
    const dropped = unavailable.map((u) => `${pin(u.step)}: ${u.why}`);
    const gone = new Set(unavailable.map((u) => u.step.key));
    const carried = carry
      .filter((s) => !gone.has(s.key))
      .map((s) => {
        const src = sources.get(s.key)!;
        const kind = src.kind === 'pip' ? 'pip' : src.kind === 'stored' || src.directUrl || keptBefore.has(src.path) || wheelhouse.fromStore.has(src.path) ? 'wheelhouse' : 'index';
        return { pin: pin(s), from: kind } as const;
      });
    const result = (op: number | null, reinstalled: number): RebuildResult => ({
      python: opts.python,
      from,
      to,
      reinstalled,
      carried,
      dropped,
      seedChanges,
      op,
      ms: Date.now() - t0,
      dryRun: !!opts.dryRun,
    });
    if (opts.dryRun) return result(null, carried.length);
    if (unavailable.length && !opts.dropMissing) {
      const it = venvInterpreter(stage, pycCache);
      throw new PyctlError(
        'MISSING_WHEEL',
        `cannot move the venv to Python ${to}: no build for ${it.implementation === 'cpython' ? 'CPython' : it.implementation} ${to} of ${unavailable.map((u) => `${pin(u.step)} (${u.why})`).join('; ')}`,
        `the venv stays on Python ${from ?? 'as it was'}, unchanged, and nothing was recorded; make those packages available for Python ${minorOf(to)} (an index or wheelhouse that has them), or pass --drop-missing to move without them`,
      );
    }
    rmSync(stage, { recursive: true, force: true });
    check();

    // 2. Swap: the old venv aside, the new one at its path, filled from what step 1 found.
    swap = moveAside(venv);
    opts.note(`building the new venv with ${opts.python}${swap.moved ? ` (the old one waits at ${swap.aside})` : ''}`);
    await createVenv(venv, opts.python, { store: paths.store, wheelhouse: paths.wheelhouse });
    check();
    const lines = carry.filter((s) => !gone.has(s.key)).map((s) => s.line);
    if (minorChanged) for (const [key, e] of parseFreeze(readFreeze(venv))) if (SEEDS.has(key)) lines.push(e.line);
    await reconcile(lines.join('\n') + '\n', { venv, wheelhouse, note: opts.note, verbose: opts.verbose, store: paths.store, packages: paths.packages, pycCache });
    check();
    // The new venv must run, and its pip must import, before the old one goes.
    const run = spawnSync(join(venv, 'bin', 'python'), ['-c', 'import pip, sys; print(sys.version)'], { encoding: 'utf8', env: { ...process.env, PYCTL_NO_RECORD: '1' } });
    if (run.status !== 0) {
      throw new PyctlError('VENV_BROKEN', `the new venv does not run: ${(run.stderr || run.error?.message || '').trim().split('\n').pop()}`, 'the old venv was put back as it was');
    }
    installHook(paths);
    const rec = await recordState(home, { subject: opts.subject(from, to), kind: 'rebuild', always: true });
    swap.commit();
    const now = parseFreeze(readFreeze(venv));
    return result(rec?.op ?? null, [...want.keys()].filter((k) => now.has(k)).length);
  } catch (e) {
    swap?.putBack();
    throw e;
  } finally {
    process.off('SIGINT', onInt);
    rmSync(stage, { recursive: true, force: true });
  }
}

/** The lines init --python and doctor --fix print after a move or its dry run. */
export function rebuildReport(r: RebuildResult): string[] {
  const lines: string[] = [];
  const by = (k: string) => r.carried.filter((c) => c.from === k).map((c) => c.pin);
  const come = r.dryRun ? 'would come across' : 'came across';
  for (const [k, what] of [
    ['wheelhouse', 'from the wheelhouse'],
    ['index', 'from the index'],
    ['pip', 'through pip'],
  ] as const) {
    const xs = by(k);
    if (xs.length) lines.push(`  ${xs.length} ${come} ${what}: ${xs.join(', ')}`);
  }
  for (const s of r.seedChanges) lines.push(`  ${s}`);
  if (r.dropped.length) lines.push(`  ${r.dryRun ? 'would not come across' : 'left out (--drop-missing)'} (${r.dropped.length}):`, ...r.dropped.map((d) => `    ${d}`));
  return lines;
}
