/**
 * One way to find a Python, for pyctl and install.sh (`pyctl _find-python SPEC`): nothing
 * (python3), a path, a version (`3.12`) or a command (`python3.12`, `pypy3`). Files only, no
 * Python started (~1 ms).
 *
 * - A venv's interpreter is never the base of another venv: one found on PATH or given as a
 *   path (pyctl's own venv is usually first on PATH) is followed to the installation its
 *   pyvenv.cfg `home` names.
 * - pyenv shims are resolved the way pyenv would (PYENV_VERSION, .python-version, the global
 *   version file) and skipped when the selected versions lack the command, as the shim itself
 *   would fail ("pyenv: python3.12: command not found"); pyenv's versions folder is searched for
 *   a version the shims do not select.
 * - `prefer`: the installation a venv was built from (its pyvenv.cfg `home`): `--python 3.11`
 *   picks that 3.11 again over another one found first on PATH.
 * - Then PATH, pyenv's versions, Homebrew's and the distro's folders, in that order.
 */
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import { PyctlError } from '../errors.js';
import { readPyvenvCfg } from './pyvenv.js';

const HINT = 'Install that Python (e.g. `pyenv install 3.12`, or your system package), or pass a path with --python.';

/** Where Homebrew and distros put Pythons, searched after PATH and pyenv. */
const WELL_KNOWN = ['/opt/homebrew/bin', '/home/linuxbrew/.linuxbrew/bin', '/usr/local/bin', '/usr/bin'];

export interface FindOptions {
  /** A folder holding the installation to prefer (a venv's pyvenv.cfg `home`). */
  prefer?: string;
  /** The current directory, for pyenv's .python-version files (default process.cwd()). */
  cwd?: string;
  /** Folders searched after PATH and pyenv (default Homebrew's and the distro's; tests replace them). */
  dirs?: string[];
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function pyenvRoot(env: NodeJS.ProcessEnv): string {
  return env.PYENV_ROOT || join(env.HOME || homedir(), '.pyenv');
}

/** The pyenv versions a shim runs, in order (`system` included), as pyenv selects them. */
function pyenvSelected(env: NodeJS.ProcessEnv, cwd: string): string[] {
  const split = (s: string) => s.split(/[\s:]+/).filter((v) => v && !v.startsWith('#'));
  if (env.PYENV_VERSION) return split(env.PYENV_VERSION);
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    try {
      return split(readFileSync(join(dir, '.python-version'), 'utf8'));
    } catch {
      // not here
    }
    if (dirname(dir) === dir) break;
  }
  try {
    return split(readFileSync(join(pyenvRoot(env), 'version'), 'utf8'));
  } catch {
    return ['system'];
  }
}

/** The folder of a venv whose bin holds `p`, or null. */
function venvOf(p: string): string | null {
  const dir = dirname(dirname(p));
  return basename(dirname(p)) === 'bin' && existsSync(join(dir, 'pyvenv.cfg')) ? dir : null;
}

/** A venv's interpreter followed to its base installation (as named, else pythonX.Y, else python3); other paths as they are. */
export function baseInterpreter(p: string): string | null {
  for (let hops = 0; hops < 5; hops++) {
    const venv = venvOf(p);
    if (!venv) return p;
    const cfg = readPyvenvCfg(venv);
    if (!cfg.home) return null;
    const xy = /^(\d+\.\d+)/.exec(cfg.version ?? '')?.[1];
    const names = [basename(p), ...(xy ? [`python${xy}`] : []), 'python3', 'python'];
    const found = names.map((n) => join(cfg.home!, n)).find(isExecutable);
    if (!found) return null;
    p = found;
  }
  return null;
}

/**
 * Every `name` on PATH, in order: pyenv shims resolved to what they would run (or skipped),
 * venv interpreters followed to their base.
 */
function onPath(name: string, env: NodeJS.ProcessEnv, cwd: string): string[] {
  const shims = resolve(pyenvRoot(env), 'shims');
  const out: string[] = [];
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    if (resolve(dir) === shims) {
      for (const v of pyenvSelected(env, cwd)) {
        if (v === 'system') break; // the rest of PATH is what pyenv's "system" means
        const p = join(pyenvRoot(env), 'versions', v, 'bin', name);
        if (isExecutable(p)) out.push(p);
      }
      continue;
    }
    const p = join(dir, name);
    if (!isExecutable(p)) continue;
    const base = baseInterpreter(p);
    if (base) out.push(base);
  }
  return out;
}

/** Highest pyenv-installed version matching `3.12` (3.12.1, 3.12.10 ...) that has `name`. */
function fromPyenv(version: string, name: string, env: NodeJS.ProcessEnv): string | undefined {
  const root = join(pyenvRoot(env), 'versions');
  let dirs: string[];
  try {
    dirs = readdirSync(root);
  } catch {
    return undefined;
  }
  const nums = (s: string) =>
    s
      .split(/[^\d]+/)
      .filter(Boolean)
      .map(Number);
  const matches = dirs
    .filter((d) => d === version || d.startsWith(version + '.'))
    .sort((a, b) => {
      const x = nums(a),
        y = nums(b);
      for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? -1) !== (y[i] ?? -1)) return (y[i] ?? -1) - (x[i] ?? -1);
      return 0;
    });
  for (const d of matches) {
    const p = join(root, d, 'bin', name);
    if (isExecutable(p)) return p;
  }
  return undefined;
}

export function findPython(spec?: string, env: NodeJS.ProcessEnv = process.env, opts: FindOptions = {}): string {
  const cwd = opts.cwd ?? process.cwd();
  if (spec !== undefined && spec.includes('/')) {
    const p = resolve(spec);
    if (!isExecutable(p)) throw new PyctlError('NO_PYTHON', `${spec} is not an executable Python`, HINT);
    const base = baseInterpreter(p);
    if (!base) throw new PyctlError('NO_PYTHON', `${spec} belongs to a venv whose base Python is gone (see its pyvenv.cfg)`, HINT);
    return base;
  }
  const version = spec === undefined || spec === '' ? null : (/^(?:python)?(\d+(?:\.\d+){0,2})$/.exec(spec)?.[1] ?? null);
  const [major, minor] = (version ?? '').split('.');
  const name = spec === undefined || spec === '' ? 'python3' : version ? (minor === undefined ? `python${major}` : `python${major}.${minor}`) : spec;
  const preferred = opts.prefer && isExecutable(join(opts.prefer, name)) ? baseInterpreter(join(opts.prefer, name)) : null;
  if (preferred && version) return preferred;
  // 3.11.7 names one installation: pyenv's folder of that name before a python3.11 on PATH.
  const exact = version && version.split('.').length === 3 ? fromPyenv(version, name, env) : undefined;
  const found = exact ?? onPath(name, env, cwd)[0] ?? (version ? fromPyenv(version, name, env) : undefined) ?? (opts.dirs ?? WELL_KNOWN).map((d) => join(d, name)).find(isExecutable);
  if (found) return found;
  if (!spec) throw new PyctlError('NO_PYTHON', 'no python3 found (looked on PATH, in pyenv and the usual folders)', HINT);
  if (version) throw new PyctlError('NO_PYTHON', `Python ${spec} not found (looked for ${name} on PATH, in ${join(pyenvRoot(env), 'versions')} and ${(opts.dirs ?? WELL_KNOWN).join(', ')})`, HINT);
  throw new PyctlError('NO_PYTHON', `${spec} not found on PATH`, HINT);
}
