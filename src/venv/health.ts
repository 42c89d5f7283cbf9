/**
 * Is a venv usable, judged from files alone (~1 ms, no Python started; docs/doctor.md, the venv check):
 * pyvenv.cfg names a version, `home/pythonX.Y` still exists,
 * bin/python resolves, and lib/pythonX.Y/site-packages exists for that version.
 */
import { existsSync, realpathSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { findPython } from './find-python.js';
import { readPyvenvCfg } from './pyvenv.js';

export interface VenvHealth {
  status: 'ok' | 'missing' | 'broken';
  /** What is wrong, in one clause. */
  problem?: string;
  /** pyvenv.cfg's version, e.g. 3.11.7. */
  version?: string;
  /** The base interpreter the venv runs: `home/pythonX.Y`. */
  base?: string;
}

export const minorOf = (version: string | undefined) => /^(\d+\.\d+)/.exec(version ?? '')?.[1];

export function venvHealth(venv: string): VenvHealth {
  if (!existsSync(venv)) return { status: 'missing', problem: `${venv} does not exist` };
  const cfg = readPyvenvCfg(venv);
  const xy = minorOf(cfg.version);
  if (!xy) return { status: 'broken', problem: `${join(venv, 'pyvenv.cfg')} is missing or names no Python version` };
  const base = cfg.home ? join(cfg.home, `python${xy}`) : undefined;
  const out = { version: cfg.version, base };
  if (!base || !existsSync(base)) {
    return { status: 'broken', ...out, problem: `its base Python ${base ?? '(pyvenv.cfg has no home)'} is gone (uninstalled or upgraded to another version)` };
  }
  try {
    realpathSync(join(venv, 'bin', 'python'));
  } catch {
    return { status: 'broken', ...out, problem: `${join(venv, 'bin', 'python')} does not resolve to an interpreter` };
  }
  const site = join(venv, 'lib', `python${xy}`, 'site-packages');
  if (!existsSync(site) && !existsSync(join(venv, 'lib', `python${xy}t`, 'site-packages'))) {
    return { status: 'broken', ...out, problem: `${site} is missing` };
  }
  return { status: 'ok', ...out };
}

/**
 * The Python to (re)build a venv with: `spec` if given; else the same minor version as before
 * (a patch upgrade keeps compiled wheels usable); else python3 on PATH. The venv's own bin is
 * never chosen (its python may be the broken one).
 */
export function pickPython(venv: string, spec?: string, previousVersion?: string, env: NodeJS.ProcessEnv = process.env): string {
  const bin = resolve(venv, 'bin');
  const PATH = (env.PATH ?? '')
    .split(delimiter)
    .filter((d) => d && resolve(d) !== bin)
    .join(delimiter);
  const clean = { ...env, PATH };
  // The installation the venv was built from comes first for its version (pyenv's 3.11.7 over the distro's 3.11.2).
  const prefer = readPyvenvCfg(venv).home;
  if (spec) return findPython(spec, clean, { prefer });
  const xy = minorOf(previousVersion);
  if (xy) {
    try {
      return findPython(xy, clean, { prefer });
    } catch {
      // that version is gone: fall back to python3
    }
  }
  return findPython(undefined, clean);
}
