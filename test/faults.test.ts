/**
 * Faults are inputs (issue 17): a process killed or interrupted at a write step, a full disk, a
 * closed pipe, a damaged kept wheel. Real venvs, real pip, the real git CLI; the fault points of
 * src/debug/faults.ts pick the moment. After each: pip works, nothing half-written is left or
 * recorded, `git fsck --strict` is clean, and the next command works. The table of every fault
 * point of every operation is test/fault-points.test.ts.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, git, installedSet, pip, pyctl } from './helpers/cli.js';
import { fsck, head, recordedFreeze, sitePackages } from './helpers/probe.js';
import { tempLeftovers } from './helpers/leftovers.js';
import { hermeticEnv, removeDir, tempDir } from './helpers/env.js';
import { startUntil as startProcess, type Started } from './helpers/process.js';
import { HomeStates } from './helpers/states.js';
import { buildWheels } from './helpers/wheels.js';

let root: string;
let home: string;
let venv: string;
let wheels: string;
let states: HomeStates;

// The installed set, read from the dist-info folders pip reads (helpers/cli.ts installedSet): these
// tests are about what pyctl leaves, not about pip freeze's output; pip's own view is checked with
// `pip check` / `pip list` where it matters.
const venvFreeze = (v: string) => installedSet(v);

const leftovers = (dir = home) => tempLeftovers(dir);

/** pyctl in its own process group, handed back once `marker` shows on its stderr (helpers/process.ts). */
function startUntil(args: string[], env: Record<string, string>, marker: RegExp): Promise<Started> {
  return startProcess(process.execPath, [CLI, ...args], marker, { env: { PYCTL_HOME: home, NO_COLOR: '1', ...env } });
}

beforeAll(async () => {
  root = tempDir();
  home = join(root, 'home');
  venv = join(home, 'venv');
  wheels = buildWheels(
    join(root, 'wheels'),
    ['f1', 'f2', 'f3', 'g1'].map((name) => ({ name, version: '1.0' })),
  );
  // linkCache: no test here writes into pip's or setuptools' files in place (helpers/states.ts).
  states = new HomeStates(home, join(root, 'states'), [], { linkCache: true });
});
afterAll(() => removeDir(root));

// The states tests start from (helpers/states.ts), so each passes alone (-t) and shuffled.
const installs = async (...args: string[]) => expect((await pip(venv, ['install', ...args], { wheels })).exitCode, args.join(' ')).toBe(0);
/** Just initialised: no operation yet. */
const initialised = () =>
  states.given('init', async () => {
    removeDir(home);
    const r = await pyctl(home, ['init']);
    expect(r.exitCode, r.stderr).toBe(0);
  });
/** The same, for a test that only reads the home. */
const initialisedToRead = () =>
  states.givenToRead('init', async () => {
    removeDir(home);
    const r = await pyctl(home, ['init']);
    expect(r.exitCode, r.stderr).toBe(0);
  });
/** Operation 1 is `pip install f2 f3 g1`. */
const withF2F3 = () =>
  states.given('f2f3', async () => {
    await initialised();
    await installs('f2', 'f3', 'g1');
  });
/**
 * g1 was installed (with f2 and f3), wheels of them built into the wheelhouse (a record keeps
 * pip's files in the store, not a wheel), then all three taken out (`restore baseline`) and g1's
 * stored package taken away: to undo that, f2 and f3 come from the store, and for g1 undo has
 * only the kept wheel, or pip, to turn to. (Built on withF2F3's pip run: one pip run less.)
 */
const g1OnlyKept = () =>
  states.given('g1-kept', async () => {
    await withF2F3();
    expect((await pyctl(home, ['wheelhouse', '--build'])).exitCode).toBe(0);
    const r = await pyctl(home, ['restore', 'baseline']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await venvFreeze(venv)).not.toMatch(/^g1==/m);
    rmSync(join(home, '.git', 'pyctl', 'packages', 'g1==1.0.json'));
    expect(existsSync(join(home, 'wheelhouse', 'g1-1.0-py3-none-any.whl'))).toBe(true);
  });

describe('output and input faults (row 10)', () => {
  it('a closed pipe ends output quietly; a full output file is one line; /dev/zero is refused, bounded', async () => {
    await initialisedToRead();
    // Readers only, so the three run side by side.
    const closedPipe = async (args: string[]) => {
      const child = spawn(process.execPath, [CLI, ...args], { env: hermeticEnv({ PYCTL_HOME: home, NO_COLOR: '1' }), stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.destroy(); // the reader is gone before pyctl writes a byte
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      await new Promise((r) => child.on('exit', r));
      return err;
    };
    const args = [['history'], ['--help'], ['export']];
    const errs = await Promise.all(args.map(closedPipe));
    errs.forEach((err, i) => expect(err, args[i].join(' ')).toBe(''));
    const full = openSync('/dev/full', 'w');
    const child = spawn(process.execPath, [CLI, 'export'], { env: hermeticEnv({ PYCTL_HOME: home, NO_COLOR: '1' }), stdio: ['ignore', full, 'pipe'] });
    closeSync(full);
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(1);
    expect(err).toBe('error: cannot write the output: the disk is full (ENOSPC)\n');

    const h = await head(home);
    const zero = await pyctl(home, ['restore', '--file', '/dev/zero']);
    expect(zero.exitCode).toBe(2);
    expect(zero.stderr).toMatch(/^error: \/dev\/zero holds binary data \(NUL bytes\); not a requirements file\nhint: /);
    expect(zero.stderr).not.toMatch(/\n\s+at /);
    expect(await head(home)).toBe(h);
  });
});

// Killed (SIGKILL) or out of disk while an undo links a stored package back: test/fault-points.test.ts,
// rows 'undo-install, install at SIGKILL/ENOSPC' (and restore's and redo's).
describe('interrupted while changing the venv', () => {
  it('Ctrl-C during an undo rolls back, says so, exits 130, records nothing', async () => {
    await withF2F3();
    const h = await head(home);
    const before = await venvFreeze(venv);
    const run = await startUntil(['undo'], { PYCTL_TEST_PAUSE_AT: 'reconcile' }, /test pause at reconcile/);
    expect(await venvFreeze(venv)).not.toBe(before); // one package already removed
    process.kill(run.child.pid!, 'SIGINT');
    expect(await run.exit).toBe(130);
    expect(run.stderr()).toMatch(/error: interrupted \(Ctrl-C\): rolled back\nhint: the venv was put back exactly as it was; nothing was recorded\n$/);
    expect(await venvFreeze(venv)).toBe(before);
    expect(await head(home)).toBe(h);
    expect(leftovers()).toEqual([]);
    expect(existsSync(join(home, '.git', 'pyctl', 'lock'))).toBe(false);
    await fsck(home);
  });
});

describe('pyctl clean interrupted (row 2)', () => {
  const asides = () => readdirSync(home).filter((n) => /^venv\.old-/.test(n));

  it('Ctrl-C while the new venv is half made: the old venv comes back, exit 130, nothing recorded', async () => {
    await withF2F3();
    const h = await head(home);
    const before = await venvFreeze(venv);
    const run = await startUntil(['clean'], { PYCTL_TEST_PAUSE_AT: 'clean' }, /test pause at clean/);
    process.kill(run.child.pid!, 'SIGINT');
    expect(await run.exit).toBe(130);
    expect(run.stderr()).toMatch(/error: interrupted \(Ctrl-C\): rolled back\n/);
    expect(await venvFreeze(venv)).toBe(before);
    expect(await head(home)).toBe(h);
    expect(asides()).toEqual([]);
    expect(leftovers()).toEqual([]);
  });

  it('SIGKILL while the new venv has no pip hook yet: doctor calls it half-built; the next command puts the old venv back', async () => {
    await withF2F3();
    const h = await head(home);
    const before = await venvFreeze(venv);
    const run = await startUntil(['clean'], { PYCTL_TEST_PAUSE_AT: 'clean' }, /test pause at clean/);
    process.kill(-run.child.pid!, 'SIGKILL');
    await run.exit;
    expect(asides().length).toBe(1);
    const doc = await pyctl(home, ['doctor']);
    expect(doc.stdout).toMatch(/left the previous venv at .*venv\.old-\d+, and the venv has no recording hook \(half-built\)/);
    const sync = await pyctl(home, ['sync']);
    expect(sync.exitCode, sync.stderr).toBe(0);
    expect(await venvFreeze(venv)).toBe(before);
    expect(await head(home)).toBe(h); // the old venv matches what was recorded: nothing new to commit
    expect(asides()).toEqual([]);
    // The hook is there again: pip runs are recorded.
    expect((await pip(venv, ['uninstall', '-y', 'f3'])).exitCode).toBe(0);
    expect(await recordedFreeze(home)).toBe(await venvFreeze(venv));
    await fsck(home);
  });
});

describe('the wheelhouse (row 3)', () => {
  it('a truncated kept wheel is never installed: pip fetches the version instead; wheelhouse reports it until the fetched wheel replaces it', async () => {
    await g1OnlyKept();
    const kept = join(home, 'wheelhouse', 'g1-1.0-py3-none-any.whl');
    const data = readFileSync(kept);
    // As a full disk left it: a new, shorter file (the kept wheel may be a hard link of the original
    // pip installed from, which must stay whole).
    rmSync(kept);
    writeFileSync(kept, data.subarray(0, Math.floor(data.length / 2)));
    const report = await pyctl(home, ['wheelhouse']);
    expect(report.exitCode, report.stderr).toBe(0);
    expect(report.stdout).toMatch(/1 kept wheel\(s\) are damaged and never used.*\n\s+g1-1\.0-py3-none-any\.whl: truncated/);
    const undo = await pyctl(home, ['undo'], { PIP_NO_INDEX: '1', PIP_FIND_LINKS: wheels });
    expect(undo.exitCode, undo.stderr).toBe(0);
    expect(undo.stderr).toMatch(/fetching 1 package\(s\) not in the wheelhouse: g1==1\.0/);
    expect(await venvFreeze(venv)).toMatch(/^g1==1\.0$/m);
    expect((await pyctl(home, ['wheelhouse'])).stdout).not.toMatch(/damaged/);
  });

  it('a kept wheel pyctl rebuilt that is corrupt inside (its zip directory garbled, same size) is treated as absent: undo fetches the version', async () => {
    await g1OnlyKept();
    const kept = join(home, 'wheelhouse', 'g1-1.0-py3-none-any.whl');
    // Garble the zip directory after its first entry's signature: the end record still points
    // at it (so it is not "truncated"), and no hash was recorded for a rebuilt wheel.
    const data = Buffer.from(readFileSync(kept));
    const eocd = data.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    const cdOffset = data.readUInt32LE(eocd + 16);
    data.fill(0xee, cdOffset + 4, eocd);
    rmSync(kept); // it may be a hard link of another file
    writeFileSync(kept, data);
    const damaged = await pyctl(home, ['wheelhouse']);
    expect(damaged.stdout).toMatch(/1 kept wheel\(s\) are damaged and never used.*\n\s+g1-1\.0-py3-none-any\.whl: corrupt \(zip directory entry 1 /);
    const n = await head(home);
    const undo = await pyctl(home, ['undo'], { PIP_NO_INDEX: '1', PIP_FIND_LINKS: wheels });
    expect(undo.exitCode, undo.stderr).toBe(0);
    expect(undo.stderr).toMatch(/fetching 1 package\(s\) not in the wheelhouse: g1==1\.0/);
    expect(await venvFreeze(venv)).toMatch(/^g1==1\.0$/m);
    expect(await head(home)).not.toBe(n);
    const report = await pyctl(home, ['wheelhouse']);
    expect(report.stdout).not.toMatch(/damaged/); // the fetched wheel replaced it
    expect(report.exitCode).toBe(0);
  });
});

describe("a lock naming another host's pid (row 4)", () => {
  const lock = () => join(home, '.git', 'pyctl', 'lock');
  const foreign = () => writeFileSync(lock(), '4242 old-laptop pip install\n');

  it('pip and pyctl give up at the deadline naming the holder; unlock and doctor --fix clear it, saying whose it was', async () => {
    await initialised();
    foreign();
    const h = await head(home);
    const p = await pip(venv, ['install', 'f3'], { wheels, env: { PYCTL_LOCK_TIMEOUT: '1' } });
    expect(p.exitCode, p.stderr).toBe(0);
    expect(p.stderr).toMatch(/pyctl: gave up waiting for the lock \(pid 4242 on host old-laptop: pip install\); .*'pyctl unlock' clears it/);
    const s = await pyctl(home, ['snapshot', 'blocked'], { PYCTL_LOCK_TIMEOUT: '1' });
    expect(s.exitCode).toBe(1);
    expect(s.stderr).toMatch(/\nerror: another pyctl or pip run \(pid 4242 on host old-laptop: pip install\) still holds .*\nhint: .*'pyctl unlock' clears it$/);
    expect(await head(home)).toBe(h);

    const doc = await pyctl(home, ['doctor']);
    expect(doc.stdout).toMatch(/held by pid 4242 on host old-laptop \(pip install\), which pyctl cannot check from here/);
    const u = await pyctl(home, ['unlock']);
    expect(u.exitCode, u.stderr).toBe(0);
    expect(u.stdout).toBe('cleared the lock of pid 4242 on host old-laptop (pip install)');
    expect(existsSync(lock())).toBe(false);
    // The pip run that went ahead unrecorded is found and recorded, marked interrupted.
    const sync = await pyctl(home, ['sync']);
    expect(sync.exitCode, sync.stderr).toBe(0);
    expect(await recordedFreeze(home)).toBe(await venvFreeze(venv));
    expect((await pyctl(home, ['unlock'])).stdout).toBe('no lock held: nothing to clear');

    foreign();
    const fix = await pyctl(home, ['doctor', '--fix'], { PYCTL_LOCK_TIMEOUT: '5' });
    expect(fix.stdout).toMatch(/cleared the lock of pid 4242 on host old-laptop \(pip install\)/);
    expect(existsSync(lock())).toBe(false);
    // What that run may have left is still to be recorded (here: nothing changed, no commit).
    expect((await pyctl(home, ['status'])).stderr).toMatch(/a run that stopped half-way \(pid 4242 on host old-laptop: pip install\)/);
    expect((await pyctl(home, ['sync'])).exitCode).toBe(0);
    expect(existsSync(join(home, '.git', 'pyctl', 'interrupted'))).toBe(false);
    await fsck(home);
  });
});

describe('a hand-made commit that edits freeze.txt (row 12)', () => {
  it('is diffed like any other commit, and drift is computed against its file', async () => {
    await withF2F3();
    const venvNow = await venvFreeze(venv);
    const keep = venvNow.split('\n').filter((l) => !/^f\d==/.test(l));
    const dropped = venvNow.split('\n').filter((l) => /^f\d==/.test(l));
    expect(dropped.length).toBeGreaterThan(0);
    writeFileSync(join(home, 'freeze.txt'), keep.join('\n') + '\n');
    await git(home, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qam', 'trim by hand']);
    const hist = await pyctl(home, ['history', '--limit', '1']);
    expect(hist.stdout).toMatch(new RegExp(`trim by hand \\[commit made outside pyctl\\]\\s+-${dropped.length}$`, 'm'));
    const st = await pyctl(home, ['status']);
    expect(st.stdout).toMatch(/^in sync: +no: /m);
    expect(st.stderr).toMatch(/changed outside pip since operation \d+: \+ f\d 1\.0/);
    const sync = await pyctl(home, ['sync']);
    expect(sync.exitCode, sync.stderr).toBe(0);
    expect(await recordedFreeze(home)).toBe(venvNow);
    expect((await pyctl(home, ['status'])).stdout).toMatch(/^in sync: +yes$/m);
    await fsck(home);
  });
});

describe('pip failing half-way (row 14)', () => {
  it('a pip run whose record fails (a full disk) is recorded later as itself; undo removes its whole dist-info, stray INSTALLER*.tmp included', async () => {
    await initialised();
    const h = await head(home);
    const r = await pip(venv, ['install', 'g1'], { wheels, env: { PYCTL_TEST_FAIL_AT: 'commit' } });
    expect(r.exitCode, r.stderr).toBe(0); // pip's own status stands
    expect(r.stderr).toMatch(/pyctl: this pip run was not recorded: cannot write .*: the disk is full \(ENOSPC\).*the next pyctl command or pip run records it as this pip run$/m);
    expect(await head(home)).toBe(h);
    const sync = await pyctl(home, ['sync']);
    expect(sync.exitCode, sync.stderr).toBe(0);
    const msg = await git(home, ['log', '-1', '--format=%B']);
    // pip itself succeeded: its own subject, kind and exit status, not failed, not interrupted
    // (a pip run that failed is marked failed: test/pip-failed.test.ts).
    expect(msg.split('\n')[0]).toBe('pip install g1');
    expect(msg).toMatch(/^\+ g1 1\.0$/m);
    expect(msg).toMatch(/^Pyctl-Kind: install$/m);
    expect(msg).toMatch(/^Pyctl-Exit: 0$/m);
    expect(msg).not.toMatch(/Pyctl-Status/);
    // What a pip killed by ENOSPC leaves in a dist-info: its INSTALLER temp file.
    const info = join(sitePackages(venv), 'g1-1.0.dist-info');
    writeFileSync(join(info, 'INSTALLER_x1y2z3.tmp'), '');
    const undo = await pyctl(home, ['undo']);
    expect(undo.exitCode, undo.stderr).toBe(0);
    expect(existsSync(info)).toBe(false);
    expect((await pip(venv, ['list'])).stderr).not.toMatch(/invalid distribution/i);
    await fsck(home);
  });
});
