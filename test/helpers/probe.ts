/**
 * What a test looks at after an operation, in one place: the home's HEAD, the installed set as
 * pip lists it, the set history records, git's own consistency check, and a venv's site-packages.
 */
import { sitePackagesDir } from '../../src/venv/syspath.js';
import { git, pip } from './cli.js';

export const head = (home: string): Promise<string> => git(home, ['rev-parse', 'HEAD']);

/** The set history says is installed (HEAD's freeze.txt). */
export const recordedFreeze = async (home: string): Promise<string> => (await git(home, ['show', 'HEAD:freeze.txt'])).trim();

/**
 * `pip freeze --all` as pip prints it. PYCTL_NO_RECORD: looking must not record (a plain
 * `pip freeze` would record a crash it finds).
 */
export const venvFreeze = async (venv: string): Promise<string> => (await pip(venv, ['freeze', '--all'], { env: { PYCTL_NO_RECORD: '1' } })).stdout.trim();

/** git's strict check of every object and ref; throws (fails the test) on any problem. */
export const fsck = (home: string): Promise<string> => git(home, ['fsck', '--strict', '--no-dangling']);

/** The venv's site-packages, as pyctl itself finds it. */
export const sitePackages = (venv: string): string => sitePackagesDir(venv);
