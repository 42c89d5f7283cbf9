/** What `pip` and `python3` on PATH resolve to, and whether that is the venv's (no process run). */
import { realpathSync, statSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';

/** The first `name` on PATH, as a real path, or null. */
export function firstOnPath(name: string, env = process.env): string | null {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(resolve(dir), name);
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return null;
}

const inDir = (file: string | null, dir: string) => {
  if (!file) return false;
  try {
    return dirname(file) === dir || realpathSync(dirname(file)) === realpathSync(dir);
  } catch {
    return false;
  }
};

export interface PathReport {
  pip: string | null;
  python: string | null;
  ours: boolean;
  projectVenv: string | null;
}

export function pathReport(venv: string, env = process.env): PathReport {
  const bin = join(venv, 'bin');
  const pip = firstOnPath('pip', env);
  const python = firstOnPath('python3', env);
  const active = env.VIRTUAL_ENV && resolve(env.VIRTUAL_ENV) !== resolve(venv) ? env.VIRTUAL_ENV : null;
  return { pip, python, ours: inDir(pip, bin) && inDir(python, bin), projectVenv: active };
}
