/**
 * Put the recording hook into a venv: `_pyctl_hook.py` plus a `.pth` line that imports it.
 * A .pth file survives pip reinstalling or upgrading itself (a bin/pip shim would not), and it
 * sees `pip`, `pip3`, `python -m pip` and absolute paths alike (docs/how-it-works.md).
 */
import { existsSync, mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PyctlError } from '../errors.js';
import type { HomePaths } from '../paths.js';
import { writeAtomic } from '../fs/durable.js';
import { sitePackagesDir } from '../venv/syspath.js';

export const HOOK_MODULE = '_pyctl_hook.py';
export const HOOK_PTH = 'zz_pyctl.pth';
/**
 * The .pth line. site.py exec()s a line that starts with `import`, at every start of the venv's
 * Python: it decides inline, without an import, whether this process may be pip (the word `pip`
 * anywhere in sys.orig_argv; always on Python < 3.10, which lacks it) and loads the hook only
 * then. Importing the hook cost 2.4 ms of a 9 ms `python -c 0`; this check costs ~1 µs. False
 * positives (a script path with "pip" in it) only cost that import: the hook decides exactly.
 */
export const HOOK_LINE = "import sys; 'pip' in repr(getattr(sys, 'orig_argv', 'pip')) and __import__('_pyctl_hook')";
const OLD_LINES = new Set(['import _pyctl_hook']);
const TEMPLATE = 'pyctl_hook.py';

/** hooks/ sits beside dist/ (bundle) or src/ (tests); look a few levels up from this file. */
function templatePath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const p = join(dir, 'hooks', TEMPLATE);
    if (existsSync(p)) return p;
    dir = dirname(dir);
  }
  throw new PyctlError('INTERNAL', `pyctl's hooks/${TEMPLATE} is missing next to its program`, 'reinstall pyctl with ./install.sh');
}

/** The program the hook calls back: this node and this CLI entry. */
export function selfCommand(): { node: string; cli: string } {
  return { node: process.execPath, cli: realpathSync(process.argv[1]) };
}

/**
 * How this program was installed: 'system' (sudo ./install.sh --system), 'user' (./install.sh),
 * or null (a build run from a checkout). install.sh writes the mode next to dist/.
 */
export function installMode(cli: string = selfCommand().cli): 'system' | 'user' | null {
  try {
    const tag = readFileSync(join(dirname(dirname(cli)), '.pyctl-installed-app'), 'utf8');
    return /^mode: system$/m.test(tag) ? 'system' : 'user';
  } catch {
    return null;
  }
}

export function hookSource(paths: HomePaths, venv: string): string {
  const config = {
    home: paths.home,
    site: sitePackagesDir(venv),
    stamp: paths.stamp,
    lock: paths.lock,
    ...selfCommand(),
  };
  // JSON of plain strings is a valid Python dict literal.
  return readFileSync(templatePath(), 'utf8').replace(/^CONFIG = \{\}$/m, `CONFIG = ${JSON.stringify(config)}`);
}

/** The files installHook writes into a venv. */
export function hookFiles(venv: string): string[] {
  const site = sitePackagesDir(venv);
  return [join(site, HOOK_MODULE), join(site, HOOK_PTH)];
}

export function installHook(paths: HomePaths, venv: string = paths.venv): void {
  const site = sitePackagesDir(venv);
  const [module, pth] = hookFiles(venv);
  writeAtomic(module, hookSource(paths, venv));
  writeAtomic(pth, `${HOOK_LINE}\n`);
  // Python would create __pycache__ on the first import and so move site-packages' mtime,
  // which the hook reads as "something changed": create it now, before the stamp is taken.
  mkdirSync(join(site, '__pycache__'), { recursive: true });
}

/**
 * What a venv made by clean or a rebuild lacks until it is finished (pip first, the hook last),
 * or null when it has both: an unfinished one beside an old venv set aside is half made.
 */
export function unfinishedVenv(paths: HomePaths): 'pip' | 'recording hook' | null {
  if (!existsSync(join(paths.venv, 'bin', 'pip'))) return 'pip';
  return hookState(paths) === 'missing' ? 'recording hook' : null;
}

/** 'ok', 'missing', or 'stale' (written for another pyctl location or home, or an older .pth line). */
export function hookState(paths: HomePaths, venv: string = paths.venv): 'ok' | 'missing' | 'stale' {
  const site = sitePackagesDir(venv);
  let current: string;
  let line: string;
  try {
    current = readFileSync(join(site, HOOK_MODULE), 'utf8');
    line = readFileSync(join(site, HOOK_PTH), 'utf8').trim();
  } catch {
    return 'missing';
  }
  if (line !== HOOK_LINE) return OLD_LINES.has(line) ? 'stale' : 'missing';
  return current === hookSource(paths, venv) ? 'ok' : 'stale';
}
