/**
 * Finding a Python (src/venv/find-python.ts, also install.sh's through `pyctl _find-python`):
 * a table of fake installations in a temp folder (scripts that would fail if run: nothing is
 * started) covering pyenv shims, pyenv versions, distro folders, venvs as bases and preferences.
 */
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPython } from '../src/venv/find-python.js';
import { removeDir, tempDir } from './helpers/env.js';

let root: string;
const exe = (p: string) => {
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, '#!/bin/sh\necho "should not run" >&2; exit 1\n');
  chmodSync(p, 0o755);
};
const venv = (dir: string, home: string, version: string) => {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  writeFileSync(join(dir, 'pyvenv.cfg'), `home = ${home}\ninclude-system-site-packages = false\nversion = ${version}\n`);
  for (const n of ['python', 'python3', `python${version.split('.').slice(0, 2).join('.')}`]) exe(join(dir, 'bin', n));
};
const P = (...xs: string[]) => join(root, ...xs);

beforeAll(() => {
  root = tempDir();
  // pyenv: 3.11.7, 3.12.1, 3.12.10; its shims; global version 3.11.7
  for (const v of ['3.11.7', '3.12.1', '3.12.10']) {
    const xy = v.split('.').slice(0, 2).join('.');
    for (const n of ['python3', `python${xy}`]) exe(P('pyenv', 'versions', v, 'bin', n));
  }
  for (const n of ['python3', 'python3.11', 'python3.12', 'python3.13']) exe(P('pyenv', 'shims', n));
  writeFileSync(P('pyenv', 'version'), '3.11.7\n');
  // the distro: python3 and python3.11 (3.11.2)
  for (const n of ['python3', 'python3.11']) exe(P('usr', 'bin', n));
  exe(P('brew', 'bin', 'python3.13'));
  // pyctl's own venv first on PATH, built from the distro's 3.11
  venv(P('home', 'venv'), P('usr', 'bin'), '3.11.2');
  // a venv whose base is gone
  venv(P('orphan'), P('gone', 'bin'), '3.10.4');
  mkdirSync(P('project'), { recursive: true });
});
afterAll(() => removeDir(root));

const env = (path: string[], extra: Record<string, string> = {}) => ({ PATH: path.map((p) => P(...p.split('/'))).join(':'), PYENV_ROOT: P('pyenv'), HOME: P('home'), ...extra });
const find = (spec: string | undefined, path: string[], extra: Record<string, string> = {}, prefer?: string) =>
  findPython(spec, env(path, extra), { cwd: P('project'), dirs: [P('brew', 'bin')], prefer: prefer && P(...prefer.split('/')) });

describe('findPython', () => {
  it.each([
    // [what, spec, PATH, extra env, prefer, expected]
    ['a pyenv shim runs the global version', undefined, ['pyenv/shims', 'usr/bin'], {}, undefined, 'pyenv/versions/3.11.7/bin/python3'],
    ['a shim the selected version lacks is skipped (it would fail); pyenv versions has it', '3.12', ['pyenv/shims', 'usr/bin'], {}, undefined, 'pyenv/versions/3.12.10/bin/python3.12'],
    ['python3.12 is the same as 3.12', 'python3.12', ['pyenv/shims', 'usr/bin'], {}, undefined, 'pyenv/versions/3.12.10/bin/python3.12'],
    ['PYENV_VERSION=system: the shim steps aside for the rest of PATH', undefined, ['pyenv/shims', 'usr/bin'], { PYENV_VERSION: 'system' }, undefined, 'usr/bin/python3'],
    ['PYENV_VERSION selects for the shim', '3.12', ['pyenv/shims', 'usr/bin'], { PYENV_VERSION: '3.12.1' }, undefined, 'pyenv/versions/3.12.1/bin/python3.12'],
    ['the distro on PATH before pyenv versions', '3.11', ['usr/bin'], {}, undefined, 'usr/bin/python3.11'],
    ["an exact patch version is pyenv's folder of that name", '3.11.7', ['usr/bin'], {}, undefined, 'pyenv/versions/3.11.7/bin/python3.11'],
    ["Homebrew's folder when nothing else has it", '3.13', ['usr/bin'], {}, undefined, 'brew/bin/python3.13'],
    ['a venv first on PATH is followed to its base', undefined, ['home/venv/bin', 'pyenv/shims'], {}, undefined, 'usr/bin/python3'],
    ['...for versions too', '3.11', ['home/venv/bin', 'pyenv/shims'], {}, undefined, 'usr/bin/python3.11'],
    ['the installation a venv was built from is preferred for its version', '3.11', ['usr/bin'], {}, 'pyenv/versions/3.11.7/bin', 'pyenv/versions/3.11.7/bin/python3.11'],
    ['...but not for another version', '3.12', ['usr/bin'], {}, 'pyenv/versions/3.11.7/bin', 'pyenv/versions/3.12.10/bin/python3.12'],
  ])('%s', (_what, spec, path, extra, prefer, want) => {
    expect(find(spec, path, extra, prefer)).toBe(P(...want.split('/')));
  });

  it('a .python-version file selects for the shim like pyenv', () => {
    writeFileSync(P('project', '.python-version'), '3.12.1\n');
    try {
      expect(find('3.12', ['pyenv/shims'])).toBe(P('pyenv', 'versions', '3.12.1', 'bin', 'python3.12'));
    } finally {
      // Removed, not emptied: pyenv reads an empty .python-version as "system" (so does findPython).
      rmSync(P('project', '.python-version'));
    }
  });

  it('a path to a venv interpreter is its base; a venv whose base is gone is refused', () => {
    expect(findPython(P('home', 'venv', 'bin', 'python3'), env([]))).toBe(P('usr', 'bin', 'python3'));
    expect(() => findPython(P('orphan', 'bin', 'python3'), env([]))).toThrow(/base Python is gone/);
    expect(() => findPython(P('nope', 'python3'), env([]))).toThrow(/not an executable Python/);
  });

  it('names where it looked when nothing is found', () => {
    expect(() => find('3.9', ['usr/bin'])).toThrow(/Python 3\.9 not found \(looked for python3\.9 on PATH, in .*pyenv\/versions and .*brew\/bin\)/);
    expect(() => find('pypy3', ['usr/bin'])).toThrow(/pypy3 not found on PATH/);
  });
});
