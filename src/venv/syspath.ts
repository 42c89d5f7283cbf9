/**
 * Where a venv's interpreter looks for distributions, computed without running it:
 * pyvenv.cfg gives the Python version, site.py rules give the .pth path lines.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PyctlError } from '../errors.js';
import { pyAbspath } from './pypath.js';

export function readPyvenvCfg(venv: string): Map<string, string> {
  const file = join(venv, 'pyvenv.cfg');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new PyctlError('VENV_BROKEN', `${file} is missing or unreadable`, 'Recreate the venv.');
  }
  const cfg = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf('=');
    if (i > 0) cfg.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
  }
  return cfg;
}

/** 'version' (venv) or 'version_info' (virtualenv, uv) from pyvenv.cfg, e.g. '3.11.7'. */
export function venvPythonVersion(venv: string): string {
  const cfg = readPyvenvCfg(venv);
  const raw = cfg.get('version') ?? cfg.get('version_info');
  const m = raw ? /^(\d+\.\d+(?:\.\d+)?)/.exec(raw) : null;
  if (!m) {
    throw new PyctlError('VENV_BROKEN', `${join(venv, 'pyvenv.cfg')} names no Python version`, 'Recreate the venv.');
  }
  return m[1];
}

/** <venv>/lib/pythonX.Y/site-packages (or the free-threaded pythonX.Yt when only that exists). */
export function sitePackagesDir(venv: string): string {
  const [major, minor] = venvPythonVersion(venv).split('.');
  const dir = join(venv, 'lib', `python${major}.${minor}`, 'site-packages');
  if (!existsSync(dir)) {
    const t = join(venv, 'lib', `python${major}.${minor}t`, 'site-packages');
    if (existsSync(t)) return t;
  }
  return dir;
}

/**
 * The sys.path entries that hold installed distributions: site-packages, then the path lines of
 * its .pth files (sorted by file name, as site.addsitedir does; `import` lines are skipped,
 * missing and duplicate directories dropped).
 */
export function distPathEntries(site: string): string[] {
  const entries = [site];
  const known = new Set(entries);
  let names: string[];
  try {
    names = readdirSync(site)
      .filter((n) => n.endsWith('.pth'))
      .sort();
  } catch {
    return entries;
  }
  for (const name of names) {
    let text: string;
    try {
      text = readFileSync(join(site, name), 'utf8');
    } catch {
      continue;
    }
    for (let line of text.split(/(?<=\r\n|\r|\n)/)) {
      line = line.replace(/\r\n?$/, '\n');
      if (line.startsWith('#') || line.trim() === '') continue;
      if (line.startsWith('import ') || line.startsWith('import\t')) continue;
      const rel = line.trimEnd();
      const dir = pyAbspath(rel.startsWith('/') ? rel : `${site}/${rel}`);
      if (!known.has(dir) && existsSync(dir)) {
        known.add(dir);
        entries.push(dir);
      }
    }
  }
  return entries;
}
