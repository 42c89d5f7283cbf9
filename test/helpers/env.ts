/** A hermetic environment for running pip and pyctl in tests: no machine pip config, no PIP_*. */
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSync } from './run.js';
import { sweepGoneWorkers } from './worker-dirs.js';

export function hermeticEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k.startsWith('PIP_') || k.startsWith('PYCTL_') || k === 'VIRTUAL_ENV') continue;
    env[k] = v;
  }
  env.PIP_CONFIG_FILE = '/dev/null';
  env.PIP_DISABLE_PIP_VERSION_CHECK = '1';
  env.PIP_NO_INPUT = '1';
  env.PYTHONDONTWRITEBYTECODE = '1';
  // No background repacks racing a test's temp-dir removal (test/maintain.test.ts turns it on).
  env.PYCTL_NO_MAINTENANCE = '1';
  // This machine's TLS proxy set-up: every Node start parses the named CA bundle (~50 ms of CPU),
  // and no test speaks TLS (servers are plain HTTP on 127.0.0.1). A test about it sets its own.
  delete env.NODE_EXTRA_CA_CERTS;
  // pyctl caches compiled pip/setuptools .pyc files under XDG_CACHE_HOME: keep tests off ~/.cache
  // but share it between tests, as one user's machine would.
  env.XDG_CACHE_HOME = join(tmpdir(), 'pyctl-test-xdg-cache');
  // A test never touches the real home: `doctor --fix` and `setup-shell` write ~/.bashrc, ~/.zshrc
  // and fish's conf.d there. pyenv's shims find their root through HOME unless told.
  env.PYENV_ROOT = process.env.PYENV_ROOT || join(process.env.HOME || homedir(), '.pyenv');
  env.HOME = sandboxHome();
  // pip asks `rustc --version` for its user agent on every run (~75 ms of CPU) when one is on PATH.
  if (env.PATH) env.PATH = [noLsbRelease(), ...env.PATH.split(':').filter((d) => !d.endsWith('/.cargo/bin'))].join(':');
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/**
 * A folder for the front of PATH whose only entry is an `lsb_release` that fails at once
 * (/bin/false). pip's user agent asks its vendored `distro` for `lsb_release -a` on every install
 * and uninstall; on this machine that is a shell script of six processes, ~0.1-0.2 s of CPU a pip
 * run. A failing one is what distro skips (as it skips a missing one), and no test sends a user
 * agent (pip runs offline). Made once per worker; the workers share it.
 */
let noLsb: string | undefined;
function noLsbRelease(): string {
  if (noLsb) return noLsb;
  const dir = join(tmpdir(), 'pyctl-test-bin');
  mkdirSync(dir, { recursive: true });
  try {
    symlinkSync('/bin/false', join(dir, 'lsb_release'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; // another worker made it
  }
  return (noLsb = dir);
}

/**
 * A HOME for the tests of one worker that do not give their own, made when first asked for. Named
 * for the worker's pid: vitest ends its workers without an exit event, so each new one deletes
 * the HOMEs of workers that are gone.
 */
let sandbox: string | undefined;
function sandboxHome(): string {
  if (sandbox) {
    mkdirSync(sandbox, { recursive: true }); // as HOME is: there, even if something deleted it
    return sandbox;
  }
  sweepGoneWorkers('pyctl-test-home');
  return (sandbox = mkdtempSync(join(tmpdir(), `pyctl-test-home-${process.pid}-`)));
}

export function tempDir(prefix = 'pyctl-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * Deletes a folder and everything in it, if it is there, with `rm -rf`: a test home (a venv with
 * pip's ~1,800 files, a repo, a store) costs rm ~0.02 s of CPU against ~0.13 s for node's
 * rmSync (a JavaScript walk: an lstat before every unlink). The worker's spawner starts it
 * (helpers/spawner.ts: no fork of the worker). Should rm fail (a file appearing while it runs),
 * rmSync has the last word.
 */
export function removeDir(dir: string): void {
  // Nothing there (a dangling link counts as there): no process.
  try {
    lstatSync(dir);
  } catch {
    return;
  }
  if (runSync('rm', ['-rf', '--', dir]).exitCode === 0) return;
  rmSync(dir, { recursive: true, force: true });
}

/**
 * The interpreter `python3` on PATH runs, asked once a worker: pyenv's shim is a shell script that
 * costs ~0.33 s of CPU at every start. For tests that make a plain venv or run a script with the
 * machine's python3.
 */
let python3Path: string | undefined;
export function python3(): string {
  return (python3Path ??= execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8', env: hermeticEnv() }).trim());
}
