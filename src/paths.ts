import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Where one pyctl home keeps its parts. The home is the state repo's work tree. */
export interface HomePaths {
  home: string;
  venv: string;
  /** The venv's installed set in `pip freeze --all` format: the file the state repo tracks. */
  freeze: string;
  config: string;
  provenance: string;
  gitDir: string;
  /** Untracked runtime state: lock, stamp, caches. Lives inside .git so plain git ignores it. */
  runtime: string;
  lock: string;
  stamp: string;
  /** Present in the system tier's home (written by `pyctl --system init`). */
  systemMarker: string;
  wheelhouse: string;
  /** The link store (wheel/link-store.ts): one copy of each installed file, as a hard link. */
  store: string;
  /** The stored packages' index (wheel/package-store.ts): one file per version kept in the store. */
  packages: string;
}

export const FREEZE_FILE = 'freeze.txt';
export const CONFIG_FILE = 'config.toml';
/** Where each package version came from (src/provenance/origins.ts). */
export const PROVENANCE_FILE = 'provenance.txt';

/** The per-user cache pyctl keeps (~/.cache/pyctl, or under XDG_CACHE_HOME): pyc files, seed templates, the CLI's code cache, checked wheels. */
export function userCache(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), 'pyctl');
}

export function defaultHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PYCTL_HOME) return resolve(env.PYCTL_HOME);
  return join(env.HOME || homedir(), '.local', 'python-packages');
}

/** The system tier's home (root-owned; `pyctl --system`). PYCTL_SYSTEM_HOME moves it (tests do). */
export const DEFAULT_SYSTEM_HOME = '/opt/system-python';

export function systemHome(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.PYCTL_SYSTEM_HOME || DEFAULT_SYSTEM_HOME);
}

export function homePaths(home: string = defaultHome()): HomePaths {
  const gitDir = join(home, '.git');
  const runtime = join(gitDir, 'pyctl');
  return {
    home,
    venv: join(home, 'venv'),
    freeze: join(home, FREEZE_FILE),
    config: join(home, CONFIG_FILE),
    provenance: join(home, PROVENANCE_FILE),
    gitDir,
    runtime,
    lock: join(runtime, 'lock'),
    stamp: join(runtime, 'stamp'),
    systemMarker: join(runtime, 'system-tier'),
    wheelhouse: join(home, 'wheelhouse'),
    store: join(runtime, 'files'),
    packages: join(runtime, 'packages'),
  };
}
