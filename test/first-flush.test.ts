/**
 * A first `pyctl init` flushes nothing; the first record after it pays the flush, or records
 * operation 0 again from the venv when a power cut emptied what init wrote
 * (src/operations/first-flush.ts, docs/safety.md). A power cut cannot be staged in a test: the
 * worst it leaves of a file written without a flush is that file empty (its name kept, as a
 * journaling file system keeps metadata in order), so these tests empty them.
 */
import { existsSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, installedSet, pip, pyctl } from './helpers/cli.js';
import { fsck, recordedFreeze } from './helpers/probe.js';
import { removeDir, tempDir } from './helpers/env.js';
import { HomeStates } from './helpers/states.js';
import { buildWheels } from './helpers/wheels.js';

let root: string;
let h: string;
let wheels: string;
let states: HomeStates;
const marker = () => join(h, '.git', 'pyctl', 'unflushed');

beforeAll(() => {
  root = tempDir();
  h = join(root, 'home');
  wheels = buildWheels(join(root, 'wheels'), [{ name: 'ff1', version: '1.0' }]);
  states = new HomeStates(h, join(root, 'states'), [], { linkCache: true });
});
afterAll(() => removeDir(root));

/** A home right after its first init: the flush still owed. */
async function fresh(): Promise<void> {
  await states.given('just-made', async () => {
    removeDir(h);
    const r = await pyctl(h, ['init']);
    expect(r.exitCode, r.stderr).toBe(0);
  });
}

/** What init wrote unflushed, as its marker lists it. */
function owed(): string[] {
  return (JSON.parse(readFileSync(marker(), 'utf8')) as { files: string[] }).files.filter((f) => existsSync(f));
}

/** History, venv and repo agree, and the flush is paid. */
async function whole(): Promise<void> {
  expect(existsSync(marker()), 'the owed flush was paid').toBe(false);
  expect(await recordedFreeze(h)).toBe((await installedSet(join(h, 'venv'))).trim());
  await fsck(h);
}

const subjects = async () => (await git(h, ['log', '--format=%s', 'main'])).trim().split('\n').reverse();

describe('a first init owes its flush to the next record', () => {
  it('init leaves the marker listing what it wrote (objects, refs, config, hook files); the next command pays it and history is unchanged', async () => {
    await fresh();
    const files = owed();
    for (const f of ['.git/refs/heads/main', '.git/refs/tags/baseline', '.git/HEAD', 'config.toml', '.gitignore']) expect(files).toContain(join(h, f));
    expect(files.some((f) => f.includes('/.git/objects/'))).toBe(true);
    expect(files.some((f) => f.endsWith('_pyctl_hook.py'))).toBe(true);
    const before = (await git(h, ['rev-parse', 'HEAD'])).trim();
    const r = await pyctl(h, ['snapshot', 'first']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await git(h, ['rev-parse', 'HEAD'])).trim()).toBe(before);
    await whole();
  });

  it('a power cut empties every file init wrote: pip still works, and the next command records operation 0 again from the venv, the baseline tag on it', async () => {
    await fresh();
    for (const f of owed()) truncateSync(f);
    // The hook's files are empty too: pip runs unrecorded, as in any venv.
    const r = await pip(join(h, 'venv'), ['install', 'ff1'], { wheels });
    expect(r.exitCode, r.stderr).toBe(0);
    const s = await pyctl(h, ['sync']);
    expect(s.exitCode, s.stderr).toBe(0);
    const subs = await subjects();
    expect(subs).toHaveLength(1);
    expect(subs[0]).toMatch(/^pyctl init \(Python 3\.\d+\.\d+\)$/);
    expect((await git(h, ['rev-parse', 'baseline^{commit}'])).trim()).toBe((await git(h, ['rev-parse', 'main'])).trim());
    expect(readFileSync(join(h, 'config.toml'), 'utf8')).toMatch(/\[snapshots\]/);
    await whole();
    // The hook was written again: the next pip run is recorded as usual.
    const u = await pip(join(h, 'venv'), ['uninstall', '-y', 'ff1']);
    expect(u.exitCode, u.stderr).toBe(0);
    expect(await subjects()).toEqual([subs[0], 'pip uninstall -y ff1']);
    await whole();
  });

  it("only operation 0's tree emptied: the next pip run finds it by reading operation 0 whole and records it again from the venv, its own packages in it", async () => {
    await fresh();
    const tree = (await git(h, ['rev-parse', 'HEAD^{tree}'])).trim();
    truncateSync(join(h, '.git', 'objects', tree.slice(0, 2), tree.slice(2)));
    const r = await pip(join(h, 'venv'), ['install', 'ff1'], { wheels });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/not recorded|error/);
    // The venv already held this run's package when operation 0 was made again (after pip).
    expect(await subjects()).toEqual([expect.stringMatching(/^pyctl init \(Python /)]);
    expect(await recordedFreeze(h)).toMatch(/^ff1==1\.0$/m);
    expect((await git(h, ['rev-parse', 'baseline^{commit}'])).trim()).toBe((await git(h, ['rev-parse', 'main'])).trim());
    await whole();
    const u = await pip(join(h, 'venv'), ['uninstall', '-y', 'ff1']);
    expect(u.exitCode, u.stderr).toBe(0);
    expect((await subjects()).at(-1)).toBe('pip uninstall -y ff1');
    await whole();
  });

  it('the marker emptied as well (its list lost): the next command finds what init wrote by itself, flushed or made again', async () => {
    await fresh();
    writeFileSync(marker(), '');
    let r = await pyctl(h, ['sync']);
    expect(r.exitCode, r.stderr).toBe(0);
    await whole();

    await fresh();
    for (const f of owed()) truncateSync(f);
    truncateSync(marker());
    r = await pyctl(h, ['snapshot', 'cut']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await subjects()).toHaveLength(1);
    await whole();
  });

  it('the venv damaged by the same power cut: one clear error saying how to start again, which works', async () => {
    await fresh();
    for (const f of owed()) truncateSync(f);
    rmSync(join(h, 'venv', 'bin', 'python'));
    const r = await pyctl(h, ['snapshot', 'x']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^error: the first state of .* was lost before it reached the disk .*, and the venv is damaged too\nhint: remove .*venv and run 'pyctl init' again\n?$/);
    rmSync(join(h, 'venv'), { recursive: true, force: true });
    const again = await pyctl(h, ['init']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(await subjects()).toHaveLength(1);
    const s = await pyctl(h, ['snapshot', 'x']);
    expect(s.exitCode, s.stderr).toBe(0);
    await whole();
  });
});
