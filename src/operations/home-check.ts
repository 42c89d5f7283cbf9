/**
 * Is this folder fit to be a pyctl home? pyctl makes the home a git repo and a venv, so it must
 * not be `/`, a system folder, the user's own home folder, or a folder that is (or is inside)
 * another git repository: pyctl would adopt that repo and commit into it.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { PyctlError } from '../errors.js';

/** Folders that are never a home; the virtual file systems not even somewhere inside. */
const SYSTEM = [
  '/bin',
  '/boot',
  '/etc',
  '/home',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/media',
  '/mnt',
  '/opt',
  '/root',
  '/sbin',
  '/srv',
  '/tmp',
  '/usr',
  '/usr/bin',
  '/usr/lib',
  '/usr/local',
  '/usr/local/bin',
  '/usr/share',
  '/var',
  '/var/lib',
  '/var/tmp',
  '/Users',
  '/System',
  '/Library',
  '/Applications',
];
const VIRTUAL = ['/proc', '/sys', '/dev', '/run'];

/** The real path of `p`, or of its nearest existing parent with the rest appended. */
function realish(p: string): string {
  const rest: string[] = [];
  let cur = resolve(p);
  for (;;) {
    try {
      return join(realpathSync(cur), ...rest.reverse());
    } catch {
      const up = dirname(cur);
      if (up === cur) return resolve(p);
      rest.push(cur.slice(up.length).replace(/^\//, ''));
      cur = up;
    }
  }
}

/** Whether `gitDir` is a pyctl state repo (pyctl's runtime folder is in it, or nothing is committed). */
export function isPyctlRepo(gitDir: string): boolean {
  if (existsSync(join(gitDir, 'pyctl'))) return true;
  try {
    const head = readFileSync(join(gitDir, 'HEAD'), 'utf8').trim();
    const m = /^ref: (refs\/heads\/.+)$/.exec(head);
    // A repo with no commit yet (an init that stopped early) has nothing to adopt.
    return !!m && !existsSync(join(gitDir, m[1])) && !existsSync(join(gitDir, 'packed-refs'));
  } catch {
    return false;
  }
}

/** Pure-ish: why `home` cannot be a pyctl home, or null. */
export function homeProblem(home: string, userHome: string = process.env.HOME || homedir()): string | null {
  const real = realish(home);
  if (real === '/') return 'it is the root folder';
  if (VIRTUAL.some((v) => real === v || real.startsWith(v + '/'))) return `it is inside ${real.split('/').slice(0, 2).join('/')}, a system file system`;
  if (SYSTEM.includes(real)) return 'it is a system folder';
  if (real === realish(userHome)) return 'it is your home folder itself';
  for (let dir = real; ; dir = dirname(dir)) {
    const git = join(dir, '.git');
    if (existsSync(git)) {
      if (dir !== real) return `it is inside the git repository ${dir}`;
      if (!isPyctlRepo(git)) return `it is a git repository that pyctl did not make (${git})`;
    }
    if (dirname(dir) === dir) return null;
  }
}

/** Refuse, before anything is made, a home pyctl must not make or adopt. */
export function checkHome(home: string): void {
  const problem = homeProblem(home);
  if (problem) {
    throw new PyctlError('USAGE', `${home} cannot be a pyctl home: ${problem}`, 'point PYCTL_HOME (or --home) at a folder of its own outside any git repository, e.g. ~/.local/python-packages');
  }
}
