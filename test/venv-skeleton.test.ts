/**
 * A venv of an interpreter seen before is made without starting it (src/venv/skeleton.ts): its
 * venv files as its venv module wrote them the first time, pip linked from the template. Made
 * that way it equals the venv Python made, file for file (pyvenv.cfg, bin/'s links and activate
 * scripts, include/, lib64, modes), on the oldest and newest Pythons here and on Debian's own.
 * The Python is run through a wrapper that logs each start, so "not started" is seen, not assumed.
 */
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVenv, findPython } from '../src/venv/create.js';
import { pyctl } from './helpers/cli.js';
import { removeDir, tempDir } from './helpers/env.js';
import { snapshot, treeDiff } from './helpers/tree.js';

let work: string;
beforeAll(() => {
  work = tempDir('pyctl-skeleton-');
});
afterAll(() => removeDir(work));

const PYTHONS: [string, string][] = [
  ['3.8', '/root/.pyenv/versions/3.8.18/bin/python3.8'],
  ['3.13', '/root/.pyenv/versions/3.13.0/bin/python3.13'],
  ["Debian's python3", '/usr/bin/python3'],
];

/** `real` behind a script that logs every start: how many times Python ran is read from `log`. */
function logged(tag: string, real: string): { python: string; starts: () => number } {
  const log = join(work, `${tag}.log`);
  const python = join(work, `${tag}-python`);
  writeFileSync(python, `#!/bin/sh\necho start >> '${log}'\nexec '${real}' "$@"\n`);
  chmodSync(python, 0o755);
  appendFileSync(log, '');
  return { python, starts: () => readFileSync(log, 'utf8').split('\n').filter(Boolean).length };
}

describe.each(PYTHONS)('a venv made from what Python %s answered before', (label, real) => {
  const tag = label.replace(/\W+/g, '-');
  // Same folder name and path length for both venvs: their files differ only by <ROOT>.
  const at = (n: string) => {
    mkdirSync(join(work, tag, n), { recursive: true });
    return join(work, tag, n, 'venv');
  };
  const opts = () => ({ pycCache: join(work, 'pyc'), seedCache: join(work, tag, 'seeds') });

  it('starts no Python and equals the one Python made, file for file; another folder name or a path needing quotes goes back to Python', async (t) => {
    if (!existsSync(real)) return t.skip(`${real} is not on this machine`);
    const { python, starts } = logged(tag, real);
    const first = at('v1');
    await createVenv(first, python, opts());
    const afterFirst = starts();
    expect(afterFirst).toBeGreaterThan(0);
    const second = at('v2');
    const made = await createVenv(second, python, opts());
    expect(starts()).toBe(afterFirst);
    expect(made.shared, 'pip linked from the template').toBeDefined();
    expect(treeDiff(snapshot(first), snapshot(second))).toEqual([]);
    // The activate scripts name the new venv (the placeholder is gone).
    expect(readFileSync(join(second, 'bin', 'activate'), 'utf8')).toContain(second);
    expect(readFileSync(join(second, 'pyvenv.cfg'), 'utf8')).not.toContain('@@');

    // Where the kept files would not be what Python writes, Python makes the venv again.
    mkdirSync(join(work, tag, 'v3'));
    await createVenv(join(work, tag, 'v3', 'env'), python, opts());
    expect(starts()).toBe(afterFirst + 1);
    mkdirSync(join(work, tag, 'v 4'));
    const quoted = join(work, tag, 'v 4', 'venv');
    await createVenv(quoted, python, opts());
    expect(starts()).toBe(afterFirst + 2);
    expect(readFileSync(join(quoted, 'bin', 'activate'), 'utf8')).toContain(quoted);
  });
});

describe('pyctl init from what Python answered before', () => {
  it('answers a second init from the kept answers; the same interpreter under another PYTHONPATH is asked again', async () => {
    const { python, starts } = logged('init', findPython('3.12'));
    const cache = join(work, 'init-cache');
    const init = async (home: string, env: Record<string, string> = {}) => {
      const r = await pyctl(join(work, 'init', home), ['init', '--python', python], { XDG_CACHE_HOME: cache, ...env });
      expect(r.exitCode, r.stderr).toBe(0);
    };
    await init('a');
    const n = starts();
    await init('b');
    expect(starts()).toBe(n);
    // PYTHONPATH can change what the venv and ensurepip modules are: not the same answers.
    mkdirSync(join(work, 'empty'));
    await init('c', { PYTHONPATH: join(work, 'empty') });
    expect(starts()).toBe(n + 1);
  });
});
