/**
 * The wheels a new venv was seeded from are kept in the home's wheelhouse (wheelhouse.ts
 * seedWheelhouse): the interpreter's own (ensurepip's) as a hard link where one is allowed, so
 * a first init writes no 3 MB copy; a wheel from elsewhere (--pip-wheel, an index) as a copy.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedWheelhouse } from '../src/wheelhouse/wheelhouse.js';
import { removeDir, tempDir } from './helpers/env.js';
import { buildWheels } from './helpers/wheels.js';

let work: string;
let wheel: string;
beforeAll(() => {
  work = tempDir('pyctl-seedhouse-');
  wheel = join(buildWheels(join(work, 'src'), [{ name: 'seedpkg', version: '1.0' }]), 'seedpkg-1.0-py3-none-any.whl');
});
afterAll(() => removeDir(work));

describe('seedWheelhouse', () => {
  it("links ensurepip's wheels (same file system, ours to link) and copies any other", () => {
    const linked = join(work, 'linked');
    seedWheelhouse(linked, [wheel], true);
    expect(statSync(join(linked, 'seedpkg-1.0-py3-none-any.whl')).ino).toBe(statSync(wheel).ino);
    const copied = join(work, 'copied');
    seedWheelhouse(copied, [wheel], false);
    const kept = join(copied, 'seedpkg-1.0-py3-none-any.whl');
    expect(statSync(kept).ino).not.toBe(statSync(wheel).ino);
    expect(readFileSync(kept)).toEqual(readFileSync(wheel));
  });
});
