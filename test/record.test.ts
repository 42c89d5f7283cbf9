/**
 * The recording loop, end to end: a real venv made by `pyctl init`, real pip started every way a
 * user starts it, and the state repo checked with the real git CLI.
 */
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { git, pip, pyctl, type Run } from './helpers/cli.js';
import { hermeticEnv, python3, removeDir, tempDir } from './helpers/env.js';
import { sitePackages } from './helpers/probe.js';
import { HomeStates } from './helpers/states.js';
import { buildWheels } from './helpers/wheels.js';

let root: string;
let home: string;
let venv: string;
let wheels: string;
let states: HomeStates;

const log = () => git(home, ['log', '--format=%s']);
const freeze = () => git(home, ['show', 'HEAD:freeze.txt']);

beforeAll(async () => {
  root = tempDir();
  home = join(root, 'home');
  venv = join(home, 'venv');
  wheels = buildWheels(join(root, 'wheels'), [
    { name: 'alpha', version: '1.0', requires: ['beta>=2'] },
    { name: 'beta', version: '2.0' },
    { name: 'beta', version: '2.1' },
    { name: 'gamma', version: '0.1' },
    { name: 'broken-dep', version: '1.0', requires: ['does-not-exist'] },
    { name: 'bad-script', version: '1.0', scripts: { bad: '' } },
    // zz-app pulls in nine dependencies, all sorting before it.
    { name: 'zz-app', version: '1.0', requires: ['dep-a', 'dep-b', 'dep-c', 'dep-d', 'dep-e', 'dep-f', 'dep-g', 'dep-h', 'dep-i'] },
    ...'abcdefghi'.split('').map((c) => ({ name: `dep-${c}`, version: '1.0' })),
  ]);
  // No test writes pip's or setuptools' files in place: the cache's files are linked, not copied.
  states = new HomeStates(home, join(root, 'states'), [], { linkCache: true });
});
afterAll(() => removeDir(root));

// The states tests start from (helpers/states.ts): each test asks for its own, so it passes alone
// or in any order. Each builds on a smaller one the first time it is asked for.
const installs = async (...args: string[]) => expect((await pip(venv, ['install', ...args], { wheels })).exitCode).toBe(0);
/** Just initialised: operation 0 only. */
const initialised = (read?: 'read') => {
  const build = async () => {
    removeDir(home);
    const r = await pyctl(home, ['init']);
    expect(r.exitCode, r.stderr).toBe(0);
  };
  return read ? states.givenToRead('init', build) : states.given('init', build);
};
/** Operation 1 installed alpha 1.0 and beta 2.1: `pip install alpha`, whose run is kept. */
let alphaRun: Run;
const alphaInstalled = (read?: 'read') => {
  const build = async () => {
    await initialised();
    alphaRun = await pip(venv, ['install', 'alpha'], { wheels });
    expect(alphaRun.exitCode, alphaRun.stderr).toBe(0);
  };
  return read ? states.givenToRead('alpha', build) : states.given('alpha', build);
};
/** Then beta downgraded to 2.0. */
const beta20 = () =>
  states.given('beta-2.0', async () => {
    await alphaInstalled();
    await installs('beta==2.0');
  });

describe('pyctl init', () => {
  it('makes operation 0, a baseline tag, and a repo plain git reads cleanly', async () => {
    await initialised('read');
    expect(await log()).toMatch(/^pyctl init \(Python 3\.\d+\.\d+\)$/);
    expect(await git(home, ['tag'])).toBe('baseline');
    expect(await git(home, ['status', '--porcelain'])).toBe('');
    expect(await freeze()).toMatch(/^pip==/m);
    const trailers = await git(home, ['log', '-1', '--format=%(trailers:only,unfold)']);
    expect(trailers).toMatch(/Pyctl-Op: 0/);
    expect(trailers).toMatch(/Pyctl-Kind: init/);
    expect(trailers).toMatch(/Pyctl-Python: 3\./);
  });

  it('gives the state repo its own git identity, so plain git commit works on an account without one', async () => {
    // A new account: no ~/.gitconfig, no GIT_* identity.
    const bare = join(root, 'new-account');
    const h = join(bare, 'home');
    const env = { HOME: bare, XDG_CONFIG_HOME: join(bare, '.config') };
    const r = await pyctl(h, ['init'], env);
    expect(r.exitCode, r.stderr).toBe(0);
    const id = await git(h, ['config', '--local', '--get-regexp', '^user\\.']);
    expect(id).toMatch(/^user\.name \S+$/m);
    expect(id).toMatch(/^user\.email \S+@\S+$/m);
    const gitEnv = hermeticEnv({
      HOME: bare,
      GIT_CONFIG_NOSYSTEM: '1',
      EMAIL: undefined,
      GIT_AUTHOR_NAME: undefined,
      GIT_AUTHOR_EMAIL: undefined,
      GIT_COMMITTER_NAME: undefined,
      GIT_COMMITTER_EMAIL: undefined,
    });
    writeFileSync(join(h, 'config.toml'), readFileSync(join(h, 'config.toml'), 'utf8') + '# mine\n');
    const c = await execa('git', ['-C', h, 'commit', '-am', 'my settings'], { env: gitEnv, extendEnv: false, reject: false });
    expect(c.exitCode, c.stderr).toBe(0);
    // pyctl's own commits and the hand-made one carry the same identity.
    const who = (await git(h, ['log', '--format=%an <%ae>'])).split('\n');
    expect(new Set(who).size).toBe(1);
    // With a git identity of their own, init uses it.
    const named = join(root, 'named-account');
    mkdirSync(named);
    writeFileSync(join(named, '.gitconfig'), '[user]\n\tname = Ada Lovelace\n\temail = ada@example.org\n');
    const h2 = join(named, 'home');
    expect((await pyctl(h2, ['init'], { HOME: named, XDG_CONFIG_HOME: join(named, '.config') })).exitCode).toBe(0);
    expect(await git(h2, ['log', '-1', '--format=%an <%ae>'])).toBe('Ada Lovelace <ada@example.org>');
  });

  it('changes nothing when run again', async () => {
    await initialised('read');
    const before = await git(home, ['rev-parse', 'HEAD']);
    const r = await pyctl(home, ['init']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/already set up/);
    expect(await git(home, ['rev-parse', 'HEAD'])).toBe(before);
  });
});

describe('recording pip runs', () => {
  // Whatever a test recorded, plain git finds the repo sound.
  afterEach(async () => {
    await git(home, ['fsck', '--strict']);
  });

  it('records `pip install` as one commit with the package changes and trailers', async () => {
    // That pip run is what the alpha state is: the home after it, and its output.
    await alphaInstalled('read');
    const r = alphaRun;
    expect(r.stderr).toMatch(/recorded operation 1/);
    expect(r.stderr).toMatch(/\+ alpha 1\.0/);
    const msg = await git(home, ['log', '-1', '--format=%B']);
    expect(msg.split('\n')[0]).toBe('pip install alpha');
    expect(msg).toMatch(/^\+ alpha 1\.0$/m);
    expect(msg).toMatch(/^\+ beta 2\.1$/m);
    expect(msg).toMatch(/Pyctl-Op: 1/);
    expect(msg).toMatch(/Pyctl-Kind: install/);
    expect(msg).toMatch(/Pyctl-Exit: 0/);
    expect(await freeze()).toMatch(/^alpha==1\.0$/m);
    expect(await git(home, ['status', '--porcelain'])).toBe('');
  });

  it('starts the record without NODE_EXTRA_CA_CERTS: Node would parse that bundle on every pip run, and the record opens no connection', async () => {
    await initialised();
    // Node warns on stderr when it cannot load the named file: the record's Node must not see it.
    const r = await pip(venv, ['install', 'gamma'], { wheels, env: { NODE_EXTRA_CA_CERTS: join(root, 'no-such-bundle.pem') } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/recorded operation 1/);
    expect(r.stderr).not.toMatch(/extra certs/i);
  });

  it('makes no commit for a pip run that changes nothing', async () => {
    await alphaInstalled();
    const before = await git(home, ['rev-parse', 'HEAD']);
    const r = await pip(venv, ['install', 'alpha'], { wheels });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).not.toMatch(/recorded/);
    expect(await git(home, ['rev-parse', 'HEAD'])).toBe(before);
  });

  it('records pip started as pip3, pip3.X, python -m pip and python3 -m pip', async () => {
    await alphaInstalled();
    const count = (await log()).split('\n').length;
    // One pip run each way, installing and uninstalling gamma in turn.
    const ways = [[join(venv, 'bin', 'pip3')], [join(venv, 'bin', `pip3.${process.env.PY_MINOR ?? '11'}`)], [join(venv, 'bin', 'python'), '-m', 'pip'], [join(venv, 'bin', 'python3'), '-m', 'pip']];
    const runs = [
      ['install', 'gamma'],
      ['uninstall', '-y', 'gamma'],
    ];
    for (const [k, how] of ways.entries()) {
      const args = runs[k % 2];
      const r = await pip(venv, args, { wheels, how });
      expect(r.exitCode, r.stderr).toBe(0);
      const subjects = (await log()).split('\n');
      expect(subjects.length, how.join(' ')).toBe(count + k + 1);
      expect(subjects[0], how.join(' ')).toBe(`pip ${args.join(' ')}`);
    }
  });

  it('records a version change (pip install beta==2.0 over 2.1) as a ~ line', async () => {
    await beta20(); // its last operation is that pip run
    expect((await log()).split('\n')[0]).toBe('pip install beta==2.0');
    const msg = await git(home, ['log', '-1', '--format=%B']);
    expect(msg).toMatch(/^~ beta 2\.1 -> 2\.0$/m);
  });

  it('still records after pip reinstalled itself (bin/pip rewritten)', async () => {
    await alphaInstalled();
    // Replace bin/pip the way a pip self-upgrade does; the .pth hook does not live there.
    rmSync(join(venv, 'bin', 'pip'));
    symlinkSync(join(venv, 'bin', 'pip3'), join(venv, 'bin', 'pip'));
    const r = await pip(venv, ['uninstall', '-y', 'beta'], { wheels });
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await log()).split('\n')[0]).toBe('pip uninstall -y beta');
  });

  it('commits changes made without pip on their own, before the next pip run', async () => {
    await beta20();
    // Another tool removes a package behind pip's back.
    const site = sitePackages(venv);
    rmSync(join(site, 'beta-2.0.dist-info'), { recursive: true });
    rmSync(join(site, 'beta.py'));
    const r = await pip(venv, ['install', 'gamma'], { wheels });
    expect(r.exitCode, r.stderr).toBe(0);
    const subjects = (await log()).split('\n');
    expect(subjects[0]).toBe('pip install gamma');
    expect(subjects[1]).toBe('external change');
    const ext = await git(home, ['log', '-1', '--skip=1', '--format=%B']);
    expect(ext).toMatch(/^- beta 2\.0$/m);
    expect(ext).toMatch(/Pyctl-Kind: external/);
    const pipMsg = await git(home, ['log', '-1', '--format=%B']);
    expect(pipMsg).not.toMatch(/beta/);
  });

  it('makes no commit for a failed pip run that changed nothing', async () => {
    await alphaInstalled();
    const before = await git(home, ['rev-parse', 'HEAD']);
    const r = await pip(venv, ['install', 'broken-dep'], { wheels });
    expect(r.exitCode).not.toBe(0);
    expect(await git(home, ['rev-parse', 'HEAD'])).toBe(before);
  });

  it('records a failed pip run that changed things anyway, marked failed', async () => {
    await alphaInstalled();
    // pip installs the files, then fails writing an invalid console script entry point.
    const r = await pip(venv, ['install', 'bad-script'], { wheels });
    expect(r.exitCode).not.toBe(0);
    const msg = await git(home, ['log', '-1', '--format=%B']);
    expect(msg.split('\n')[0]).toBe('pip install bad-script');
    expect(msg).toMatch(/^\+ bad-script 1\.0$/m);
    expect(msg).toMatch(/Pyctl-Status: failed/);
    expect(msg).toMatch(new RegExp(`Pyctl-Exit: ${r.exitCode}`));
  });

  it('leaves a project venv alone', async () => {
    await alphaInstalled('read');
    const { execa } = await import('execa');
    const proj = join(root, 'project-venv');
    await execa(python3(), ['-m', 'venv', '--without-pip', proj]);
    const before = await git(home, ['rev-parse', 'HEAD']);
    // Our venv's pip pointed at another environment with --target is not this venv: but the
    // simplest project case is another venv's python entirely, which has no hook.
    const r = await execa(join(proj, 'bin', 'python'), ['-c', 'import sys; print(sys.prefix)'], { reject: false });
    expect(r.exitCode).toBe(0);
    expect(await git(home, ['rev-parse', 'HEAD'])).toBe(before);
  });

  it('status answers the same in its fast lane as through the full command, and never hides drift', async () => {
    await beta20();
    const fast = await pyctl(home, ['status']);
    const full = await pyctl(home, ['--no-color', 'status']);
    expect(fast.exitCode, fast.stderr).toBe(0);
    expect(fast.stdout).toBe(full.stdout);
    expect(fast.stdout).toMatch(/^in sync: +yes$/m);
    expect((await pyctl(home, ['status', '--json'])).stdout).toBe((await pyctl(home, ['--json', 'status'])).stdout);
    // A package removed behind pip's back: status must show it, not answer from the cache, and
    // write nothing; `pyctl sync` records it.
    const site = sitePackages(venv);
    rmSync(join(site, 'beta-2.0.dist-info'), { recursive: true });
    const before = await log();
    const after = await pyctl(home, ['status']);
    expect(after.stderr).toMatch(/changed outside pip since operation \d+: - beta 2\.0; recorded by the next change or 'pyctl sync'/);
    expect(after.stdout).toMatch(/^in sync: +no: /m);
    expect(await log()).toBe(before);
    const sync = await pyctl(home, ['sync']);
    expect(sync.exitCode, sync.stderr).toBe(0);
    expect(sync.stdout).toMatch(/recorded changes made outside pip as operation \d+/);
    expect((await log()).split('\n')[0]).toBe('external change');
    expect((await pyctl(home, ['sync'])).stdout).toBe('nothing to record: the venv matches the last recorded state');
  });

  it('lists the packages asked for first in the summary; pip -q and -qq silence it', async () => {
    await alphaInstalled();
    const r = await pip(venv, ['install', 'zz-app'], { wheels });
    expect(r.exitCode, r.stderr).toBe(0);
    const lines = r.stderr.split('\n');
    const head = lines.findIndex((l) => /^pyctl: recorded operation \d+ \(\+10\)$/.test(l));
    expect(head, r.stderr).toBeGreaterThanOrEqual(0);
    expect(lines[head + 1]).toBe('  + zz-app 1.0');
    expect(r.stderr).toMatch(/… and 2 more: pyctl diff \d+/);
    // Each spelling once, taking dep-i out and putting it back in turn: recorded, and silent.
    for (const args of [
      ['uninstall', '-y', '-q', 'dep-i'],
      ['install', '-qq', 'dep-i'],
      ['uninstall', '-y', '--quiet', 'dep-i'],
    ]) {
      const u = await pip(venv, args, { wheels });
      expect(u.exitCode, u.stderr).toBe(0);
      expect(u.stderr).not.toMatch(/pyctl:/);
      expect((await log()).split('\n')[0]).toBe(`pip ${args.join(' ')}`);
    }
  });
});
