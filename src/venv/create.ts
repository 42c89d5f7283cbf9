/**
 * Fast venv creation: `python -m venv --without-pip` (~0.1 s) plus seeding pip (and, where the
 * Python's ensurepip bundles it, setuptools) from the wheels ensurepip carries, unpacked by our
 * own installer instead of running pip (which is what makes `python -m venv` take ~5 s).
 * The result matches `python -m venv DIR` file for file (compiled .pyc contents aside).
 * A Python without ensurepip still gets a venv with pip: see seed.ts for where pip comes from.
 * An interpreter seen before (the same file, unchanged) is not started at all: its answers and
 * venv files were kept (skeleton.ts) and pip is linked from the template (seed-template.ts).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { PyctlError } from '../errors.js';
import { userCache } from '../paths.js';
import { installWheels } from '../wheel/install.js';
import { pycCacheUsable } from '../wheel/pyc-cache.js';
import { findSeed } from './seed.js';
import { defaultSeedCache, linkSeed, readHint, saveSeed, seedKey, writeHint, type SeedHint } from './seed-template.js';
import { captureSkeleton, skeletonFits, writeSkeleton, type Skeleton } from './skeleton.js';
import { sitePackagesDir } from './syspath.js';
import { uninstallDist } from '../wheel/uninstall.js';
import type { InstalledDist } from '../wheel/install.js';
import type { SharedFiles } from '../wheel/package-store.js';

export { findPython } from './find-python.js';

export interface CreateOptions {
  /** Where compiled .pyc files are cached between venvs; false disables. Default ~/.cache/pyctl/pyc. */
  pycCache?: string | false;
  /** The home's LinkStore folder (same filesystem as the venv): pip and setuptools are linked from it. */
  store?: string;
  /** The home's wheelhouse: a pip source when the Python has no ensurepip, and where a downloaded pip is kept. */
  wheelhouse?: string;
  /** A pip wheel to seed from instead of ensurepip's (--pip-wheel). */
  pipWheel?: string;
  /** Where pip and setuptools trees are kept for linking (seed-template.ts); false disables. Default ~/.cache/pyctl/seed, or none when pycCache is given. */
  seedCache?: string | false;
  /** The distro's wheel folder (default /usr/share/python-wheels; tests point it elsewhere). */
  distroWheels?: string;
  env?: NodeJS.ProcessEnv;
}

export function defaultPycCache(env: NodeJS.ProcessEnv = process.env): string {
  return join(userCache(env), 'pyc');
}

// One interpreter start: find ensurepip's wheels (the same ones it would install, across
// Python versions and distro layouts), then create the venv in-process with venv.main. Without
// ensurepip (Debian/Ubuntu without python3-venv) the venv is still made and pip comes from
// elsewhere (seed.ts); without even the venv module the venv is written here the way
// `python -m venv --without-pip` writes it.
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
ACTIVATE = r"""# Source this file from bash or zsh: written by pyctl (this Python has no venv module)
deactivate () {
    if [ -n "@{_OLD_VIRTUAL_PATH:-}" ]; then PATH="$_OLD_VIRTUAL_PATH"; export PATH; unset _OLD_VIRTUAL_PATH; fi
    if [ -n "@{_OLD_VIRTUAL_PS1+x}" ]; then PS1="$_OLD_VIRTUAL_PS1"; export PS1; unset _OLD_VIRTUAL_PS1; fi
    hash -r 2> /dev/null
    unset VIRTUAL_ENV VIRTUAL_ENV_PROMPT
    if [ ! "@{1:-}" = "nondestructive" ]; then unset -f deactivate; fi
}
deactivate nondestructive
VIRTUAL_ENV='__VENV_DIR__'
export VIRTUAL_ENV
_OLD_VIRTUAL_PATH="$PATH"
PATH="$VIRTUAL_ENV/bin:$PATH"
export PATH
VIRTUAL_ENV_PROMPT='__VENV_PROMPT__'
export VIRTUAL_ENV_PROMPT
if [ -z "@{VIRTUAL_ENV_DISABLE_PROMPT:-}" ]; then _OLD_VIRTUAL_PS1="@{PS1:-}"; PS1="$VIRTUAL_ENV_PROMPT@{PS1:-}"; export PS1; fi
hash -r 2> /dev/null
""".replace('@{', '$' + '{')  # @{ is the shell's dollar-brace: this text sits in a JS template
def write_venv(d):
    exe = os.path.abspath(getattr(sys, '_base_executable', None) or sys.executable)
    name = os.path.basename(exe)
    ver = '%d.%d' % sys.version_info[:2]
    bindir = os.path.join(d, 'bin')
    for sub in ('bin', 'include', os.path.join('lib', 'python' + ver, 'site-packages')):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    if sys.maxsize > 2**32 and sys.platform != 'darwin' and not os.path.lexists(os.path.join(d, 'lib64')):
        os.symlink('lib', os.path.join(d, 'lib64'))
    for link, to in ((name, exe), ('python', name), ('python3', name), ('python' + ver, name)):
        p = os.path.join(bindir, link)
        if not os.path.lexists(p):
            os.symlink(to, p)
    lines = ['home = ' + os.path.dirname(exe), 'include-system-site-packages = false', 'version = %d.%d.%d' % sys.version_info[:3]]
    if sys.version_info >= (3, 11):
        lines.append('executable = ' + os.path.realpath(exe))
        lines.append('command = %s -m venv --without-pip %s' % (exe, d))
    with open(os.path.join(d, 'pyvenv.cfg'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    if sys.version_info >= (3, 13):
        with open(os.path.join(d, '.gitignore'), 'w') as f:
            f.write('# Created by venv; see https://docs.python.org/3/library/venv.html\n*\n')
    with open(os.path.join(bindir, 'activate'), 'w') as f:
        f.write(ACTIVATE.replace('__VENV_DIR__', d).replace('__VENV_PROMPT__', '(' + os.path.basename(d) + ') '))
ws, why = None, None
try:
    ws = wheels()
except Exception as e:
    why = '%s: %s' % (type(e).__name__, e)
try:
    import venv
except ImportError:
    venv = None
try:
    if venv is not None:
        venv.main(['--without-pip', sys.argv[1]])
    else:
        write_venv(sys.argv[1])
except BaseException as e:
    sys.stdout.write(json.dumps({'error': '%s: %s' % (type(e).__name__, e)}))
    sys.exit(0)
exe = os.path.split(os.path.abspath(getattr(sys, '_base_executable', sys.executable)))[1]
sys.stdout.write(json.dumps({'wheels': ws, 'noEnsurepip': why, 'venvModule': venv is not None, 'exe': exe, 'version': '%d.%d.%d' % sys.version_info[:3],
    'real': os.path.realpath(getattr(sys, '_base_executable', None) or sys.executable), 'sysVersion': sys.version}))
`;

const VENV_HINT = 'choose another Python with --python, or check that this one runs';

export interface Created {
  pythonVersion: string;
  /** The wheels pip (and setuptools) were installed from, for the wheelhouse. */
  wheels: string[];
  /** Where pip came from when this Python has no ensurepip (a folder, a file, an index), else undefined. */
  seededFrom?: string;
  /** pip and setuptools were linked from the seed template: its files by venv path (for the record's store entries). */
  shared?: SharedFiles;
}

interface HelperRun {
  status: number | null;
  stdout: string;
  stderr: string;
  error?: Error;
}

/** The helper, not waited for: links can be made meanwhile. */
function runHelper(python: string, abs: string): Promise<HelperRun> {
  return new Promise((done) => {
    let stdout = '';
    let stderr = '';
    // -S: no site module. Neither venv nor ensurepip needs it, and site runs every .pth of the
    // base's site-packages (pyenv's here imports certifi: ~45 ms of 60). Not -I: PYTHONPATH and
    // PYTHONHOME still count, as they do for the Python the user runs.
    const p = spawn(python, ['-S', '-c', HELPER, abs], { cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    p.on('error', (error) => done({ status: null, stdout, stderr, error }));
    p.on('close', (status) => done({ status, stdout, stderr }));
  });
}

export async function createVenv(dir: string, python: string, opts: CreateOptions = {}): Promise<Created> {
  const abs = resolve(dir);
  const seeds = pycCacheUsable() ? (opts.seedCache ?? (opts.pycCache === undefined ? defaultSeedCache(opts.env) : false)) : false;
  // Last time's answer for this Python (the same file, unchanged since).
  const hint = seeds && !opts.pipWheel ? readHint(seeds, python) : null;
  // Its venv files and its pip template at hand: made without starting Python at all.
  const fast = hint && seeds ? await fromHint(abs, hint, seeds, opts) : null;
  if (fast) return fast;
  // Else link the template while Python makes the venv. The folders both sides use are made
  // first (venv's own makedirs would trip over ours otherwise). Not while this Python's venv
  // files are still to be kept: they are read from a venv nothing else has written into yet.
  const early = hint?.skeleton ? hint : null;
  const made = early ? mkdirSync(abs, { recursive: true }) : undefined;
  if (early) for (const d of ['bin', early.lib]) mkdirSync(join(abs, d), { recursive: true });
  const helper = runHelper(python, abs);
  let linked = early && seeds ? linkSeed(seeds, early.key, abs, join(abs, 'bin', early.exe), opts.store) : null;
  const r = await helper;
  // A Python that cannot make the venv: take out what was made for it here.
  if ((r.error || r.status !== 0) && made) rmSync(made, { recursive: true, force: true });
  if (r.error) throw new PyctlError('NO_PYTHON', `cannot run ${python}: ${r.error.message}`, VENV_HINT);
  let info: { wheels?: string[] | null; noEnsurepip?: string | null; exe?: string; version?: string; real?: string; sysVersion?: string; error?: string };
  try {
    info = JSON.parse(r.stdout);
  } catch {
    throw new PyctlError('NO_PYTHON', `${python} failed to create a venv at ${abs}: ${(r.stderr || r.stdout).trim().split('\n').pop()}`, VENV_HINT);
  }
  if (info.error || r.status !== 0 || !info.exe || !info.version) {
    throw new PyctlError('NO_PYTHON', `${python} cannot create a venv at ${abs} (${info.error ?? r.stderr.trim()})`, VENV_HINT);
  }
  // venv records how it was made; we made the equivalent of plain `-m venv DIR`.
  const cfgPath = join(abs, 'pyvenv.cfg');
  const cfg = readFileSync(cfgPath, 'utf8');
  writeFileSync(cfgPath, cfg.replace(/^(command = .* -m venv) --without-pip /m, '$1 '));
  // Kept for the next venv of this Python, while nothing else has written into this one (with a
  // hint, the template's links went in meanwhile).
  const skeleton = !early && info.real && info.sysVersion ? keepSkeleton(abs) : null;
  let wheels = info.wheels ?? [];
  let seededFrom: string | undefined;
  if (!info.wheels || opts.pipWheel) {
    const seed = await findSeed(info.version, { pipWheel: opts.pipWheel, wheelhouse: opts.wheelhouse, distroWheels: opts.distroWheels, env: opts.env });
    wheels = seed.wheels;
    seededFrom = seed.source;
  }
  const pycCache = opts.pycCache === false ? undefined : (opts.pycCache ?? defaultPycCache());
  // ensurepip runs pip through bin/<base exe name> (so shebangs name it) and names both packages.
  const exe = join(abs, 'bin', info.exe);
  const key = seeds && info.real && info.sysVersion ? seedKey(seeds, wheels, { real: info.real, version: info.sysVersion }) : null;
  if (linked && !(early && early.key === key && early.exe === info.exe)) {
    // The guess was wrong (ensurepip's wheels changed, another pip in the wheelhouse, another interpreter behind the same path).
    for (const d of linked.dists) uninstallDist(abs, d.distInfo);
    linked = null;
  }
  if (!linked && seeds && key) linked = linkSeed(seeds, key, abs, exe, opts.store);
  let dists: InstalledDist[];
  if (linked) dists = linked.dists;
  else {
    dists = await installWheels(
      abs,
      wheels.map((path) => ({ path, requested: true })),
      { python: exe, pycCache, store: opts.store },
    );
    if (seeds && key) saveSeed(seeds, key, abs, dists, info.version.split('.').slice(0, 2).join('.'));
  }
  if (seeds && key && !opts.pipWheel && dists.length && (hint?.key !== key || skeleton) && info.real && info.sysVersion) {
    const answers = { wheels: info.wheels ?? null, version: info.version, real: info.real, sysVersion: info.sysVersion };
    // The venv files are this interpreter's (the hint is found by its file): kept across new wheels.
    const kept = skeleton ?? hint?.skeleton;
    writeHint(seeds, python, { key, exe: info.exe, lib: relative(abs, dirname(dists[0].distInfo)), info: answers, ...(kept ? { skeleton: kept } : {}) });
  }
  // The wheels it installed from, so a wheelhouse can keep them as they are (no rebuild needed).
  return { pythonVersion: info.version, wheels, seededFrom, ...(linked ? { shared: linked.shared } : {}) };
}

/** This venv's own files for the next venv (skeleton.ts); null when they cannot be kept: only a cache. */
function keepSkeleton(abs: string): Skeleton | null {
  try {
    return captureSkeleton(abs, relative(abs, sitePackagesDir(abs)));
  } catch {
    return null;
  }
}

/**
 * The venv from last time's answers, without starting Python: the interpreter's venv files
 * written as its venv module wrote them (skeleton.ts), pip linked from the template. Null, with
 * nothing left behind, when the answers do not fit (another folder name, a path that needs
 * quoting, no kept venv files, the wheels changed) or linking is refused: Python makes it then.
 */
async function fromHint(abs: string, hint: SeedHint, seeds: string, opts: CreateOptions): Promise<Created | null> {
  const { info, skeleton } = hint;
  if (!info || !skeletonFits(abs, skeleton) || existsSync(abs)) return null;
  let wheels = info.wheels ?? [];
  let seededFrom: string | undefined;
  try {
    if (!info.wheels) {
      // No ensurepip: pip from where a venv made by Python would get it (seed.ts).
      const seed = await findSeed(info.version, { wheelhouse: opts.wheelhouse, distroWheels: opts.distroWheels, env: opts.env });
      wheels = seed.wheels;
      seededFrom = seed.source;
    }
    if (seedKey(seeds, wheels, { real: info.real, version: info.sysVersion }) !== hint.key) return null;
  } catch {
    return null; // a wheel gone, no pip to be had: Python's way says why
  }
  try {
    writeSkeleton(abs, skeleton);
    const linked = linkSeed(seeds, hint.key, abs, join(abs, 'bin', hint.exe), opts.store);
    if (linked) return { pythonVersion: info.version, wheels, seededFrom, shared: linked.shared };
  } catch {
    // fall back to Python's way
  }
  rmSync(abs, { recursive: true, force: true });
  return null;
}
