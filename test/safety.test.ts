/**
 * Concurrency and crashes (docs/safety.md), with real pip, real processes and real git:
 * concurrent pip runs each land as their own commit; pip racing undo and snapshot loses
 * nothing; a SIGKILLed undo or pip run is found by the next command, recorded as interrupted,
 * and the repo stays `git fsck --strict` clean.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, git, installedSet, pip, pyctl } from './helpers/cli.js';
import { fsck, head, recordedFreeze } from './helpers/probe.js';
import { removeDir, tempDir } from './helpers/env.js';
import { killGroup, startUntil } from './helpers/process.js';
import { HomeStates } from './helpers/states.js';
import { buildWheels } from './helpers/wheels.js';

let root: string;
let home: string;
let venv: string;
let wheels: string;
let states: HomeStates;

// The installed set, read from the dist-info folders pip reads (helpers/cli.ts installedSet): these
// tests are about what is recorded, not about pip freeze's output.
const venvFreeze = (v: string) => installedSet(v);

const count = async () => Number(await git(home, ['rev-list', '--count', 'HEAD']));
const lockDir = () => join(home, '.git', 'pyctl');

/** A pid that is certainly gone: that of a process that has exited (`true`, not a Node start: ~70 ms of CPU less). */
function deadPid(): number {
  const r = spawnSync('true');
  if (r.status !== 0 || !r.pid) throw new Error(`could not run true: ${r.error?.message ?? r.status}`);
  return r.pid;
}

beforeAll(async () => {
  root = tempDir();
  home = join(root, 'home');
  venv = join(home, 'venv');
  wheels = buildWheels(join(root, 'wheels'), [...['c1', 'c2', 'c3', 'c4', 'race', 'k1', 'k2', 'k3', 'p1', 'p2'].map((name) => ({ name, version: '1.0' }))]);
  // No test writes pip's or setuptools' files in place: the per-user cache's files are linked, not
  // copied, and a put-back rewrites only what the test changed (helpers/copy-tree.ts).
  states = new HomeStates(home, join(root, 'states'), [], { linkCache: true });
});
afterAll(() => removeDir(root));

/**
 * The state every test starts from (helpers/states.ts), so each passes alone (-t) and shuffled:
 * operation 1 is `pip install k1 k2 k3`, something for an undo to take back (three removals, for
 * the undo killed half-way through them).
 */
const withOp1 = () =>
  states.given('k1-k3', async () => {
    removeDir(home);
    const r = await pyctl(home, ['init']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await pip(venv, ['install', 'k1', 'k2', 'k3'], { wheels })).exitCode).toBe(0);
  });

describe('concurrency', () => {
  it('4 pip installs started while an undo holds the lock each wait once for it, then all land as their own commits', async () => {
    await withOp1();
    const before = await count();
    // Hold the lock on purpose: an undo paused before its commit (src/debug/faults.ts).
    const holder = await startUntil(process.execPath, [CLI, 'undo'], /test pause at commit/, { env: { PYCTL_HOME: home, NO_COLOR: '1', PYCTL_TEST_PAUSE_AT: 'commit' } });
    const waitLine = /pyctl: waiting for another change to this venv to finish \(pid (\d+): (pyctl undo|pip install)\)/g;
    const runs = await Promise.all(
      ['c1', 'c2', 'c3', 'c4'].map((n) => startUntil(join(venv, 'bin', 'pip'), ['install', n], /waiting for another change/, { env: { PIP_NO_INDEX: '1', PIP_FIND_LINKS: wheels } })),
    );
    // All four are waiting and none has changed the venv or the record yet.
    expect(await count()).toBe(before);
    expect(await venvFreeze(venv)).not.toMatch(/^c\d==/m);
    process.kill(holder.child.pid!, 'SIGUSR2'); // let the undo go on
    expect(await holder.exit, holder.stderr()).toBe(0);
    for (const r of runs) expect(await r.exit, r.stderr()).toBe(0);
    // Each said once what it waited for, and that was the undo.
    for (const r of runs) {
      const waits = [...r.stderr().matchAll(waitLine)];
      expect(waits.map((m) => [Number(m[1]), m[2]])).toEqual([[holder.child.pid, 'pyctl undo']]);
    }
    expect(await count()).toBe(before + 5);
    // The undo landed first; then the installs, each with only its own package.
    expect(await git(home, ['log', '-1', '--format=%s', 'HEAD~4'])).toMatch(/^undo /);
    const bodies = (await git(home, ['log', '-4', '--format=%s%n%b%x00']))
      .split('\0')
      .map((b) => b.trim())
      .filter(Boolean);
    const seen = bodies.map((b) => {
      const [subject, ...rest] = b.split('\n');
      const pkg = /^pip install (c\d)$/.exec(subject)![1];
      expect(rest.filter((l) => /^[-+~] /.test(l))).toEqual([`+ ${pkg} 1.0`]);
      return pkg;
    });
    expect(seen.sort()).toEqual(['c1', 'c2', 'c3', 'c4']);
    expect(await recordedFreeze(home)).toBe(await venvFreeze(venv));
    await fsck(home);
    expect(existsSync(join(lockDir(), 'lock'))).toBe(false);
  });

  it('a pip install racing pyctl snapshot and pyctl undo: all land, nothing lost', async () => {
    await withOp1();
    const before = await count();
    const [p, s, u] = await Promise.all([pip(venv, ['install', 'race'], { wheels }), pyctl(home, ['snapshot', 'racing']), pyctl(home, ['undo'])]);
    expect(p.exitCode, p.stderr).toBe(0);
    expect(s.exitCode, s.stderr).toBe(0);
    expect(u.exitCode, u.stderr).toBe(0);
    expect(await count()).toBe(before + 2); // the install and the undo, in some order
    // What is recorded is what is installed, and the snapshot names a recorded state.
    expect(await recordedFreeze(home)).toBe(await venvFreeze(venv));
    await git(home, ['merge-base', '--is-ancestor', 'racing', 'HEAD']); // throws if not
    expect(await git(home, ['status', '--porcelain'])).toBe('');
    await fsck(home);
  });
});

describe('crashes', () => {
  it('a SIGKILLed undo mid-reconcile is found by the next command, recorded as interrupted', async () => {
    await withOp1(); // operation 1 installed k1, k2 and k3
    const installed = await venvFreeze(venv);
    const h = await head(home);
    const undo = await startUntil(process.execPath, [CLI, 'undo'], /test pause at reconcile/, { env: { PYCTL_HOME: home, NO_COLOR: '1', PYCTL_TEST_PAUSE_AT: 'reconcile' } });
    await killGroup(undo.child);
    expect(await head(home)).toBe(h); // nothing recorded by the dead undo
    expect(await venvFreeze(venv)).not.toBe(installed); // the venv is half reconciled
    // Leftovers of a dead writer: a temp file and an empty (half-written) loose object.
    const dead = deadPid();
    mkdirSync(join(home, '.git', 'objects', '00'), { recursive: true });
    writeFileSync(join(home, '.git', 'objects', '00', `${'1'.repeat(38)}.tmp-${dead}-1`), 'x');
    writeFileSync(join(home, '.git', 'objects', '00', '2'.repeat(38)), '');

    // Reading shows what the dead undo left and writes nothing; `pyctl sync` records it.
    const look = await pyctl(home, ['status']);
    expect(look.exitCode, look.stderr).toBe(0);
    expect(look.stderr).toMatch(/a run that stopped half-way \(pid \d+: pyctl undo\) left changes not recorded: - k\d 1\.0; recorded by the next change or 'pyctl sync'/);
    expect(await head(home)).toBe(h);
    const st = await pyctl(home, ['sync']);
    expect(st.exitCode, st.stderr).toBe(0);
    expect(st.stderr).toMatch(/took over the lock of pid \d+ \(pyctl undo\)/);
    expect(st.stdout).toMatch(/interrupted pyctl undo \(found after a crash\)/);
    const msg = await git(home, ['log', '-1', '--format=%B']);
    expect(msg.split('\n')[0]).toBe('interrupted pyctl undo (found after a crash)');
    expect(msg).toMatch(/Pyctl-Kind: external/);
    expect(msg).toMatch(/Pyctl-Status: interrupted/);
    expect(msg).toMatch(/^- k\d 1\.0$/m);
    expect(await recordedFreeze(home)).toBe(await venvFreeze(venv));
    expect(readdirSync(lockDir()).filter((f) => /lock|interrupted/.test(f))).toEqual([]);
    expect(readdirSync(join(home, '.git', 'objects', '00'))).toEqual([]);
    await fsck(home);
    const hist = await pyctl(home, ['history', '--limit', '1']);
    expect(hist.stdout).toMatch(/interrupted pyctl undo.*\[interrupted\]/);
    // And the interrupted state can itself be undone: back to all three installed.
    const again = await pyctl(home, ['undo']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(await venvFreeze(venv)).toBe(installed);
    await fsck(home);
  });

  it('a SIGKILLed pip run (killed while recording) is recorded as interrupted by the next pip run', async () => {
    await withOp1();
    const h = await head(home);
    const run = await startUntil(join(venv, 'bin', 'pip'), ['install', 'p1'], /test pause at commit/, { env: { PIP_NO_INDEX: '1', PIP_FIND_LINKS: wheels, PYCTL_TEST_PAUSE_AT: 'commit' } });
    await killGroup(run.child);
    expect(await head(home)).toBe(h);
    expect(await venvFreeze(venv)).toMatch(/^p1==1\.0$/m); // pip finished; its record did not
    // The next pip run (the Python hook takes the lock over) records it first, then itself.
    const next = await pip(venv, ['install', 'p2'], { wheels });
    expect(next.exitCode, next.stderr).toBe(0);
    const log = (await git(home, ['log', '-2', '--format=%s|%(trailers:key=Pyctl-Status,valueonly)']))
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    expect(log).toEqual(['pip install p2|', 'interrupted pip install (found after a crash)|interrupted']);
    expect(await git(home, ['show', '-s', '--format=%b', 'HEAD~1'])).toMatch(/^\+ p1 1\.0$/m);
    expect(await recordedFreeze(home)).toBe(await venvFreeze(venv));
    expect(await git(home, ['status', '--porcelain'])).toBe('');
    await fsck(home);
  });

  it('a half-written object from an old crash is rewritten when the same state is recorded again', async () => {
    await withOp1();
    // Operation 0's freeze (before k1-k3): the state the uninstall below records again.
    const blob = await git(home, ['rev-parse', 'HEAD~1:freeze.txt']);
    expect(await git(home, ['rev-parse', 'HEAD:freeze.txt'])).not.toBe(blob);
    // Truncate that older, loose freeze blob, as a non-atomic write killed half-way would.
    const loose = join(home, '.git', 'objects', blob.slice(0, 2), blob.slice(2));
    expect(existsSync(loose)).toBe(true);
    writeFileSync(loose, '');
    expect((await pip(venv, ['uninstall', '-y', 'k1', 'k2', 'k3'])).exitCode).toBe(0);
    expect(await git(home, ['rev-parse', 'HEAD:freeze.txt'])).toBe(blob);
    await fsck(home);
  });

  it('a HEAD naming a missing commit is moved back to the last completed operation', async () => {
    await withOp1();
    const good = await head(home);
    const dead = deadPid();
    writeFileSync(join(home, '.git', 'refs', 'heads', 'main'), `${'3'.repeat(40)}\n`);
    writeFileSync(join(lockDir(), 'lock'), `${dead} ${(await import('node:os')).hostname()} pip install\n`);
    const r = await pyctl(home, ['sync']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await head(home)).toBe(good);
    expect((await pyctl(home, ['history', '--limit', '2'])).exitCode).toBe(0);
    await fsck(home);
  });
});
