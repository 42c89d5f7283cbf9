/**
 * Bisect's scratch venvs: `<venv>.bisect-<pid>` beside the user's venv (the same filesystem, so
 * files come as hard links from the home's link store) with the same Python, rebuilt state by
 * state. Never the user's venv, never recorded. A marker inside says who owns it: a running
 * `bisect run` (its pid and host) or the manual session (`.git/pyctl/bisect.json`). One whose
 * owner is gone (Ctrl-C that could not clean up, SIGKILL, a crash) is swept by the next command.
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { PyctlError } from '../errors.js';
import type { HomePaths } from '../paths.js';
import { createVenv } from '../venv/create.js';
import { interpreterOf, readPyvenvCfg } from '../venv/pyvenv.js';
import { MARKER, scratchPath, SESSION_ID } from './sweep.js';

export { scratchPath, SESSION_ID };

/** A fresh scratch venv with the user venv's Python, pip and setuptools linked from the seed template. */
export async function createScratch(paths: HomePaths, id: string | number): Promise<string> {
  const dir = scratchPath(paths, id);
  rmSync(dir, { recursive: true, force: true });
  const cfg = readPyvenvCfg(paths.venv);
  const python = interpreterOf(cfg);
  if (!python || !existsSync(python)) {
    throw new PyctlError('VENV_BROKEN', `cannot tell which Python the venv ${paths.venv} uses (pyvenv.cfg)`, "run 'pyctl doctor' to check the venv");
  }
  try {
    // pip and setuptools linked from the per-user seed template, as init links them (not unpacked
    // and compiled again for every bisect: ~1 s of CPU).
    await createVenv(dir, python, { store: paths.store, wheelhouse: paths.wheelhouse });
    writeFileSync(join(dir, MARKER), id === SESSION_ID ? `${SESSION_ID}\n` : `${process.pid} ${hostname()}\n`);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return dir;
}

export function removeScratch(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
