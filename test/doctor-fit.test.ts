/**
 * doctor's `packages` check (doctor/fit.ts findMisfits) on a venv laid out on disk (no Python
 * is started: the interpreter's facts are given): every path form a RECORD row can take is
 * found present or missing as the file system has it, and extension modules for another Python
 * are named with the package whose RECORD lists them. test/python-move.test.ts runs it on real
 * venvs of two Pythons.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findMisfits } from '../src/doctor/fit.js';
import type { Interpreter } from '../src/venv/tags.js';
import { removeDir, tempDir } from './helpers/env.js';

const it311: Interpreter = {
  tags: ['py3-none-any'],
  ranks: new Map([['py3-none-any', 0]]),
  version: '3.11.7',
  implementation: 'cpython',
  extSuffixes: ['.cpython-311-x86_64-linux-gnu.so', '.abi3.so', '.so'],
  tagSource: 'test',
};

let root: string;

function put(path: string, text = ''): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

/** A venv of its own for each test (files only). */
function makeVenv(name: string): { venv: string; site: string } {
  const venv = join(root, name);
  put(join(venv, 'pyvenv.cfg'), 'home = /usr/bin\nversion = 3.11.7\n');
  mkdirSync(join(venv, 'bin'), { recursive: true });
  return { venv, site: join(venv, 'lib', 'python3.11', 'site-packages') };
}

/** A dist-info whose RECORD lists `rows` (paths relative to site-packages). */
function dist(site: string, name: string, rows: string[]): void {
  const info = join(site, `${name}-1.0.dist-info`);
  put(join(info, 'METADATA'), `Metadata-Version: 2.1\nName: ${name}\nVersion: 1.0\n`);
  put(join(info, 'WHEEL'), 'Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n');
  put(join(info, 'RECORD'), [...rows, `${name}-1.0.dist-info/METADATA,,`, `${name}-1.0.dist-info/WHEEL,,`, `${name}-1.0.dist-info/RECORD,,`].map((r) => `${r}\n`).join(''));
}

beforeAll(() => {
  root = tempDir('pyctl-doctor-fit-');
});
afterAll(() => removeDir(root));

describe('findMisfits: RECORD rows against the files', () => {
  it('finds every path form present when the files are there, and each missing one when it is not', () => {
    const rows = ['whole/__init__.py', 'whole/./dot.py', 'whole/sub/../up.py', '../../../bin/whole-cli', 'whole/link.py', 'whole/fifo', 'whole/__pycache__/gone.cpython-311.pyc'];
    const { venv, site } = makeVenv('paths');
    dist(site, 'whole', rows);
    put(join(site, 'whole', '__init__.py'));
    put(join(site, 'whole', 'dot.py'));
    put(join(site, 'whole', 'up.py'));
    put(join(venv, 'bin', 'whole-cli'));
    put(join(site, 'whole', 'target.py'));
    symlinkSync('target.py', join(site, 'whole', 'link.py'));
    execFileSync('mkfifo', [join(site, 'whole', 'fifo')]);
    expect(findMisfits(venv, it311)).toEqual([]);

    // Each gone in turn: the check names it (the .pyc is rebuilt on import: never missing).
    for (const [row, path] of [
      ['whole/__init__.py', join(site, 'whole', '__init__.py')],
      ['whole/./dot.py', join(site, 'whole', 'dot.py')],
      ['whole/sub/../up.py', join(site, 'whole', 'up.py')],
      ['../../../bin/whole-cli', join(venv, 'bin', 'whole-cli')],
    ]) {
      rmSync(path);
      const found = findMisfits(venv, it311);
      expect(
        found.map((m) => m.why),
        row,
      ).toEqual([`1 file(s) its RECORD lists are missing (${row})`]);
      put(path);
    }
    // A symlink whose target is gone is missing too (as Python's import sees it).
    unlinkSync(join(site, 'whole', 'target.py'));
    expect(findMisfits(venv, it311).map((m) => m.why)).toEqual(['1 file(s) its RECORD lists are missing (whole/link.py)']);
  });

  it('names an extension module for another Python with the package that lists it, and a stray one alone', () => {
    const { venv, site } = makeVenv('ext');
    dist(site, 'ext', ['ext/__init__.py', 'ext/_fast.cpython-310-x86_64-linux-gnu.so', 'ext/_ok.cpython-311-x86_64-linux-gnu.so']);
    put(join(site, 'ext', '__init__.py'));
    put(join(site, 'ext', '_fast.cpython-310-x86_64-linux-gnu.so'));
    put(join(site, 'ext', '_ok.cpython-311-x86_64-linux-gnu.so'));
    put(join(site, 'stray', '_old.cpython-312-x86_64-linux-gnu.so'));
    const found = findMisfits(venv, it311).sort((a, b) => a.file!.localeCompare(b.file!));
    expect(found.map((m) => [m.dist?.name ?? null, m.file])).toEqual([
      ['ext', join(site, 'ext', '_fast.cpython-310-x86_64-linux-gnu.so')],
      [null, join(site, 'stray', '_old.cpython-312-x86_64-linux-gnu.so')],
    ]);
    expect(found[0].why).toBe('ext/_fast.cpython-310-x86_64-linux-gnu.so is an extension module for another Python (this cpython 3.11.7 never loads it)');
  });
});
