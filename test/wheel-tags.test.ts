/** Pure: wheel tags and Requires-Python against an interpreter (src/packaging/wheel-tags.ts, reconcile/sources.ts fitProblem). */
import { describe, expect, it } from 'vitest';
import { builtFor, extensionFits, rankTags, requiresPythonOk, tagRank, tagsOfWheelFile, tagsOfWheelMeta, tagTriple } from '../src/packaging/wheel-tags.js';
import { fitProblem } from '../src/reconcile/sources.js';

// A slice of what pip's sys_tags() lists for CPython 3.12 on x86_64 glibc 2.36, in its order.
const CP312 = [
  'cp312-cp312-manylinux_2_36_x86_64',
  'cp312-cp312-manylinux_2_17_x86_64',
  'cp312-cp312-manylinux2014_x86_64',
  'cp312-cp312-linux_x86_64',
  'cp312-abi3-manylinux_2_17_x86_64',
  'cp312-abi3-linux_x86_64',
  'cp312-none-linux_x86_64',
  'cp311-abi3-manylinux_2_17_x86_64',
  'cp37-abi3-manylinux_2_17_x86_64',
  'py312-none-linux_x86_64',
  'py3-none-manylinux_2_17_x86_64',
  'cp312-none-any',
  'py312-none-any',
  'py3-none-any',
];
const it312 = { tags: CP312, ranks: rankTags(CP312), version: '3.12.1', implementation: 'cpython', extSuffixes: ['.cpython-312-x86_64-linux-gnu.so', '.abi3.so', '.so'], tagSource: 'test' };

describe('wheel tags', () => {
  it.each([
    ['markupsafe-2.1.3-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl', false],
    ['markupsafe-2.1.3-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl', true],
    ['cryptography-41.0.0-cp37-abi3-manylinux_2_17_x86_64.whl', true],
    ['six-1.16.0-py2.py3-none-any.whl', true],
    ['x-1.0-1build-py3-none-any.whl', true],
    ['numpy-1.26.0-cp312-cp312-musllinux_1_1_x86_64.whl', false],
    ['numpy-1.26.0-cp312-cp312-macosx_11_0_arm64.whl', false],
    ['pure-1.0-py2-none-any.whl', false],
  ])('%s fits CPython 3.12 on glibc: %s', (file, fits) => {
    expect(tagRank(tagsOfWheelFile(file)!, it312.ranks) >= 0).toBe(fits);
    expect(fitProblem(tagsOfWheelFile(file)!, undefined, it312) === null).toBe(fits);
  });
  it('ranks the most specific build first, as pip does', () => {
    const a = tagRank(tagsOfWheelFile('a-1-cp312-cp312-manylinux2014_x86_64.whl')!, it312.ranks);
    const b = tagRank(tagsOfWheelFile('a-1-py3-none-any.whl')!, it312.ranks);
    expect(a).toBeLessThan(b);
  });
  it('reads WHEEL Tag lines and names the build', () => {
    const tags = tagsOfWheelMeta('Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: cp311-cp311-manylinux_2_17_x86_64\nTag: cp311-cp311-manylinux2014_x86_64\n');
    expect(tagTriple(tags)).toBe('cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64');
    expect(builtFor(tags)).toBe('CPython 3.11');
    expect(fitProblem(tags, undefined, it312)).toMatch(/^built for CPython 3\.11 \(cp311-cp311-.*\), not for this CPython 3\.12\.1$/);
    expect(tagsOfWheelFile('not-a-wheel.tar.gz')).toBeNull();
  });
});

describe('Requires-Python', () => {
  it.each([
    ['>=3.8', '3.12.1', true],
    ['>=3.12', '3.11.7', false],
    ['>=3.7, !=3.11.*, <4', '3.11.2', false],
    ['>=3.7,!=3.11.*,<4', '3.12.0', true],
    ['~=3.10', '3.12.1', true],
    ['<3.12', '3.12.1', false],
    ['', '3.12.1', true],
    [undefined, '3.12.1', true],
    ['garbage', '3.12.1', true],
  ])('%s with %s: %s', (spec, version, ok) => {
    expect(requiresPythonOk(spec, version)).toBe(ok);
  });
  it('is part of the fit', () => {
    expect(fitProblem(['py3-none-any'], '>=3.13', it312)).toBe('requires Python >=3.13, this is 3.12.1');
  });
});

describe('extension modules', () => {
  it.each([
    ['_speedups.cpython-311-x86_64-linux-gnu.so', false],
    ['_speedups.cpython-312-x86_64-linux-gnu.so', true],
    ['_rust.abi3.so', true],
    ['_x.pypy310-pp73-x86_64-linux-gnu.so', false],
    ['libfoo.so', null],
    ['module.py', null],
  ])('%s loads in CPython 3.12: %s', (file, fits) => {
    expect(extensionFits(`pkg/${file}`, it312.extSuffixes)).toBe(fits);
  });
});

describe('readWheelMeta', () => {
  it('reads METADATA and WHEEL from the zip directory and two entries; a damaged file is null', async () => {
    const { readWheelMeta } = await import('../src/wheel/wheel-file.js');
    const { buildWheel } = await import('./helpers/wheels.js');
    const { tempDir, removeDir } = await import('./helpers/env.js');
    const { readFileSync, writeFileSync } = await import('node:fs');
    const dir = tempDir();
    try {
      const files: Record<string, string> = { 'big/__init__.py': '' };
      for (let i = 0; i < 300; i++) files[`big/m${i}.py`] = `X = ${i}\n`.repeat(50);
      const w = buildWheel(dir, { name: 'big', version: '2.0', metadata: ['Requires-Python: >=3.9'], files, tag: 'cp312-abi3-linux_x86_64' });
      const m = readWheelMeta(w)!;
      expect(m.metadata).toMatch(/^Requires-Python: >=3\.9$/m);
      expect(tagsOfWheelMeta(m.wheel)).toEqual(['cp312-abi3-linux_x86_64']);
      writeFileSync(w, readFileSync(w).subarray(0, 200));
      expect(readWheelMeta(w)).toBeNull();
      expect(readWheelMeta(`${dir}/missing.whl`)).toBeNull();
    } finally {
      removeDir(dir);
    }
  });
});
