/**
 * A venv's own files without its packages (pyvenv.cfg, bin/'s interpreter links and activate
 * scripts, include/, lib64), as `python -m venv --without-pip` made them once for an
 * interpreter, kept to be written again for the next venv of that interpreter without starting
 * Python (seed-template.ts keeps it in the interpreter's hint; venv/create.ts uses it).
 * Beside a busy disk or CPU that Python start was the longest wait of a `pyctl init`.
 *
 * The venv's own path is the one thing that differs between two such venvs: kept as a
 * placeholder, and only for paths that every activate script writes as they are (the
 * characters shlex.quote leaves unquoted), under a folder of the same name (the prompt).
 */
import { chmodSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

export interface Skeleton {
  /** The venv folder's name when it was kept (its activate scripts' prompt). */
  base: string;
  /** In creation order: folders (`d`), links (`l`, with their target) and files (`f`, with their text and mode). */
  entries: { p: string; t: 'd' | 'l' | 'f'; to?: string; text?: string; mode?: number }[];
}

const PLACEHOLDER = '@@PYCTL_VENV_DIR@@';

/** Whether `venv` is written the same quoted or not by every activate script (and so can be put in by text). */
export function plainVenvPath(venv: string): boolean {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(venv) && !venv.includes(PLACEHOLDER);
}

/**
 * What `venv` holds besides site-packages' contents, with its path made a placeholder. Null
 * when it cannot be kept that way (a path that needs quoting, a file that is not small text,
 * something other than folders, links and files).
 */
export function captureSkeleton(venv: string, sitePackages: string): Skeleton | null {
  if (!plainVenvPath(venv)) return null;
  const entries: Skeleton['entries'] = [];
  const walk = (rel: string): boolean => {
    for (const name of readdirSync(join(venv, rel)).sort()) {
      const p = rel ? `${rel}/${name}` : name;
      const abs = join(venv, p);
      const st = lstatSync(abs);
      if (st.isSymbolicLink()) entries.push({ p, t: 'l', to: readlinkSync(abs) });
      else if (st.isDirectory()) {
        entries.push({ p, t: 'd', mode: st.mode & 0o7777 });
        if (p !== sitePackages && !walk(p)) return false;
      } else if (st.isFile() && st.size < 65536) {
        const text = readFileSync(abs, 'utf8');
        if (text.includes('\uFFFD') || text.includes(PLACEHOLDER)) return false;
        entries.push({ p, t: 'f', text: text.split(venv).join(PLACEHOLDER), mode: st.mode & 0o7777 });
      } else return false;
    }
    return true;
  };
  return walk('') ? { base: basename(venv), entries } : null;
}

/** Write a kept skeleton as a new venv at `venv` (which must not exist yet). */
export function writeSkeleton(venv: string, sk: Skeleton): void {
  mkdirSync(venv);
  for (const e of sk.entries) {
    const abs = join(venv, e.p);
    if (e.t === 'l') {
      symlinkSync(e.to!, abs);
      continue;
    }
    if (e.t === 'd') mkdirSync(abs);
    else writeFileSync(abs, e.text!.split(PLACEHOLDER).join(venv), { flag: 'wx' });
    // The mode venv gave it (scripts copy their template's mode whatever the umask).
    chmodSync(abs, e.mode!);
  }
}

/** Whether a kept skeleton can make the venv at `venv`. */
export function skeletonFits(venv: string, sk: Skeleton | undefined): sk is Skeleton {
  return !!sk && Array.isArray(sk.entries) && plainVenvPath(venv) && basename(venv) === sk.base;
}
