/**
 * Fast venv creation: `python -m venv --without-pip` (~0.1 s) plus seeding pip (and, where the
 * Python's ensurepip bundles it, setuptools) from the wheels ensurepip carries, unpacked by our
 * own installer instead of running pip (which is what makes `python -m venv` take ~5 s).
 * The result matches `python -m venv DIR` file for file (compiled .pyc contents aside).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { PyctlError } from '../errors.js';
import { installWheels } from '../wheel/install.js';

export { findPython } from './find-python.js';

export interface CreateOptions {
  /** Where compiled .pyc files are cached between venvs; false disables. Default ~/.cache/pyctl/pyc. */
  pycCache?: string | false;
  /** The home's LinkStore folder (same filesystem as the venv): pip and setuptools are linked from it. */
  store?: string;
}

export function defaultPycCache(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), 'pyctl', 'pyc');
}

// One interpreter start: find ensurepip's wheels (the same ones it would install, across
// Python versions and distro layouts), then create the venv in-process with venv.main.
const HELPER = String.raw`
import sys, os, json
def wheels():
    import ensurepip
    d = os.path.join(os.path.dirname(ensurepip.__file__), '_bundled')
    if hasattr(ensurepip, '_get_packages'):
        return [p.wheel_path or os.path.join(d, p.wheel_name) for p in ensurepip._get_packages().values()]
    if hasattr(ensurepip, '_get_pip_whl_path_ctx'):
        with ensurepip._get_pip_whl_path_ctx() as p:
            return [str(p)]
    out = []
    for proj in ensurepip._PROJECTS:
        tag = proj[2] if len(proj) > 2 else 'py2.py3'
        out.append(os.path.join(d, '%s-%s-%s-none-any.whl' % (proj[0], proj[1], tag)))
    return out
try:
    import venv
    ws = wheels()
except Exception as e:
    sys.stdout.write(json.dumps({'error': '%s: %s' % (type(e).__name__, e)}))
    sys.exit(0)
venv.main(['--without-pip', sys.argv[1]])
exe = os.path.split(os.path.abspath(getattr(sys, '_base_executable', sys.executable)))[1]
sys.stdout.write(json.dumps({'wheels': ws, 'exe': exe, 'version': '%d.%d.%d' % sys.version_info[:3]}))
`;

const VENV_HINT = "This Python cannot make venvs; on Debian/Ubuntu install the python3-venv package (apt install python3-venv), or choose another Python.";

export async function createVenv(dir: string, python: string, opts: CreateOptions = {}): Promise<{ pythonVersion: string; wheels: string[] }> {
  const abs = resolve(dir);
  const r = spawnSync(python, ['-c', HELPER, abs], { encoding: 'utf8', cwd: '/' });
  if (r.error) throw new PyctlError('NO_PYTHON', `cannot run ${python}: ${r.error.message}`, VENV_HINT);
  let info: { wheels?: string[]; exe?: string; version?: string; error?: string };
  try {
    info = JSON.parse(r.stdout);
  } catch {
    throw new PyctlError('NO_PYTHON', `${python} failed to create a venv at ${abs}: ${(r.stderr || r.stdout).trim().split('\n').pop()}`, VENV_HINT);
  }
  if (info.error || r.status !== 0 || !info.wheels || !info.exe) {
    throw new PyctlError('NO_PYTHON', `${python} cannot create venvs (${info.error ?? r.stderr.trim()})`, VENV_HINT);
  }
  // venv records how it was made; we made the equivalent of plain `-m venv DIR`.
  const cfgPath = join(abs, 'pyvenv.cfg');
  const cfg = readFileSync(cfgPath, 'utf8');
  writeFileSync(cfgPath, cfg.replace(/^(command = .* -m venv) --without-pip /m, '$1 '));
  const pycCache = opts.pycCache === false ? undefined : (opts.pycCache ?? defaultPycCache());
  // ensurepip runs pip through bin/<base exe name> (so shebangs name it) and names both packages.
  await installWheels(abs, info.wheels.map((path) => ({ path, requested: true })), { python: join(abs, 'bin', info.exe), pycCache, store: opts.store });
  // The wheels it installed from, so a wheelhouse can keep them as they are (no rebuild needed).
  return { pythonVersion: info.version!, wheels: info.wheels };
}
