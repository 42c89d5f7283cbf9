/**
 * Undo, snapshots, restore and clean against a real venv, real pip and real git: every
 * state comes back exactly (freeze identical), offline, and failures change nothing.
 */
import { cpSync, existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { git, installedSet, installedSetByImportlib, pip, pyctl } from './helpers/cli.js';
import { head, sitePackages } from './helpers/probe.js';
import { removeDir, tempDir } from './helpers/env.js';
import { HomeStates } from './helpers/states.js';
import { buildWheels } from './helpers/wheels.js';

let root: string;
let home: string;
let venv: string;
let wheels: string;
let states: HomeStates;

// The installed set as pip freeze --all prints it, read without starting pip (helpers/cli.ts);
// the redo test checks it against pip's own freeze and importlib.metadata's listing.
const freeze = () => installedSet(venv);
const lastMsg = () => git(home, ['log', '-1', '--format=%B']);
/** Files pyctl's installer wrote are hard links into the home's store (.git/pyctl/files). */
const linked = (rel: string) => statSync(join(sitePackages(venv), rel)).nlink;

beforeAll(async () => {
  root = tempDir();
  home = join(root, 'home');
  venv = join(home, 'venv');
  // Installs come from a copy of the wheels that is deleted later: undo must not need it.
  buildWheels(join(root, 'built'), [
    { name: 'alpha', version: '1.0', requires: ['beta>=2'], scripts: { 'alpha-cli': 'alpha:main' } },
    { name: 'beta', version: '2.0' },
    { name: 'beta', version: '2.1' },
    { name: 'gamma', version: '0.1' },
    { name: 'gamma', version: '0.2' },
  ]);
  wheels = join(root, 'wheels');
  // No test writes pip's or setuptools' files in place: the cache's files are linked, not copied.
  states = new HomeStates(home, join(root, 'states'), [], { linkCache: true });
});
afterAll(() => removeDir(root));
// Tests delete the wheels to show undo works offline; the next test has them again.
beforeEach(() => {
  if (!existsSync(wheels)) cpSync(join(root, 'built'), wheels, { recursive: true });
});

// The states tests start from (helpers/states.ts): each test asks for its own, so it passes alone
// or in any order. Each builds on a smaller one the first time it is asked for.
const installs = async (args: string[]) => expect((await pip(venv, ['install', ...args], { wheels })).exitCode).toBe(0);
/** Just initialised: no operation yet; its installed set. */
let initial = '';
const initialised = () =>
  states.given('init', async () => {
    removeDir(home);
    expect((await pyctl(home, ['init'])).exitCode).toBe(0);
    initial = await freeze();
  });
/** pip install alpha (alpha 1.0, beta 2.1) is operation 1; its installed set. */
let withAlpha = '';
const alphaInstalled = () =>
  states.given('alpha', async () => {
    await initialised();
    await installs(['alpha']);
    withAlpha = await freeze();
    expect(withAlpha).toMatch(/^alpha==1\.0$/m);
  });
/** Operation 1 installed alpha, operation 2 undid it. */
const alphaUndone = () =>
  states.given('alpha-undone', async () => {
    await alphaInstalled();
    expect((await pyctl(home, ['undo'])).exitCode).toBe(0);
  });
/** alpha 1.0, beta 2.1 and gamma 0.1 installed, the last operation `pip install gamma==0.1`; its installed set. */
let withGamma = '';
const alphaAndGamma = () =>
  states.given('alpha-gamma', async () => {
    await alphaInstalled();
    await installs(['gamma==0.1']);
    withGamma = await freeze();
  });
/** Then `pip uninstall -y gamma` (back to alpha 1.0 and beta 2.1); the operation's number. */
let gammaGoneOp = 0;
const gammaUninstalled = () =>
  states.given('gamma-gone', async () => {
    await alphaAndGamma();
    expect((await pip(venv, ['uninstall', '-y', 'gamma'])).exitCode).toBe(0);
    gammaGoneOp = Number((await git(home, ['log', '-1', '--format=%(trailers:key=Pyctl-Op,valueonly)'])).trim());
    expect(await freeze()).toBe(withAlpha);
  });
/**
 * alpha installed and the snapshot dev-tools of it, for tests that only read (refusals); its HEAD
 * and installed set, which a refusal must leave as they are (read once, when it is built).
 */
const devTools = { head: '', freeze: '' };
const snapshotted = async (read: 'read' | 'change') => {
  const build = async () => {
    await alphaInstalled();
    expect((await pyctl(home, ['snapshot', 'dev-tools', '-m', 'my tools'])).exitCode).toBe(0);
    devTools.head = await head(home);
    devTools.freeze = await freeze();
  };
  await (read === 'read' ? states.givenToRead('dev-tools', build) : states.given('dev-tools', build));
};

describe('undo', () => {
  it('undoes an install, as a new commit whose state is the one before', async () => {
    // The state pip install alpha made (operation 1; alphaInstalled checks alpha is there).
    await alphaInstalled();
    const r = await pyctl(home, ['undo']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/recorded as operation 2/);
    expect(r.stdout).toMatch(/^redo with: pyctl redo$/m);
    expect(await freeze()).toBe(initial);
    const msg = await lastMsg();
    expect(msg.split('\n')[0]).toBe('undo of 1: pip install alpha');
    expect(msg).toMatch(/^- alpha 1\.0$/m);
    expect(msg).toMatch(/Pyctl-Kind: undo/);
    expect(msg).toMatch(/Pyctl-Target: 1/);
    // The tree of the undo commit is the tree of the state before.
    expect(await git(home, ['rev-parse', 'HEAD:freeze.txt'])).toBe(await git(home, ['rev-parse', 'HEAD~2:freeze.txt']));
    expect(await git(home, ['status', '--porcelain'])).toBe('');
    expect(await git(home, ['tag', '--list', 'auto/*'])).toMatch(/auto\/before-2/);
    // alpha's folder went to a trash folder beside the venv; a few files are deleted by the undo itself, not a background rm.
    expect(readdirSync(home).filter((n) => n.startsWith('venv.trash-'))).toEqual([]);
  });

  it('undoes the undo offline (a redo), with the wheels source gone', async () => {
    await alphaUndone();
    rmSync(wheels, { recursive: true, force: true });
    const r = await pyctl(home, ['undo']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await freeze()).toBe(withAlpha);
    expect((await lastMsg()).split('\n')[0]).toBe('redo of 1: pip install alpha');
    expect(await lastMsg()).toMatch(/Pyctl-Kind: redo/);
    expect(r.stdout).not.toMatch(/redo with/);
    // pip's own view agrees (its freeze reads alpha's metadata as `pip show` would), and its check
    // finds every requirement met.
    expect((await pip(venv, ['freeze', '--all'])).stdout).toBe(await freeze());
    expect(await installedSetByImportlib(venv)).toBe(await freeze());
    expect((await pip(venv, ['check'])).exitCode).toBe(0);
    expect(linked('alpha-1.0.dist-info/METADATA')).toBe(2);
    expect(readdirSync(join(home, '.git', 'pyctl', 'files')).length).toBeGreaterThan(0);
  });

  it('undoes an upgrade', async () => {
    await alphaAndGamma();
    expect((await pip(venv, ['install', 'gamma==0.2'], { wheels })).exitCode).toBe(0);
    expect(await freeze()).toMatch(/^gamma==0\.2$/m);
    expect((await pyctl(home, ['undo'])).exitCode).toBe(0);
    expect(await freeze()).toBe(withGamma);
  });

  it('undoes an uninstall, offline', async () => {
    // The last operation is `pip uninstall -y gamma`.
    await gammaUninstalled();
    rmSync(wheels, { recursive: true, force: true });
    expect((await pyctl(home, ['undo'])).exitCode).toBe(0);
    expect(await freeze()).toBe(withGamma);
  });

  it('undoes N operations at once, and a dry run changes nothing', async () => {
    // gamma uninstalled, then beta downgraded: two operations to undo.
    await gammaUninstalled();
    const before = withGamma;
    expect((await pip(venv, ['install', 'beta==2.0'], { wheels })).exitCode).toBe(0);
    const h = await head(home);
    const dry = await pyctl(home, ['undo', '2', '--dry-run']);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^ {2}\+ gamma 0\.1$/m);
    expect(dry.stdout).toMatch(/^ {2}~ beta 2\.0 -> 2\.1$/m);
    expect(dry.stdout).toMatch(/^undo of \d+-\d+: pip uninstall -y gamma; pip install beta==2\.0: would change \+1 ~1$/m);
    expect(dry.stdout).toMatch(/dry run/);
    expect(await head(home)).toBe(h);
    const r = await pyctl(home, ['undo', '2']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await freeze()).toBe(before);
  });

  it.each([
    [['undo', '0'], /whole number of 1 or more/],
    [['undo', '-1'], /./],
    [['undo', 'abc'], /whole number/],
    [['undo', '999'], /cannot undo 999 operations/],
    [['undo', '1', '2'], /too many arguments|unknown/i],
    [['undo', '1', '--to', '2'], /a COUNT or --to N, not both/],
    [['undo', '--to', 'x'], /operation number/],
    [['undo', '--to', '9999'], /there is no operation 9999/],
    [['redo', '0'], /whole number of 1 or more/],
  ])('refuses %j with one clear line and changes nothing', async (args, msg) => {
    await snapshotted('read');
    const r = await pyctl(home, args);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(msg);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(await head(home)).toBe(devTools.head);
    expect(await freeze()).toBe(devTools.freeze);
  });
});

describe('redo and undo --to', () => {
  it('redo refuses when the last operation is not an undo, or fewer undos than asked were made last', async () => {
    // Its own state: a pip install that changes something (gamma==0.1) is the last operation, so there is no undo to take back.
    await alphaAndGamma();
    const start = withAlpha;
    const want = '0.1';
    const op = (await git(home, ['log', '-1', '--format=%(trailers:key=Pyctl-Op,valueonly)'])).trim();
    for (const [args, msg] of [
      [['redo'], new RegExp(`^error: nothing to redo: the last operation, ${op} \\(pip install gamma==${want}\\), is not an undo$`, 'm')],
      [['redo', '--dry-run'], /^error: nothing to redo: the last operation/m],
    ] as const) {
      const h = await head(home);
      const f = withGamma;
      const r = await pyctl(home, [...args]);
      expect(r.exitCode, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr).toMatch(/^hint: redo takes back undos made just before it/m);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(await head(home)).toBe(h);
      expect(await freeze()).toBe(f);
    }
    // One undo, then redo 2: the operation before the undo is the install, not an undo.
    expect((await pyctl(home, ['undo'])).exitCode).toBe(0);
    const h = await head(home);
    const two = await pyctl(home, ['redo', '2']);
    expect(two.exitCode).toBe(1);
    expect(two.stderr).toMatch(new RegExp(`^error: cannot redo 2 undos: operation ${op} \\(pip install gamma==${want}\\) is not an undo$`, 'm'));
    expect(await head(home)).toBe(h);
    expect((await pyctl(home, ['redo'])).exitCode).toBe(0);
    expect((await pyctl(home, ['undo'])).exitCode).toBe(0);
    expect(await freeze()).toBe(start);
  });

  it('redo takes back an undo; subjects name the operation, never a chain', async () => {
    // The last operation installed gamma==0.1 on top of alpha.
    await alphaAndGamma();
    const start = withAlpha;
    const installed = withGamma;
    const op = (await git(home, ['log', '-1', '--format=%(trailers:key=Pyctl-Op,valueonly)'])).trim();
    const subjects: string[] = [];
    for (const cmd of ['undo', 'redo', 'undo', 'undo']) {
      const r = await pyctl(home, [cmd]);
      expect(r.exitCode, r.stderr).toBe(0);
      subjects.push((await lastMsg()).split('\n')[0]);
    }
    expect(subjects).toEqual([`undo of ${op}: pip install gamma==0.1`, `redo of ${op}: pip install gamma==0.1`, `undo of ${op}: pip install gamma==0.1`, `redo of ${op}: pip install gamma==0.1`]);
    expect(await freeze()).toBe(installed);
    // The last operation is a redo: nothing to redo, one clear line, nothing changed.
    const h = await head(home);
    const r = await pyctl(home, ['redo']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^error: nothing to redo: the last operation, \d+ \(redo of \d+: pip install gamma==0\.1\), is not an undo$/m);
    expect(await head(home)).toBe(h);
    expect((await pyctl(home, ['undo'])).exitCode).toBe(0);
    expect(await freeze()).toBe(start);
    const hist = await pyctl(home, ['history', '-n', '1']);
    expect(hist.stdout).toMatch(new RegExp(`undo of ${op}: pip install gamma==0\\.1`));
  });

  it('undo --to N goes back to the state after operation N, as one operation that redo takes back', async () => {
    // Its own start: gamma installed, then uninstalled (operation `op`), so both installs below are operations too.
    await gammaUninstalled();
    const op = gammaGoneOp;
    const at = withAlpha;
    expect((await pip(venv, ['install', 'gamma==0.1'], { wheels })).exitCode).toBe(0);
    expect((await pip(venv, ['install', 'gamma==0.2'], { wheels })).exitCode).toBe(0);
    const after = await freeze();
    const dry = await pyctl(home, ['undo', '--to', String(op), '--dry-run']);
    expect(dry.stdout).toMatch(/^ {2}- gamma 0\.2$/m);
    const r = await pyctl(home, ['undo', '--to', String(op)]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await freeze()).toBe(at);
    expect((await lastMsg()).split('\n')[0]).toBe(`undo of ${op + 1}-${op + 2}, back to ${op}: pip install gamma==0.1; pip install gamma==0.2`);
    const empty = await pyctl(home, ['undo', '--to', String(op + 3)]);
    expect(empty.stderr).toMatch(/operation \d+ is the last one: there is nothing after it to undo/);
    expect((await pyctl(home, ['redo'])).exitCode).toBe(0);
    expect(await freeze()).toBe(after);
    expect((await lastMsg()).split('\n')[0]).toBe(`redo of ${op + 1}-${op + 2}: pip install gamma==0.1; pip install gamma==0.2`);
    // A dry run that would change nothing says so.
    const none = await pyctl(home, ['restore', String(op + 4), '--dry-run']);
    expect(none.stdout).toMatch(/nothing would change: the venv already matches/);
  });
});

describe('snapshots and restore', () => {
  it('round-trips: snapshot, change, restore by name and by operation number', async () => {
    await alphaInstalled();
    const saved = withAlpha;
    const r = await pyctl(home, ['snapshot', 'dev-tools', '-m', 'my tools']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await git(home, ['tag', '-n1', 'dev-tools'])).toMatch(/my tools/);
    const list = await pyctl(home, ['list-snapshots']);
    expect(list.stdout).toMatch(/dev-tools .*= now.*my tools/);
    // A change after the snapshot (an undo: alpha and beta go), then back by name and forward by number.
    expect((await pyctl(home, ['undo'])).exitCode).toBe(0);
    const changed = await freeze();
    expect(changed).not.toMatch(/^alpha==/m);
    const opBefore = (await git(home, ['log', '-1', '--format=%(trailers:key=Pyctl-Op,valueonly)'])).trim();
    const back = await pyctl(home, ['restore', 'dev-tools']);
    expect(back.exitCode, back.stderr).toBe(0);
    expect(await freeze()).toBe(saved);
    expect((await lastMsg()).split('\n')[0]).toBe('pyctl restore dev-tools');
    const again = await pyctl(home, ['restore', opBefore]);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(await freeze()).toBe(changed);
    expect(await git(home, ['diff', '--stat', 'dev-tools', 'HEAD', '--', 'freeze.txt'])).toMatch(/freeze\.txt/);
  });

  it.each([
    ['../x', /cannot be a snapshot name/],
    ['a b', /space/],
    ['x.lock', /\.lock/],
    ['', /empty|needs a NAME/],
    ['auto/x', /automatic/],
    ['12', /operation number/],
  ])('refuses the snapshot name %j', async (name, msg) => {
    await snapshotted('read');
    const tags = await git(home, ['tag', '--list']);
    const r = await pyctl(home, ['snapshot', name]);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(msg);
    expect(await git(home, ['tag', '--list'])).toBe(tags);
  });

  it('refuses an existing name unless --force, and deletes', async () => {
    await snapshotted('change');
    const r = await pyctl(home, ['snapshot', 'dev-tools']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/already exists/);
    expect((await pyctl(home, ['snapshot', 'dev-tools', '--force'])).exitCode).toBe(0);
    expect((await pyctl(home, ['snapshot', 'tmp-snap'])).exitCode).toBe(0);
    expect((await pyctl(home, ['snapshot', '--delete', 'tmp-snap'])).exitCode).toBe(0);
    expect(await git(home, ['tag', '--list', 'tmp-snap'])).toBe('');
  });

  it('names close matches for an unknown snapshot', async () => {
    await snapshotted('read');
    const r = await pyctl(home, ['restore', 'dev-tool']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/no snapshot or operation named 'dev-tool'/);
    expect(r.stderr).toMatch(/did you mean: dev-tools/);
  });

  /** A snapshot made with plain git whose freeze names what this machine never had. */
  async function plantSnapshot(name: string, extra: string): Promise<void> {
    const { execa } = await import('execa');
    const current = await git(home, ['show', 'HEAD:freeze.txt']);
    const blob = (await execa('git', ['-C', home, 'hash-object', '-w', '--stdin'], { input: current + '\n' + extra + '\n' })).stdout;
    const tree = (await execa('git', ['-C', home, 'mktree'], { input: `100644 blob ${blob}\tfreeze.txt\n` })).stdout;
    const env = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };
    const commit = (await execa('git', ['-C', home, 'commit-tree', tree, '-m', 'planted'], { env })).stdout;
    await execa('git', ['-C', home, 'tag', name, commit], { env });
  }

  it('fails to restore a package available nowhere, leaving venv and history as they were', async () => {
    await alphaInstalled();
    await plantSnapshot('ghost', 'ghost-package==9.9');
    const h = await head(home);
    const f = withAlpha;
    const r = await pyctl(home, ['restore', 'ghost'], { PIP_NO_INDEX: '1' });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/cannot get ghost-package==9\.9/);
    expect(r.stderr.trim().split('\n').length).toBeLessThanOrEqual(3);
    expect(await head(home)).toBe(h);
    expect(await freeze()).toBe(f);
  });

  it('rolls back a restore that fails half-way', async () => {
    // Removing alpha/beta happens first; then pip fails on a source that does not exist.
    await alphaInstalled();
    const { execa } = await import('execa');
    const current = await git(home, ['show', 'HEAD:freeze.txt']);
    const without = current
      .split('\n')
      .filter((l) => !/^(alpha|beta)==/.test(l))
      .join('\n');
    await plantSnapshot('half', `zeta @ file://${join(root, 'no-such-project')}`);
    // Rewrite the planted snapshot to drop alpha/beta too, so the plan removes before it fails.
    const blob = (await execa('git', ['-C', home, 'hash-object', '-w', '--stdin'], { input: `${without}\nzeta @ file://${join(root, 'no-such-project')}\n` })).stdout;
    const tree = (await execa('git', ['-C', home, 'mktree'], { input: `100644 blob ${blob}\tfreeze.txt\n` })).stdout;
    const env = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };
    const commit = (await execa('git', ['-C', home, 'commit-tree', tree, '-m', 'planted'], { env })).stdout;
    await execa('git', ['-C', home, 'tag', '-f', 'half', commit], { env });
    const h = await head(home);
    const f = withAlpha; // alpha and beta are installed
    const r = await pyctl(home, ['restore', 'half']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/pip install zeta failed/);
    expect(r.stderr).toMatch(/put back exactly as it was/);
    expect(await freeze()).toBe(f);
    expect(await head(home)).toBe(h);
  });
});

describe('clean', () => {
  it('recreates the venv empty, keeps history, and can be undone', async () => {
    await alphaAndGamma();
    const before = withGamma;
    const ops = (await git(home, ['rev-list', '--count', 'HEAD'])).trim();
    const r = await pyctl(home, ['clean']);
    expect(r.exitCode, r.stderr).toBe(0);
    const fresh = await freeze();
    expect(fresh).not.toMatch(/alpha/);
    expect(fresh).toMatch(/^pip==/m);
    expect(linked('pip/__init__.py')).toBeGreaterThanOrEqual(2); // pip and setuptools come back linked (the home's store, the per-user template)
    expect(Number(await git(home, ['rev-list', '--count', 'HEAD']))).toBe(Number(ops) + 1);
    expect(await lastMsg()).toMatch(/Pyctl-Kind: clean/);
    // The new venv still records pip runs.
    expect((await pip(venv, ['install', 'gamma==0.1'], { wheels })).exitCode).toBe(0);
    expect((await lastMsg()).split('\n')[0]).toBe('pip install gamma==0.1');
    expect((await pyctl(home, ['undo', '2'])).exitCode).toBe(0);
    expect(await freeze()).toBe(before);
  });

  it('--keep-baseline goes back to the baseline snapshot', async () => {
    await alphaInstalled();
    expect(await git(home, ['diff', 'baseline', 'HEAD', '--', 'freeze.txt'])).not.toBe('');
    const r = await pyctl(home, ['clean', '--keep-baseline']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await git(home, ['diff', 'baseline', 'HEAD', '--', 'freeze.txt'])).toBe('');
  });
});
