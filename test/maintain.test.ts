/**
 * Packing the state repo: isomorphic-git leaves every object loose; `pyctl _maintain` packs them
 * (git CLI, or isomorphic-git when git is missing) and a record starts it in the background.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { homePaths } from '../src/paths.js';
import { StateRepo } from '../src/gitstore/repo.js';
import { looseDirCount } from '../src/gitstore/maintain.js';
import { git, pyctl } from './helpers/cli.js';
import { removeDir, tempDir } from './helpers/env.js';

let root: string;
beforeAll(() => {
  root = tempDir();
});
afterAll(() => removeDir(root));

/** A state repo with `n` commits, written in-process the way pyctl writes them (all loose). */
async function repoWith(home: string, n: number): Promise<StateRepo> {
  const repo = new StateRepo(homePaths(home));
  await repo.init();
  for (let i = 0; i < n; i++) await repo.commit(`pkg-${i}==1.0\n`, `op ${i}\n\nPyctl-Op: ${i}\nPyctl-Kind: pip\n`);
  return repo;
}

const packs = (home: string) => readdirSync(join(home, '.git', 'objects', 'pack')).filter((f) => f.endsWith('.pack')).length;

async function history(home: string): Promise<string[]> {
  const out: string[] = [];
  for await (const c of new StateRepo(homePaths(home)).walk()) out.push(c.parsed.subject);
  return out;
}

describe('pyctl _maintain', () => {
  it.each([
    ['the git CLI', {}],
    ['isomorphic-git (no git on PATH)', { PATH: '/nonexistent' }],
  ])('packs loose objects with %s; history reads the same', async (_how, env) => {
    const home = join(root, `m-${Object.keys(env).length}`);
    await repoWith(home, 30);
    const before = await history(home);
    expect(looseDirCount(join(home, '.git'))).toBeGreaterThan(40);
    const r = await pyctl(home, ['_maintain'], env);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(looseDirCount(join(home, '.git'))).toBe(0);
    expect(packs(home)).toBe(1);
    expect(await history(home)).toEqual(before);
    expect(await git(home, ['fsck', '--no-dangling'])).toBe('');
    expect(existsSync(join(home, '.git', 'pyctl', 'lock'))).toBe(false);
  });

  it('does nothing when few objects are loose', async () => {
    const home = join(root, 'few');
    await repoWith(home, 3);
    await pyctl(home, ['_maintain']);
    expect(existsSync(join(home, '.git', 'objects', 'pack')) ? packs(home) : 0).toBe(0);
  });
});

describe('a record starts maintenance in the background', () => {
  it('packs after a record once loose objects pile up', async () => {
    const home = join(root, 'rec');
    expect((await pyctl(home, ['init'])).exitCode).toBe(0);
    const repo = new StateRepo(homePaths(home));
    for (let i = 0; i < 30; i++) await repo.commit(`pkg-${i}==1.0\n`, `op ${i}\n\nPyctl-Op: ${i + 1}\nPyctl-Kind: pip\n`);
    // HEAD's freeze no longer matches the venv: this record commits, then starts _maintain.
    const r = await pyctl(home, ['_record', '--phase', 'post', '--', 'install', 'x'], { PYCTL_NO_MAINTENANCE: undefined });
    expect(r.exitCode, r.stderr).toBe(0);
    // The detached _maintain has no exit to wait for: look until it is done, with a bound generous
    // enough for a machine busy with other work (a bound, not a timing check: the wait ends when the packing does).
    const deadline = Date.now() + 100_000;
    while (looseDirCount(join(home, '.git')) > 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
    expect(looseDirCount(join(home, '.git'))).toBe(0);
    while (existsSync(join(home, '.git', 'pyctl', 'lock')) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
    expect((await history(home))[0]).toBe('pip install x');
    expect(await git(home, ['status', '--porcelain'])).toBe('');
  });
});
