/**
 * The system tier end to end: `install.sh --system` into a temporary prefix and system home (never
 * /usr/local or /opt), then the pip wrapper and `pyctl --system` run as root and as the
 * unprivileged user `nobody` (setpriv), with real venvs, real pip and offline test wheels.
 * Needs root (CI runs the suite as root); skipped otherwise.
 */
import { execa } from 'execa';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hermeticEnv, removeDir, tempDir } from './helpers/env.js';
import { run, runOk } from './helpers/run.js';
import { HomeStates } from './helpers/states.js';
import { sitePackages } from './helpers/probe.js';
import { buildWheels } from './helpers/wheels.js';
import { createVenv, defaultPycCache } from '../src/venv/create.js';

const REPO = resolve(__dirname, '..');
const isRoot = process.geteuid?.() === 0;
const hasSetpriv = spawnSync('setpriv', ['--version'], { stdio: 'ignore' }).status === 0;

let root: string; // 0755, so nobody can reach what is inside
let prefix: string;
let sysHome: string;
let sysVenv: string;
let nobodyHome: string;
let userHome: string; // nobody's pyctl home
let wheels: string;
let python: string; // a python3 that nobody can run
let uid: number;
let gid: number;
/** The system tier's states (the prefix, the system home, nobody's HOME), put back with helpers/copy-tree.ts. */
let states: HomeStates;

interface Run {
  exitCode: number;
  stdout: string;
  stderr: string;
  pid?: number;
}

/** The env of an ordinary login of `nobody`: its own HOME and caches, the prefix's bin on PATH. */
function nobodyEnv(extra: Record<string, string | undefined> = {}) {
  const pyDir = python.slice(0, python.lastIndexOf('/'));
  return hermeticEnv({
    HOME: nobodyHome,
    USER: 'nobody',
    LOGNAME: 'nobody',
    PATH: [join(prefix, 'bin'), pyDir, '/usr/bin', '/bin'].join(':'),
    XDG_CACHE_HOME: join(nobodyHome, '.cache'),
    PIP_NO_INDEX: '1',
    PIP_FIND_LINKS: wheels,
    NO_COLOR: '1',
    ...extra,
  });
}

async function asNobody(cmd: string, args: string[], extra: Record<string, string | undefined> = {}): Promise<Run> {
  const r = await run('setpriv', [`--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', cmd, ...args], nobodyEnv(extra), { cwd: nobodyHome });
  return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, pid: r.pid };
}

/** root, with the prefix's bin first on PATH; PYCTL_SYSTEM_HOME is not set (the installed files know it). */
async function asRoot(cmd: string, args: string[], extra: Record<string, string | undefined> = {}): Promise<Run> {
  const r = await run(cmd, args, hermeticEnv({ PATH: `${join(prefix, 'bin')}:${process.env.PATH}`, PIP_NO_INDEX: '1', PIP_FIND_LINKS: wheels, NO_COLOR: '1', ...extra }), { cwd: root });
  return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

async function installSystem(args: string[], extra: Record<string, string | undefined> = {}): Promise<Run> {
  return asRoot(join(REPO, 'install.sh'), ['--system', '--prefix', prefix, '--python', python, ...args], {
    PYCTL_SYSTEM_HOME: sysHome,
    PYCTL_SKIP_BUILD: '1',
    ...extra,
  });
}

/** git as root on any of the repos (safe.directory: nobody's repo is not root's). */
async function git(dir: string, args: string[]): Promise<string> {
  return (await runOk('git', ['-c', 'safe.directory=*', '-C', dir, ...args], hermeticEnv({ GIT_CONFIG_NOSYSTEM: '1', HOME: root }))).stdout;
}
const head = (dir: string) => git(dir, ['rev-parse', 'HEAD']);
const subjects = async (dir: string) => (await git(dir, ['log', '--format=%s'])).split('\n');

/** Every path under dir that is not root-owned or that group/others may write (symlinks skipped). */
function notLockedDown(dir: string): string[] {
  const bad: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = lstatSync(p);
      if (st.isSymbolicLink()) continue;
      const mode = st.mode & 0o7777;
      if (st.uid !== 0 || mode & 0o022 || (st.isDirectory() && mode !== 0o755) || (st.isFile() && mode !== 0o644 && mode !== 0o755)) {
        bad.push(`${p} uid=${st.uid} mode=${mode.toString(8)}`);
      }
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return bad;
}

describe.skipIf(!isRoot || !hasSetpriv)('the system tier (as root and as nobody)', () => {
  beforeAll(async () => {
    root = tempDir('pyctl-system-');
    chmodSync(root, 0o755); // mkdtemp makes 0700: nobody could not reach its home below
    prefix = join(root, 'usr', 'local');
    sysHome = join(root, 'opt', 'system-python');
    sysVenv = join(sysHome, 'venv');
    nobodyHome = join(root, 'home-nobody');
    userHome = join(nobodyHome, '.local', 'python-packages');
    uid = Number((await execa('id', ['-u', 'nobody'])).stdout);
    gid = Number((await execa('id', ['-g', 'nobody'])).stdout);
    mkdirSync(nobodyHome, { mode: 0o755 });
    chownSync(nobodyHome, uid, gid);
    wheels = buildWheels(join(root, 'wheels'), [
      { name: 'alpha', version: '1.0' },
      { name: 'beta', version: '2.0' },
      { name: 'gamma', version: '0.1' },
    ]);
    await execa('chmod', ['-R', 'a+rX', wheels]);
    // A python3 that nobody can run (a pyenv one under /root is not).
    const candidates = ['/usr/bin/python3', '/usr/local/bin/python3', (await execa('sh', ['-c', 'command -v python3'])).stdout];
    python = '';
    for (const c of candidates) {
      if (!c || !existsSync(c)) continue;
      const r = await execa('setpriv', [`--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', c, '-c', 'import venv, ensurepip'], { reject: false, cwd: '/' });
      if (r.exitCode === 0) {
        python = c;
        break;
      }
    }
    if (!python) throw new Error('no python3 that the user nobody can run and make venvs with');
    // `npm test` builds first (pretest); building here too would race install.test.ts's build.
    if (!existsSync(join(REPO, 'dist', 'pyctl.js'))) await execa('npm', ['run', '--silent', 'build'], { cwd: REPO });
    states = new HomeStates(join(root, 'usr'), join(root, 'states'), [join(root, 'opt'), nobodyHome], { linkCache: true });
  });
  afterAll(() => removeDir(root));

  /** A copy of install.sh that nobody can read wherever the checkout is; it stops at the root check. */
  const installerCopy = () => {
    const copy = join(root, 'installer');
    removeDir(copy);
    mkdirSync(copy, { mode: 0o755 });
    copyFileSync(join(REPO, 'install.sh'), join(copy, 'install.sh'));
    chmodSync(join(copy, 'install.sh'), 0o755);
    // install.sh sources the shell-block helpers it shares with doctor.
    mkdirSync(join(copy, 'hooks'), { mode: 0o755 });
    copyFileSync(join(REPO, 'hooks', 'shell-blocks.sh'), join(copy, 'hooks', 'shell-blocks.sh'));
    return join(copy, 'install.sh');
  };
  // The states tests start from, each made once by the steps a test then checks (their results kept).
  /** install.sh --system --with-system-venv, nobody's HOME empty. */
  let installRun: Run;
  const installed = () =>
    states.given('installed', async () => {
      removeDir(join(root, 'usr'));
      removeDir(join(root, 'opt'));
      removeDir(nobodyHome);
      mkdirSync(nobodyHome, { mode: 0o755 });
      chownSync(nobodyHome, uid, gid);
      installRun = await installSystem(['--with-system-venv']);
      expect(installRun.exitCode, installRun.stderr + installRun.stdout).toBe(0);
    });
  /** Then nobody ran `pip install alpha` (their own venv made) and `pip3 install beta`. */
  let nobodyAlpha: Run, nobodyBeta: Run;
  const nobodyInstalled = () =>
    states.given('nobody', async () => {
      await installed();
      nobodyAlpha = await asNobody('pip', ['install', 'alpha']);
      expect(nobodyAlpha.exitCode, nobodyAlpha.stderr).toBe(0);
      nobodyBeta = await asNobody('pip3', ['install', 'beta']);
      expect(nobodyBeta.exitCode, nobodyBeta.stderr).toBe(0);
    });
  /** Then root ran `pip install beta` under umask 077: operation 1 of the system venv. */
  let rootBeta: Run;
  const rootInstalled = () =>
    states.given('root', async () => {
      await nobodyInstalled();
      rootBeta = await asRoot('sh', ['-c', 'umask 077; exec pip install beta']);
      expect(rootBeta.exitCode, rootBeta.stderr).toBe(0);
    });

  it('refuses to install without root and changes nothing', async () => {
    removeDir(join(root, 'usr'));
    removeDir(join(root, 'opt'));
    const r = await asNobody(installerCopy(), ['--system', '--prefix', prefix, '--with-system-venv'], { PYCTL_SYSTEM_HOME: sysHome });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/needs root/);
    expect(r.stderr).toMatch(/nothing was changed/);
    expect(existsSync(join(root, 'usr'))).toBe(false);
    expect(existsSync(join(root, 'opt'))).toBe(false);
  });

  it('installs the program, launcher, pip wrapper and a root-owned system venv', async () => {
    await installed(); // the install is the state's; its result is checked here
    const r = installRun;
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    for (const f of ['bin/pyctl', 'bin/pip', 'bin/pip3', 'lib/pyctl/dist/pyctl.js', 'lib/pyctl/hooks/pyctl_hook.py']) {
      expect(existsSync(join(prefix, f)), f).toBe(true);
    }
    expect(existsSync(join(sysVenv, 'bin', 'pip'))).toBe(true);
    expect(await subjects(sysHome)).toEqual([expect.stringMatching(/^pyctl init \(Python 3/)]);
    // Root-owned, 0755/0644, nothing writable by anyone else: the venv, the repo, the lock dir.
    expect(notLockedDown(sysHome)).toEqual([]);
    expect(notLockedDown(join(prefix, 'lib', 'pyctl'))).toEqual([]);
    expect(lstatSync(join(sysHome, '.git', 'pyctl')).mode & 0o7777).toBe(0o755);
    // The system venv's hook records through the system-wide copy, not the checkout.
    const hook = readFileSync(join(sitePackages(sysVenv), '_pyctl_hook.py'), 'utf8');
    expect(hook).toContain(`"cli":"${join(prefix, 'lib', 'pyctl', 'dist', 'pyctl.js')}"`);
  });

  it('is safe to run again: same history, still locked down', async () => {
    await installed();
    const before = await head(sysHome);
    const r = await installSystem([]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await head(sysHome)).toBe(before);
    expect(notLockedDown(sysHome)).toEqual([]);
    expect(readdirSync(join(prefix, 'lib'))).toEqual(['pyctl']);
  });

  it("stops nobody's pip from writing into the system venv directly, recording nothing", async () => {
    await installed();
    const before = await head(sysHome);
    const r = await asNobody(join(sysVenv, 'bin', 'pip'), ['install', 'alpha']);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/Permission denied|Errno 13/);
    expect(await head(sysHome)).toBe(before);
    expect(existsSync(join(sitePackages(sysVenv), 'alpha.py'))).toBe(false);
    expect(notLockedDown(sysHome)).toEqual([]);
  });

  it("sends nobody's `pip install` (wrapper, PATH without the user venv) to nobody's own venv, recorded there", async () => {
    await installed();
    const sysBefore = await head(sysHome);
    await nobodyInstalled(); // nobody's pip install alpha, then pip3 install beta, are the state's; checked here
    const r = nobodyAlpha;
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Successfully installed alpha-1\.0/);
    expect(r.stderr).toMatch(/setting up your own Python venv/);
    expect(r.stderr).toMatch(/recorded operation 1 /);
    expect(r.stderr).toContain(`export PATH="${join(userHome, 'venv', 'bin')}:$PATH"`);
    expect(r.stderr).not.toMatch(/sudo pip|password/i);
    expect(existsSync(join(sitePackages(join(userHome, 'venv')), 'alpha.py'))).toBe(true);
    expect(lstatSync(join(userHome, 'venv')).uid).toBe(uid);
    expect((await subjects(userHome))[1]).toBe('pip install alpha');
    expect(await head(sysHome)).toBe(sysBefore);
    // The PATH note is shown once; pip3 goes the same way; pip's exit status comes through.
    const again = nobodyBeta;
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stderr).not.toMatch(/export PATH/);
    expect(again.stderr).not.toMatch(/setting up/);
    expect((await subjects(userHome))[0]).toBe('pip install beta');
    const missing = await asNobody('pip', ['install', 'no-such-package']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(/No matching distribution found for no-such-package/);
    const hist = await asNobody('pyctl', ['history', '--json']);
    expect(hist.exitCode, hist.stderr).toBe(0);
    expect(JSON.parse(hist.stdout).map((e: { subject: string }) => e.subject)).toEqual(['pip install beta', 'pip install alpha', expect.stringMatching(/^pyctl init/)]);
  });

  it("sends root's `pip install` to the system venv, recorded in the system state repo, readable by all", async () => {
    // Even with a umask of 077 the wrapper keeps the system tier readable (the state's step, checked here).
    await rootInstalled();
    const r = rootBeta;
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/recorded operation 1 in the system venv/);
    expect(r.stderr).toMatch(/undo with: pyctl --system undo/);
    expect((await subjects(sysHome))[0]).toBe('pip install beta');
    expect(await git(sysHome, ['show', 'HEAD:freeze.txt'])).toMatch(/^beta==2\.0$/m);
    expect(existsSync(join(sitePackages(sysVenv), 'beta.py'))).toBe(true);
    expect(notLockedDown(sysHome)).toEqual([]);
    // nobody's own venv is untouched by root's pip.
    expect((await subjects(userHome))[0]).toBe('pip install beta');
    expect(await git(join(userHome), ['rev-list', '--count', 'HEAD'])).toBe('3');
  });

  it('lets nobody read the system tier: --system history, status, diff, list-snapshots; status shows both tiers', async () => {
    await rootInstalled();
    const before = await head(sysHome);
    const h = await asNobody('pyctl', ['--system', 'history']);
    expect(h.exitCode, h.stderr).toBe(0);
    expect(h.stdout).toMatch(/1 .* pip install beta/);
    expect(h.stdout).toMatch(/0 .* pyctl init/);
    for (const args of [
      ['--system', 'status'],
      ['--system', 'diff'],
      ['--system', 'list-snapshots'],
      ['--system', 'history', '--json'],
    ]) {
      const x = await asNobody('pyctl', args);
      expect(x.exitCode, `${args.join(' ')}: ${x.stderr}`).toBe(0);
    }
    const s = await asNobody('pyctl', ['status']);
    expect(s.exitCode, s.stderr).toBe(0);
    expect(s.stdout).toContain(`home:        ${userHome}`);
    expect(s.stdout).toMatch(new RegExp(`system venv: ${sysVenv} \\(3 packages, last op 1 pip install beta, `));
    // The system venv changed behind pyctl's back (a package appeared without pip): reading it must
    // not try to record (nobody cannot); it shows the drift instead. A bare folder is no package, and
    // since read commands compare the installed set rather than trusting the folder's mtime, it is
    // no drift either, so the test plants a real distribution.
    const drift = join(sitePackages(sysVenv), 'drift_marker-1.0.dist-info');
    mkdirSync(drift);
    writeFileSync(join(drift, 'METADATA'), 'Metadata-Version: 2.1\nName: drift-marker\nVersion: 1.0\n');
    try {
      const d = await asNobody('pyctl', ['--system', 'history']);
      expect(d.exitCode, d.stderr).toBe(0);
      expect(d.stderr).toMatch(/changed outside pip since operation 1: \+ drift-marker 1\.0.*pyctl --system sync/);
      expect(d.stderr).not.toMatch(/error|permission|EACCES/i);
      const st = await asNobody('pyctl', ['--system', 'status']);
      expect(st.exitCode, st.stderr).toBe(0);
      expect(st.stdout).toMatch(/in sync:\s+no/);
    } finally {
      removeDir(drift);
    }
    expect(await head(sysHome)).toBe(before);
    expect(notLockedDown(sysHome)).toEqual([]);
  });

  it('refuses changes to the system venv from nobody with a permission message, changing nothing', async () => {
    await rootInstalled();
    const before = await head(sysHome);
    const tags = await git(sysHome, ['tag']);
    for (const args of [['undo'], ['restore', 'baseline'], ['snapshot', 'mine'], ['clean'], ['init']]) {
      const r = await asNobody('pyctl', ['--system', ...args]);
      expect(r.exitCode, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`error: 'pyctl --system ${args[0]}' changes the system venv .*only root may change`));
      expect(r.stderr).toMatch(/hint: run it as root/);
    }
    expect(await head(sysHome)).toBe(before);
    expect(await git(sysHome, ['tag'])).toBe(tags);
    expect(existsSync(join(sitePackages(sysVenv), 'beta.py'))).toBe(true);
    // root may: undo the beta install, recorded as the next operation.
    const u = await asRoot('pyctl', ['--system', 'undo']);
    expect(u.exitCode, u.stderr).toBe(0);
    expect((await subjects(sysHome))[0]).toBe('undo of 1: pip install beta');
    expect(existsSync(join(sitePackages(sysVenv), 'beta.py'))).toBe(false);
    expect(notLockedDown(sysHome)).toEqual([]);
  });

  it('steps aside for an active project venv: its pip runs, nothing is recorded', async () => {
    await nobodyInstalled();
    const proj = join(nobodyHome, 'proj', 'venv');
    // Its .pyc files are copies from the tests' shared cache (pip compiled once, not per run);
    // nothing is linked, so the chown below leaves the cache alone.
    await createVenv(proj, python, { pycCache: defaultPycCache(hermeticEnv()) });
    await execa('chown', ['-R', `${uid}:${gid}`, join(nobodyHome, 'proj')]);
    const userBefore = await head(userHome);
    const sysBefore = await head(sysHome);
    const r = await asNobody('pip', ['install', 'gamma'], { VIRTUAL_ENV: proj });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/recorded/);
    expect(existsSync(join(sitePackages(proj), 'gamma.py'))).toBe(true);
    expect(existsSync(join(sitePackages(join(userHome, 'venv')), 'gamma.py'))).toBe(false);
    expect(await head(userHome)).toBe(userBefore);
    expect(await head(sysHome)).toBe(sysBefore);
    // Arguments, output and exit status are the project pip's own, and it replaces the wrapper
    // (exec: same pid), so signals reach it directly.
    const fake = join(root, 'fake-venv');
    mkdirSync(join(fake, 'bin'), { recursive: true, mode: 0o755 });
    chmodSync(fake, 0o755);
    writeFileSync(join(fake, 'bin', 'pip'), '#!/bin/sh\necho "pid=$$ args=$*"\necho to-stderr >&2\nexit 7\n', { mode: 0o755 });
    const f = await asNobody('pip', ['install', '--user', 'x y'], { VIRTUAL_ENV: fake });
    expect(f.exitCode).toBe(7);
    expect(f.stdout).toBe(`pid=${f.pid} args=install --user x y`);
    expect(f.stderr).toBe('to-stderr');
  });

  it("without a system venv: root's pip says so; an earlier pip is kept aside and put back by --uninstall", async () => {
    // nobody has a home of their own (status reads it), and no system venv where this install points.
    await nobodyInstalled();
    const other = join(root, 'other');
    removeDir(other);
    const bin = join(other, 'usr', 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'pip'), '#!/bin/sh\necho the distribution pip\n', { mode: 0o755 });
    const env = { PYCTL_SYSTEM_HOME: join(other, 'opt'), PYCTL_SKIP_BUILD: '1' };
    const r = await asRoot(join(REPO, 'install.sh'), ['--system', '--prefix', join(other, 'usr'), '--no-system-venv'], env);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/system venv\s+not created/);
    expect(r.stderr).toMatch(/was not written by this installer: moved it to .*pip\.pyctl-saved/);
    const p = await asRoot(join(bin, 'pip'), ['install', 'alpha']);
    expect(p.exitCode).toBe(1);
    expect(p.stderr).toMatch(/there is no system venv/);
    expect(p.stderr).toMatch(/sudo pyctl --system init/);
    expect(existsSync(join(other, 'opt'))).toBe(false);
    const s = await asNobody(join(bin, 'pyctl'), ['status']);
    expect(s.stdout, s.stderr).toMatch(/system venv: not installed/);
    const u = await asRoot(join(REPO, 'install.sh'), ['--system', '--uninstall', '--prefix', join(other, 'usr')], env);
    expect(u.exitCode, u.stderr).toBe(0);
    expect(readdirSync(bin)).toEqual(['pip']);
    expect(readFileSync(join(bin, 'pip'), 'utf8')).toMatch(/the distribution pip/);
    expect(existsSync(join(other, 'usr', 'lib', 'pyctl'))).toBe(false);
  });

  it('--system --uninstall: refused without root; keeps the system venv unless --purge', async () => {
    await nobodyInstalled();
    const copy = installerCopy();
    const n = await asNobody(copy, ['--system', '--uninstall', '--prefix', prefix], { PYCTL_SYSTEM_HOME: sysHome });
    expect(n.exitCode).toBe(1);
    expect(n.stderr).toMatch(/needs root/);
    expect(existsSync(join(prefix, 'bin', 'pip'))).toBe(true);
    const env = { PYCTL_SYSTEM_HOME: sysHome, PYCTL_SKIP_BUILD: '1' };
    const u = await asRoot(join(REPO, 'install.sh'), ['--system', '--uninstall', '--prefix', prefix], env);
    expect(u.exitCode, u.stderr).toBe(0);
    expect(readdirSync(join(prefix, 'bin'))).toEqual([]);
    expect(existsSync(join(prefix, 'lib', 'pyctl'))).toBe(false);
    expect(existsSync(join(sysVenv, 'bin', 'pip'))).toBe(true);
    // The kept venv's pip still works (its hook stands aside while pyctl is absent).
    const before = await head(sysHome);
    const pip = await asRoot(join(sysVenv, 'bin', 'pip'), ['--version']);
    expect(pip.exitCode, pip.stderr).toBe(0);
    expect(await head(sysHome)).toBe(before);
    const purge = await asRoot(join(REPO, 'install.sh'), ['--system', '--uninstall', '--purge', '--prefix', prefix], env);
    expect(purge.exitCode, purge.stderr).toBe(0);
    expect(existsSync(sysHome)).toBe(false);
    // nobody's own venv is theirs: untouched.
    expect(existsSync(join(userHome, 'venv', 'bin', 'pip'))).toBe(true);
  });
});
