/** createVenv: a working venv with pip (and setuptools where ensurepip bundles it), in well under a second. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PyctlError } from '../src/errors.js';
import { createVenv, findPython } from '../src/venv/create.js';
import { installedSet } from './helpers/cli.js';
import { hermeticEnv, removeDir, tempDir } from './helpers/env.js';
import { snapshot, treeDiff } from './helpers/tree.js';
import { buildWheel } from './helpers/wheels.js';

let work: string;
const env = () => hermeticEnv({ PIP_NO_INDEX: '1' });
const sh = (cmd: string, ...args: string[]) => execFileSync(cmd, args, { env: env(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

beforeAll(() => {
  work = tempDir('pyctl-venv-');
});
afterAll(() => removeDir(work));

describe('findPython', () => {
  it('resolves nothing, a version, a path; refuses unknown ones', () => {
    expect(findPython()).toMatch(/python3$/);
    const p312 = findPython('3.12');
    expect(sh(p312, '-c', 'import sys; print(sys.version_info[:2])')).toBe('(3, 12)\n');
    expect(findPython(p312)).toBe(p312);
    expect(() => findPython('9.9')).toThrow(PyctlError);
    expect(() => findPython('/nonexistent/python')).toThrow(expect.objectContaining({ code: 'NO_PYTHON' }));
  });
});

/** What `python -m venv` installs: the wheels its ensurepip bundles, as `pip freeze --all` lists them. */
const bundled = (python: string) =>
  sh(
    python,
    '-c',
    'import ensurepip, glob, os; print("\\n".join(sorted(os.path.basename(w).split("-")[0] + "==" + os.path.basename(w).split("-")[1] for w in glob.glob(os.path.dirname(ensurepip.__file__) + "/_bundled/*.whl"))))',
  );

// File for file against a real `python -m venv` (~7 s of CPU each): test/wheel.test.ts ('a fast
// venv equals a python -m venv venv') and test/seed-template.test.ts; here, what it installs.
describe.each(['3.11', '3.12'])('createVenv with Python %s', (version) => {
  // How much faster than python -m venv it is belongs to the bench (docs/performance.md), not here.
  it('makes what python -m venv makes: the bundled pip freeze, its pip runs, a wheel installs with its script; the compiled-file cache filled, then used', async () => {
    const python = findPython(version);
    // Same basename and path length: scripts and activate differ only by <ROOT>.
    const at = (tag: string) => {
      mkdirSync(join(work, `${tag}-${version}`));
      return join(work, `${tag}-${version}`, 'venv');
    };
    const dir = at('fast');
    const res = await createVenv(dir, python, { pycCache: join(work, 'pyc') }); // fills the cache
    expect(res.pythonVersion).toBe(sh(python, '-c', 'import platform; print(platform.python_version())').trim());
    const cached = at('used');
    await createVenv(cached, python, { pycCache: join(work, 'pyc') });
    expect(treeDiff(snapshot(dir), snapshot(cached))).toEqual([]);

    expect(sh(join(dir, 'bin', 'pip'), '--version')).toContain(`${realpathSync(dir)}/lib/python${version}/site-packages/pip`);
    // The installed set as pip freeze --all lists it, read without a third pip start (helpers/cli.ts).
    expect(`${await installedSet(dir)}\n`).toBe(bundled(python));
    expect(sh(join(dir, 'bin', `pip${version}`), 'check')).toMatch(/No broken requirements/);

    const wheels = join(work, 'wheels');
    buildWheel(wheels, { name: 'tiny', version: '1.0', scripts: { tiny: 'tiny:main' } });
    sh(join(dir, 'bin', 'pip'), 'install', '--find-links', wheels, 'tiny');
    expect(sh(join(dir, 'bin', 'tiny'))).toBe('tiny 1.0\n');
  });
});

describe('createVenv errors', () => {
  it('says clearly when the Python cannot be run', async () => {
    await expect(createVenv(join(work, 'x'), '/nonexistent/python3')).rejects.toMatchObject({ code: 'NO_PYTHON' });
  });
});
