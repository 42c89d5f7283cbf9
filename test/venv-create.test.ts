/** createVenv: a working venv with pip (and setuptools where ensurepip bundles it), in well under a second. */
import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PyctlError } from '../src/errors.js';
import { createVenv, findPython } from '../src/venv/create.js';
import { hermeticEnv, removeDir, tempDir } from './helpers/env.js';
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

describe.each(['3.11', '3.12'])('createVenv with Python %s', (version) => {
  // How much faster than python -m venv it is belongs to the bench (docs/performance.md), not here.
  it('makes what python -m venv makes: its pip runs, the same pip freeze, a wheel installs with its script', async () => {
    const python = findPython(version);
    const ref = join(work, `ref-${version}`);
    execFileSync(python, ['-m', 'venv', ref], { env: env() });
    const dir = join(work, `fast-${version}`);
    const res = await createVenv(dir, python, { pycCache: false });
    expect(res.pythonVersion).toBe(sh(python, '-c', 'import platform; print(platform.python_version())').trim());
    // Filling and then using the compiled-file cache works too.
    await createVenv(join(work, `fast2-${version}`), python, { pycCache: join(work, 'pyc') });
    await createVenv(join(work, `fast3-${version}`), python, { pycCache: join(work, 'pyc') });
    expect(sh(join(work, `fast3-${version}`, 'bin', 'pip'), '--version')).toMatch(/^pip \d/);

    expect(sh(join(dir, 'bin', 'pip'), '--version')).toContain(`${realpathSync(dir)}/lib/python${version}/site-packages/pip`);
    expect(sh(join(dir, 'bin', 'python'), '-m', 'pip', '--version')).toMatch(/^pip \d/);
    expect(sh(join(dir, 'bin', `pip${version}`), '--version')).toMatch(/^pip \d/);
    const freezeRef = sh(join(ref, 'bin', 'python'), '-m', 'pip', 'freeze', '--all');
    expect(sh(join(dir, 'bin', 'python'), '-m', 'pip', 'freeze', '--all')).toBe(freezeRef);
    expect(sh(join(dir, 'bin', 'python'), '-m', 'pip', 'check')).toMatch(/No broken requirements/);

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
