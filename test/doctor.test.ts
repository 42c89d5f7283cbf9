/**
 * pyctl doctor against real homes (pyctl init, real pip, real git): each check finds its problem
 * and --fix repairs it; a venv whose base Python disappeared is rebuilt onto another Python.
 * HOME is a temporary folder: --fix writes the PATH block into its ~/.bashrc, never the real one.
 */
import { createHash } from 'node:crypto';
import { execa } from 'execa';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, installedSet, pip, pyctl as runPyctl } from './helpers/cli.js';
import { sitePackages } from './helpers/probe.js';
import { hermeticEnv, removeDir, tempDir } from './helpers/env.js';
import { HomeStates } from './helpers/states.js';
import { buildWheels } from './helpers/wheels.js';

const PYENV_ROOT = process.env.PYENV_ROOT || join(homedir(), '.pyenv');

let root: string;
let home: string;
let venv: string;
let wheels: string;
let userHome: string;
let states: HomeStates;

/** pyctl with a temporary HOME, the venv first on PATH, offline pip. */
const pyctl = (h: string, args: string[], extra: Record<string, string | undefined> = {}) =>
  runPyctl(h, args, { HOME: userHome, PYENV_ROOT, PIP_NO_INDEX: '1', PATH: `${join(h, 'venv', 'bin')}${delimiter}${process.env.PATH}`, ...extra });

interface Item {
  check: string;
  status: string;
  message: string;
  fix: string | null;
  fixed: string | null;
}
const report = async (h: string, extra: string[] = []) => {
  const r = await pyctl(h, ['--json', 'doctor', ...extra]);
  return { ...r, items: JSON.parse(r.stdout) as Item[] };
};
const item = (items: Item[], check: string) => items.find((i) => i.check === check)!;
// The installed set as pip freeze --all prints it, read without starting pip (helpers/cli.ts).
const freeze = (v = venv) => installedSet(v);
const lastMsg = (h = home) => git(h, ['log', '-1', '--format=%B']);
const site = (v = venv) => sitePackages(v);

beforeAll(async () => {
  root = tempDir('pyctl-doctor-');
  home = join(root, 'home');
  venv = join(home, 'venv');
  userHome = join(root, 'user');
  mkdirSync(userHome);
  wheels = buildWheels(join(root, 'wheels'), [
    { name: 'alpha', version: '1.0', scripts: { 'alpha-cli': 'alpha:main' } },
    { name: 'beta', version: '2.0' },
    { name: 'gamma', version: '0.1' },
  ]);
  // linkCache: no test here writes into pip's or setuptools' files in place (helpers/states.ts).
  states = new HomeStates(home, join(root, 'states'), [userHome], { linkCache: true });
});
afterAll(() => removeDir(root));

// The states tests start from (helpers/states.ts, the user's HOME with its ~/.bashrc included):
// each test asks for its own, so it passes alone or in any order.
/** Operation 1 installed alpha and beta; no PATH block in ~/.bashrc yet. */
const installed = () =>
  states.given('base', async () => {
    removeDir(home);
    removeDir(userHome); // nothing another test's doctor --fix wrote there
    mkdirSync(userHome);
    const r = await pyctl(home, ['init']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await pip(venv, ['install', 'alpha', 'beta'], { wheels })).exitCode).toBe(0);
  });
/** Then gamma 0.1 installed (operation 2). */
const gammaInstalled = () =>
  states.given('gamma', async () => {
    await installed();
    expect((await pip(venv, ['install', 'gamma'], { wheels })).exitCode).toBe(0);
  });
/** installed, with the PATH block doctor --fix writes: every check ok. */
const allOk = () =>
  states.given('all-ok', async () => {
    await installed();
    expect((await pyctl(home, ['doctor', '--fix'])).exitCode).toBe(0);
  });

describe('pyctl doctor on a home', () => {
  it('reports every check and adds the missing PATH block (a warning) with --fix', async () => {
    await installed();
    const before = await report(home);
    expect(before.exitCode, before.stderr).toBe(0);
    expect(before.items.map((i) => i.check).sort()).toEqual(['config', 'drift', 'hook', 'lock', 'packages', 'path', 'shell-startup', 'state-repo', 'store', 'venv', 'wheelhouse']);
    for (const i of before.items) expect(Object.keys(i)).toEqual(['check', 'status', 'message', 'fix', 'fixed']);
    expect(item(before.items, 'shell-startup').status).toBe('warning');
    const fixed = await pyctl(home, ['doctor', '--fix']);
    expect(fixed.exitCode, fixed.stdout + fixed.stderr).toBe(0);
    expect(readFileSync(join(userHome, '.bashrc'), 'utf8')).toContain('# >>> pyctl >>>');
    const after = await report(home);
    expect(
      after.items.every((i) => i.status === 'ok'),
      after.stdout,
    ).toBe(true);
    const text = await pyctl(home, ['doctor']);
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toMatch(/everything is ok/);
  });

  it('finds a missing hook; --fix puts it back and pip runs are recorded again', async () => {
    await installed();
    unlinkSync(join(site(), 'zz_pyctl.pth'));
    const r = await report(home);
    expect(r.exitCode).toBe(1);
    expect(item(r.items, 'hook')).toMatchObject({ status: 'problem', fix: 'reinstall the hook' });
    expect((await pyctl(home, ['doctor', '--fix'])).exitCode).toBe(0);
    expect((await pip(venv, ['install', 'gamma'], { wheels })).exitCode).toBe(0);
    expect((await lastMsg()).split('\n')[0]).toBe('pip install gamma');
  });

  it('loads the hook only in a process that may be pip; an old .pth line is stale and rewritten', async () => {
    await installed();
    const py = join(venv, 'bin', 'python');
    const loaded = async (args: string[]) => (await execa(py, ['-X', 'importtime', ...args], { reject: false })).stderr.includes('_pyctl_hook');
    expect(await loaded(['-c', '0'])).toBe(false);
    expect(await loaded(['-m', 'pip', '--version'])).toBe(true);
    expect(await loaded([join(venv, 'bin', 'pip'), '--version'])).toBe(true);
    const pth = join(site(), 'zz_pyctl.pth');
    writeFileSync(pth, 'import _pyctl_hook\n');
    const r = await report(home);
    expect(item(r.items, 'hook')).toMatchObject({ status: 'problem', fix: 'reinstall the hook' });
    expect((await pyctl(home, ['doctor', '--fix'])).exitCode).toBe(0);
    expect(readFileSync(pth, 'utf8')).toMatch(/^import sys; 'pip' in /);
    expect(await loaded(['-c', '0'])).toBe(false);
  });

  it('suggests --fix only for what it can fix; counts snapshots as status does', async () => {
    await allOk();
    const status = (await pyctl(home, ['status'])).stdout.match(/^snapshots:\s+(.*)$/m)![1];
    expect(status).toMatch(/^\d+ named, \d+ automatic/);
    const pth = join(site(), 'zz_pyctl.pth');
    const hook = readFileSync(pth);
    unlinkSync(pth);
    const fixable = await pyctl(home, ['doctor']);
    expect(fixable.stdout).toMatch(/run 'pyctl doctor --fix' to repair them$/m);
    expect(fixable.stdout).toContain(`snapshots: ${status}`);
    // The hook back as it was (its repair is the test above): only what --fix cannot repair is left.
    writeFileSync(pth, hook);
    const cfg = join(home, 'config.toml');
    const original = readFileSync(cfg, 'utf8');
    writeFileSync(cfg, '[ui]\ncolor = "yes"\n');
    try {
      const r = await pyctl(home, ['doctor']);
      expect(r.exitCode).toBe(1);
      expect(r.stdout).toMatch(/ui\.color must be true or false/);
      expect(r.stdout).not.toMatch(/doctor --fix/);
      expect(r.stdout).toMatch(/--fix cannot repair these/);
    } finally {
      writeFileSync(cfg, original);
    }
  });

  it('finds a stale lock and clears it', async () => {
    await installed();
    const lock = join(home, '.git', 'pyctl', 'lock');
    const dead = await execa('sh', ['-c', 'echo $$']);
    writeFileSync(lock, `${dead.stdout.trim()} ${(await import('node:os')).hostname()} pip install ghost\n`);
    const r = await report(home);
    expect(item(r.items, 'lock')).toMatchObject({ status: 'problem', fix: 'remove the stale lock' });
    expect(r.exitCode).toBe(1);
    const f = await report(home, ['--fix']);
    expect(f.exitCode, f.stdout).toBe(0);
    expect(item(f.items, 'lock').fixed).toMatch(/removed the stale lock/);
    expect(existsSync(lock)).toBe(false);
  });

  it('finds drift (a dist-info deleted by hand) and records it as an external change', async () => {
    await gammaInstalled();
    rmSync(join(site(), 'gamma-0.1.dist-info'), { recursive: true });
    const r = await report(home);
    expect(r.exitCode).toBe(1);
    expect(item(r.items, 'drift')).toMatchObject({ status: 'problem' });
    expect(item(r.items, 'drift').message).toMatch(/- gamma 0\.1/);
    const f = await report(home, ['--fix']);
    expect(f.exitCode, f.stdout).toBe(0);
    const msg = await lastMsg();
    expect(msg).toMatch(/Pyctl-Kind: external/);
    expect(msg).toMatch(/^- gamma 0\.1$/m);
  });

  it('reports a broken config.toml with line:col and exits 1', async () => {
    await installed();
    const cfg = join(home, 'config.toml');
    const good = readFileSync(cfg, 'utf8');
    writeFileSync(cfg, good + '\n[ui\ncolor = true\n');
    const r = await report(home);
    expect(r.exitCode).toBe(1);
    const c = item(r.items, 'config');
    expect(c.status).toBe('problem');
    expect(c.message).toMatch(/config\.toml:\d+:\d+: /);
    writeFileSync(cfg, good);
    expect((await report(home)).exitCode).toBe(0);
  });

  it('a deleted object: other commands point at doctor --fix, which rebuilds the repo (git fsck clean, snapshots kept)', async () => {
    await gammaInstalled();
    expect((await pyctl(home, ['snapshot', 'mine', '-m', 'keep me'])).exitCode).toBe(0);
    const saved = await freeze();
    // Drop the commit object of HEAD~1 (a pip run's record).
    const oid = (await git(home, ['rev-parse', 'HEAD~1'])).trim();
    rmSync(join(home, '.git', 'objects', oid.slice(0, 2), oid.slice(2)));
    const h = await pyctl(home, ['history']);
    expect(h.exitCode).toBe(1);
    expect(h.stderr).toMatch(/state repo could not be read/);
    expect(h.stderr).toMatch(/pyctl doctor --fix/);
    expect(h.stderr).not.toMatch(/\n\s+at /);
    const r = await report(home);
    expect(item(r.items, 'state-repo').status).toBe('problem');
    const f = await pyctl(home, ['doctor', '--fix']);
    expect(f.exitCode, f.stdout + f.stderr).toBe(0);
    expect(f.stdout).toMatch(/kept snapshot\(s\): .*mine/);
    expect(readdirSync(home).some((n) => n.startsWith('.git.corrupt-'))).toBe(true);
    await execa('git', ['-C', home, 'fsck', '--strict'], { env: { HOME: userHome, GIT_CONFIG_NOSYSTEM: '1' } });
    expect(await git(home, ['status', '--porcelain'])).toBe('');
    expect(await git(home, ['show', 'HEAD:freeze.txt'])).toBe(saved.trimEnd());
    const restore = await pyctl(home, ['restore', 'mine', '--dry-run']);
    expect(restore.exitCode, restore.stderr).toBe(0);
    // Recording works on the new history.
    expect((await pip(venv, ['uninstall', '-y', 'beta'])).exitCode).toBe(0);
    expect((await lastMsg()).split('\n')[0]).toBe('pip uninstall -y beta');
  });

  it('a deleted .git: commands say so, --fix starts a new history', async () => {
    await installed();
    rmSync(join(home, '.git'), { recursive: true });
    const s = await pyctl(home, ['history']);
    expect(s.exitCode).toBe(1);
    expect(s.stderr).toMatch(/state repo .* is missing/);
    expect(s.stderr).toMatch(/pyctl doctor --fix/);
    const f = await pyctl(home, ['doctor', '--fix']);
    expect(f.exitCode, f.stdout + f.stderr).toBe(0);
    await execa('git', ['-C', home, 'fsck', '--strict'], { env: { HOME: userHome, GIT_CONFIG_NOSYSTEM: '1' } });
    expect((await pyctl(home, ['history'])).stdout).toMatch(/new state repo from the venv/);
  });

  it('an interrupted rebuild (old venv aside, new one half-built): --fix puts the old one back', async () => {
    await installed();
    const before = await freeze();
    await execa('cp', ['-a', venv, `${venv}.old-20250101T000000Z`]);
    rmSync(join(site(), 'alpha-1.0.dist-info'), { recursive: true }); // the half-built venv lacks alpha
    const r = await report(home);
    expect(r.exitCode).toBe(1);
    expect(item(r.items, 'leftovers').status).toBe('problem');
    expect(item(r.items, 'drift').message).toMatch(/not checked/);
    const f = await report(home, ['--fix']);
    expect(f.exitCode, f.stdout).toBe(0);
    expect(await freeze()).toBe(before);
    expect(readdirSync(home).filter((n) => n.startsWith('venv.old-'))).toEqual([]);
  });

  it("an old venv clean's background delete did not finish: a warning, --fix deletes it and leaves the venv alone", async () => {
    await allOk();
    const before = await freeze();
    const trash = join(home, 'venv.trash-12345');
    mkdirSync(join(trash, 'lib'), { recursive: true });
    writeFileSync(join(trash, 'lib', 'big.bin'), 'x'.repeat(4096));
    // ...and the scratch venv of a move to another Python killed while checking
    const scratch = join(home, 'venv.new-20260101T000000Z');
    mkdirSync(join(scratch, 'bin'), { recursive: true });
    const r = await report(home);
    expect(r.exitCode, r.stdout).toBe(0);
    expect(item(r.items, 'trash')).toMatchObject({ status: 'warning', fixed: null });
    expect(item(r.items, 'trash').message).toContain(trash);
    expect(item(r.items, 'trash').message).toContain(scratch);
    expect(item(r.items, 'trash').fix).toMatch(/^delete them/);
    expect(Object.keys(item(r.items, 'trash'))).toEqual(['check', 'status', 'message', 'fix', 'fixed']);
    expect(item(r.items, 'venv').status).toBe('ok');
    const text = await pyctl(home, ['doctor']);
    expect(text.stdout).toMatch(/warning\s+trash\s+'pyctl clean' or a move to another Python did not finish deleting 2 old or scratch venv/);
    const f = await report(home, ['--fix']);
    expect(f.exitCode, f.stdout).toBe(0);
    expect(item(f.items, 'trash')).toMatchObject({ status: 'ok', fixed: 'deleted 2 old venv(s)' });
    expect(existsSync(trash)).toBe(false);
    expect(existsSync(scratch)).toBe(false);
    expect(await freeze()).toBe(before);
    const after = await report(home);
    expect(
      after.items.every((i) => i.status === 'ok'),
      after.stdout,
    ).toBe(true);
  });
});

/** Another installed minor version than the default python3's, for the rebuild test. */
function otherPython(): string | null {
  let versions: string[] = [];
  try {
    versions = readdirSync(join(PYENV_ROOT, 'versions'));
  } catch {
    return null;
  }
  for (const want of ['3.12', '3.13', '3.10']) if (versions.some((v) => v.startsWith(want + '.'))) return want;
  return null;
}
function pyenvPython(minor: string): string | null {
  try {
    const v = readdirSync(join(PYENV_ROOT, 'versions'))
      .filter((d) => d.startsWith(minor + '.'))
      .sort()
      .pop();
    return v ? join(PYENV_ROOT, 'versions', v, 'bin', `python${minor}`) : null;
  } catch {
    return null;
  }
}

describe('damaged kept wheels (issue 17, row 3)', () => {
  it('doctor reports a truncated, a changed and a corrupt kept wheel as pyctl wheelhouse does; --fix removes them and makes them again from the stored packages', async () => {
    const h = join(root, 'wheels-home');
    const v = join(h, 'venv');
    expect((await pyctl(h, ['init'])).exitCode).toBe(0);
    const mine = buildWheels(
      join(root, 'kept-wheels'),
      ['m1', 'm2', 'm3'].map((name) => ({ name, version: '1.0' })),
    );
    expect((await pip(v, ['install', 'm1', 'm2', 'm3'], { wheels: mine })).exitCode).toBe(0);
    // Recording keeps stored packages; --build makes the wheels (here: links of the files pip installed from).
    expect((await pyctl(h, ['wheelhouse', '--build'])).exitCode).toBe(0);
    const kept = (n: string) => join(h, 'wheelhouse', `${n}-1.0-py3-none-any.whl`);
    const original = (n: string) => readFileSync(kept(n));
    const good = Object.fromEntries(['m1', 'm2', 'm3'].map((n) => [n, original(n)]));
    // Whole, each is inflated once and its sha256 remembered per user (wheelhouse/whole.ts): the
    // next doctor hashes it instead, and a byte changed anywhere (m3 below) is inflated again.
    expect(item((await report(h)).items, 'wheelhouse').message).toBe('5 kept wheel(s), each whole');
    const remembered = readFileSync(join(hermeticEnv().XDG_CACHE_HOME, 'pyctl', 'whole-wheels-v1'), 'utf8').split('\n');
    for (const n of ['m1', 'm2', 'm3']) expect(remembered, n).toContain(createHash('sha256').update(good[n]).digest('hex'));
    // Each damage writes a new file: a kept wheel may be a hard link of the one pip installed from.
    const replace = (n: string, data: Uint8Array) => {
      rmSync(kept(n));
      writeFileSync(kept(n), data);
    };
    replace('m1', good.m1.subarray(0, Math.floor(good.m1.length / 2))); // a full disk cut it short
    const other = buildWheels(join(root, 'other-wheels'), [{ name: 'm2', version: '1.0', files: { 'm2.py': 'changed = True\n' } }]);
    replace('m2', readFileSync(join(other, 'm2-1.0-py3-none-any.whl'))); // a whole wheel, not the recorded one
    const m3 = Buffer.from(good.m3);
    const dataAt = 30 + m3.readUInt16LE(26) + m3.readUInt16LE(28); // the first file's bytes, after its local header
    m3[dataAt + 2] ^= 0xff; // one flipped byte inside: the zip's directory is intact
    replace('m3', m3);

    const before = await report(h);
    expect(before.exitCode).toBe(1);
    const found = item(before.items, 'wheelhouse');
    expect(found.status).toBe('problem');
    expect(found.message).toMatch(/^3 kept wheel\(s\) are damaged and never used: /);
    expect(found.message).toMatch(/m1-1\.0-py3-none-any\.whl: truncated/);
    expect(found.message).toMatch(/m2-1\.0-py3-none-any\.whl: its sha256 [0-9a-f]{16}… is not the recorded [0-9a-f]{16}…/);
    expect(found.message).toMatch(/m3-1\.0-py3-none-any\.whl: corrupt \(/);
    expect(found.fix).toMatch(/^remove them/);
    // pyctl wheelhouse says the same of the two it checks (it does not inflate every wheel).
    const wh = await pyctl(h, ['wheelhouse']);
    expect(wh.exitCode, wh.stderr).toBe(0);
    for (const n of ['m1', 'm2']) {
      const line = wh.stdout
        .split('\n')
        .find((l) => l.includes(`${n}-1.0-py3-none-any.whl: `))!
        .trim();
      expect(found.message).toContain(line);
    }

    const fixed = await report(h, ['--fix']);
    expect(fixed.exitCode, fixed.stderr).toBe(0);
    expect(item(fixed.items, 'wheelhouse').fixed).toMatch(/^removed 3 damaged wheel\(s\); made again from stored packages: /);
    expect(item(fixed.items, 'wheelhouse').status).toBe('ok');
    for (const n of ['m1', 'm2', 'm3']) expect(Buffer.compare(readFileSync(kept(n)), good[n]), n).toBe(0);
    expect(item((await report(h)).items, 'wheelhouse').status).toBe('ok');
  });
});

describe('base Python gone', () => {
  const other = otherPython();
  const base = pyenvPython('3.11');
  const h2 = () => join(root, 'home2');
  // Where home2 stands, so each test builds the state it starts from only when it is not there:
  // on a 3.11 that is about to go, or moved onto the other Python with gamma installed.
  let h2State: 'on-3.11' | 'moved' | 'other' = 'other';
  const onVanishing311 = async () => {
    if (h2State === 'on-3.11') return;
    removeDir(h2());
    removeDir(join(root, 'fake-python'));
    // A base interpreter in a folder we own, so that "uninstalling" it touches no real Python.
    const fake = join(root, 'fake-python', 'bin');
    mkdirSync(fake, { recursive: true });
    symlinkSync(base!, join(fake, 'python3.11'));
    expect((await pyctl(h2(), ['init', '--python', join(fake, 'python3.11')])).exitCode).toBe(0);
    expect((await pip(join(h2(), 'venv'), ['install', 'alpha', 'beta'], { wheels })).exitCode).toBe(0);
    h2State = 'on-3.11';
  };
  const movedToOther = async () => {
    if (h2State === 'moved') return;
    await onVanishing311();
    h2State = 'other';
    rmSync(join(root, 'fake-python'), { recursive: true });
    expect((await pyctl(h2(), ['doctor', '--fix', '--python', other!])).exitCode).toBe(0);
    expect((await pip(join(h2(), 'venv'), ['install', 'gamma'], { wheels })).exitCode).toBe(0);
    h2State = 'moved';
  };
  it.skipIf(!other || !base)('--fix rebuilds the venv onto another Python, keeps user packages, and pip is recorded', async () => {
    await onVanishing311();
    h2State = 'other'; // changed below; 'moved' once every step passed
    const h2 = join(root, 'home2');
    const v2 = join(h2, 'venv');
    rmSync(join(root, 'fake-python'), { recursive: true });
    expect((await execa(join(v2, 'bin', 'python'), ['-V'], { reject: false })).exitCode).not.toBe(0);

    const r = await report(h2);
    expect(r.exitCode).toBe(1);
    expect(item(r.items, 'venv').message).toMatch(/base Python .* is gone/);
    const f = await pyctl(h2, ['doctor', '--fix', '--python', other!]);
    expect(f.exitCode, f.stdout + f.stderr).toBe(0);
    expect(f.stdout).toMatch(new RegExp(`rebuilt the venv on Python ${other!.replace('.', '\\.')}\\.\\d+ \\(was 3\\.11\\.\\d+\\)`));
    const msg = await lastMsg(h2);
    expect(msg).toMatch(/Pyctl-Kind: rebuild/);
    expect(msg).toMatch(new RegExp(`Pyctl-Python: ${other!.replace('.', '\\.')}`));
    const all = await freeze(v2);
    expect(all).toMatch(/^alpha==1\.0$/m);
    expect(all).toMatch(/^beta==2\.0$/m);
    expect(all).toMatch(/^pip==/m);
    expect((await execa(join(v2, 'bin', 'alpha-cli'), [])).stdout).toBe('alpha 1.0');
    expect((await pip(v2, ['install', 'gamma'], { wheels })).exitCode).toBe(0);
    expect((await lastMsg(h2)).split('\n')[0]).toBe('pip install gamma');
    expect(readdirSync(h2).filter((n) => n.startsWith('venv.old-'))).toEqual([]);
    h2State = 'moved';
  });

  it.skipIf(!other || !base)('init --python on an existing home moves the venv back to 3.11 the same way', async () => {
    await movedToOther();
    h2State = 'other';
    const v2 = join(h2(), 'venv');
    const back = await pyctl(h2(), ['init', '--python', '3.11']);
    expect(back.exitCode, back.stdout + back.stderr).toBe(0);
    expect(back.stdout).toMatch(/moved .* to Python 3\.11/);
    expect(await freeze(v2)).toMatch(/^gamma==0\.1$/m);
    expect(await lastMsg(h2())).toMatch(/Pyctl-Kind: rebuild/);
    expect((await pyctl(h2(), ['init', '--python', '3.11'])).stdout).toMatch(/nothing changed/);
  });
});
