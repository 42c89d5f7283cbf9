/**
 * Rebuild the user venv on a Python (the same one, a patch upgrade, or another version), keeping
 * the recorded packages. Used by `pyctl doctor --fix` (base Python gone, venv broken or missing)
 * and `pyctl init --python X` on an existing home. The caller holds the home's lock.
 *
 * How it stays safe (docs/doctor.md): venvs are not relocatable, so the new venv is built at
 * its final path after the old one is renamed aside to `venv.old-<time>` (one atomic rename,
 * as `pyctl clean` does). Any failure, or Ctrl-C, deletes the half-built venv and renames the
 * old one back. Only once the new venv is checked and recorded is the old one deleted. A hard
 * kill in between leaves the old venv intact beside it; `pyctl doctor --fix` puts it back.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PyctlError } from '../errors.js';
import type { Home } from './home.js';
import { recordState } from './record.js';
import { FREEZE_FILE } from '../paths.js';
import { installHook } from '../pip/hook.js';
import { reconcile } from '../reconcile/apply.js';
import { sidePath } from '../venv/aside.js';
import { createVenv } from '../venv/create.js';
import { parseFreeze, readFreeze, type FreezeEntry } from '../venv/freeze.js';
import { minorOf } from '../venv/health.js';
import { readPyvenvCfg } from '../venv/pyvenv.js';
import { supportedTags } from '../venv/tags.js';
import { wheelFits } from '../packaging/wheel-name.js';
import { Wheelhouse } from '../wheelhouse/wheelhouse.js';

/** What a venv gets from its Python's ensurepip: after a change of minor version, these follow the new Python. */
const SEEDS = new Set(['pip', 'setuptools', 'wheel', 'distribute']);

export interface RebuildResult {
  python: string;
  from?: string;
  to: string;
  /** Packages of the recorded set now installed. */
  reinstalled: number;
  /** `name version: why`, for recorded packages that could not be put back. */
  notReinstalled: string[];
  /** pip/setuptools/wheel changes that come with the new Python. */
  seedChanges: string[];
  op: number | null;
  ms: number;
}

export interface RebuildOptions {
  python: string;
  subject(from: string | undefined, to: string): string;
  note(line: string): void;
  verbose?: boolean;
}

const lastLine = (e: FreezeEntry) => e.line.split('\n').pop()!.trim();
const label = (e: FreezeEntry) => (e.version ? `${e.name} ${e.version}` : lastLine(e));

export async function rebuildVenv(home: Home, opts: RebuildOptions): Promise<RebuildResult> {
  const t0 = Date.now();
  const { paths, repo } = home;
  const venv = paths.venv;
  const from = readPyvenvCfg(venv).version;
  const head = repo.exists() ? await repo.headOid() : null;
  const target = head ? ((await repo.readAt(head, FREEZE_FILE)) ?? '') : '';
  const want = parseFreeze(target);

  let interrupted = false;
  const onInt = () => {
    interrupted = true;
  };
  const check = () => {
    if (interrupted) throw new PyctlError('VENV_BROKEN', 'interrupted (Ctrl-C)', 'the old venv was put back as it was');
  };
  process.on('SIGINT', onInt);
  const aside = sidePath(venv, 'old', new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z'));
  let moved = false;
  const fetchDir = mkdtempSync(join(paths.home, '.rebuild-wheels-'));
  try {
    if (existsSync(venv)) {
      rmSync(aside, { recursive: true, force: true });
      renameSync(venv, aside);
      moved = true;
    }
    opts.note(`building a new venv with ${opts.python}${moved ? ` (the old one waits at ${aside})` : ''}`);
    const { pythonVersion: to } = await createVenv(venv, opts.python, { store: paths.store, wheelhouse: paths.wheelhouse });
    check();
    const minorChanged = minorOf(from) !== minorOf(to);
    const fresh = parseFreeze(readFreeze(venv));
    if (!head) for (const [k, e] of fresh) want.set(k, e); // nothing recorded: keep what the new venv has
    const wheelhouse = new Wheelhouse(paths.wheelhouse);
    const tags = supportedTags(venv);
    const fromWheelhouse: string[] = [];
    const rest: FreezeEntry[] = [];
    const seedChanges: string[] = [];
    for (const [key, e] of want) {
      if (minorChanged && SEEDS.has(key)) {
        const now = fresh.get(key);
        if (!now) seedChanges.push(`${e.name} ${e.version} not carried over (Python ${minorOf(to)} does not bundle it; pip install ${e.name} to get it back)`);
        else if (now.version !== e.version) seedChanges.push(`${e.name} ${e.version} -> ${now.version} (bundled with Python ${minorOf(to)})`);
        continue;
      }
      const last = lastLine(e);
      const direct = /^(?:-e|--editable)[\s=]/.test(last) || /\s@\s/.test(last);
      const wheel = direct ? null : wheelhouse.find(e.name, e.version);
      if (wheel && wheelFits(wheel, tags)) fromWheelhouse.push(e.line);
      else rest.push(e);
    }
    if (minorChanged) for (const [key, e] of fresh) if (SEEDS.has(key)) fromWheelhouse.push(e.line);
    // Everything the wheelhouse has for this Python: offline, one transaction.
    await reconcile(fromWheelhouse.join('\n') + '\n', { venv, wheelhouse, note: opts.note, verbose: opts.verbose, store: paths.store });
    check();
    // The rest (wheels built for another Python, direct URLs, editables): through pip with the
    // user's own index settings, all at once, then one by one to find what cannot come back.
    const notReinstalled: string[] = [];
    if (rest.length) {
      opts.note(`reinstalling ${rest.length} package(s) the wheelhouse has no wheel of for Python ${to}: ${rest.map(label).join(', ')}`);
      const fetchHouse = new Wheelhouse(fetchDir);
      const add = (entries: FreezeEntry[]) =>
        reconcile(readFreeze(venv) + entries.map((e) => e.line).join('\n') + '\n', { venv, wheelhouse: fetchHouse, note: () => {}, verbose: opts.verbose });
      try {
        await add(rest);
      } catch (e) {
        if (rest.length === 1) notReinstalled.push(`${label(rest[0])}: ${(e as Error).message}`);
        else
          for (const entry of rest) {
            check();
            try {
              await add([entry]);
            } catch (err) {
              notReinstalled.push(`${label(entry)}: ${(err as Error).message}`);
            }
          }
      }
      for (const [, path] of fetchHouse.files()) if (wheelFits(path, tags)) wheelhouse.add(path);
    }
    check();
    // The new venv must run, and its pip must import, before the old one goes.
    const run = spawnSync(join(venv, 'bin', 'python'), ['-c', 'import pip, sys; print(sys.version)'], { encoding: 'utf8', env: { ...process.env, PYCTL_NO_RECORD: '1' } });
    if (run.status !== 0) {
      throw new PyctlError('VENV_BROKEN', `the new venv does not run: ${(run.stderr || run.error?.message || '').trim().split('\n').pop()}`, 'the old venv was put back as it was');
    }
    installHook(paths);
    const rec = await recordState(home, { subject: opts.subject(from, to), kind: 'rebuild', always: true });
    rmSync(aside, { recursive: true, force: true });
    return {
      python: opts.python,
      from,
      to,
      reinstalled: [...want.keys()].filter((k) => parseFreeze(readFreeze(venv)).has(k)).length,
      notReinstalled,
      seedChanges,
      op: rec?.op ?? null,
      ms: Date.now() - t0,
    };
  } catch (e) {
    rmSync(venv, { recursive: true, force: true });
    if (moved && existsSync(aside)) renameSync(aside, venv);
    throw e;
  } finally {
    process.off('SIGINT', onInt);
    rmSync(fetchDir, { recursive: true, force: true });
  }
}
