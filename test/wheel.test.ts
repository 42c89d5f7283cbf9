/**
 * The native installer against real pip: same wheels, pip into venv A (made by `python -m venv`),
 * installWheels into venv B (made by createVenv) and into venv L (createVenv with a LinkStore);
 * the trees must be equal file for file.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVenv, defaultPycCache, findPython } from '../src/venv/create.js';
import { installWheel, installWheels } from '../src/wheel/install.js';
import { forgetDirs } from '../src/wheel/fsutil.js';
import { LinkStore, STORE_KEEP_MS, sweepStore } from '../src/wheel/link-store.js';
import { rebuildWheel } from '../src/wheel/rebuild.js';
import { uninstallDist } from '../src/wheel/uninstall.js';
import { hermeticEnv, removeDir, tempDir } from './helpers/env.js';
import { HomeStates } from './helpers/states.js';
import { sitePackages } from './helpers/probe.js';
import { snapshot, treeDiff } from './helpers/tree.js';
import { buildWheel, buildWheels, type WheelSpec } from './helpers/wheels.js';

const SPECS: WheelSpec[] = [
  { name: 'alpha', version: '1.0', scripts: { alpha: 'alpha:main' } },
  {
    name: 'Beta.Pkg',
    version: '2.0',
    requires: ['alpha'],
    files: {
      'beta_pkg/__init__.py': 'X = 1\n',
      'beta_pkg/sub/__init__.py': '',
      'beta_pkg/sub/mod.py': 'def run():\n    return 2\n',
      'beta_pkg/data.txt': 'not python\n',
    },
    guiScripts: { 'beta-gui': 'beta_pkg.sub.mod:run' },
  },
  {
    name: 'gamma',
    version: '0.1',
    files: { 'gamma/__init__.py': '', 'gamma/broken.py': 'def (:\n' },
    data: {
      'scripts/gamma-tool': '#!python\nprint("tool")\n',
      'scripts/plain.sh': '#!/bin/sh\necho plain\n',
      'scripts/gamma-ep': '#!python\n# a setuptools wrapper pip must skip\n',
      'data/share/gamma/readme.txt': 'readme\n',
      'headers/gamma.h': '#define GAMMA 1\n',
      'purelib/gamma_extra.py': 'E = 1\n',
      'platlib/gamma_plat.py': 'P = 1\n',
    },
    executable: ['gamma-0.1.data/scripts/gamma-tool', 'gamma-0.1.data/scripts/plain.sh'],
    scripts: { 'gamma-ep': 'gamma:main' },
  },
  {
    name: 'delta',
    version: '3.0',
    files: { 'delta/__init__.py': '', 'delta/cli.py': 'class App:\n    @staticmethod\n    def run():\n        print("delta")\n', 'delta/run.sh': '#!/bin/sh\necho run\n' },
    executable: ['delta/run.sh'],
    scripts: { delta: 'delta.cli:App.run', 'delta-x': 'delta.cli:App.run [extra]' },
  },
  { name: 'epsilon', version: '1.0' },
];
const NAMES = SPECS.map((s) => s.name);

let work: string;
let wheels: string;
let A: string;
let B: string;
let L: string;
let store: string;
let python: string;
/**
 * The compiled-file cache the other tests' homes share (the hermetic XDG_CACHE_HOME's, as one user's
 * machine has one): pip's and setuptools' ~700 .pyc files are compiled once there, not again for
 * every run of this file (~4 s of CPU). .pyc contents are not compared (helpers/tree.ts); that the
 * cache is filled and then used is test/venv-create.test.ts's.
 */
const pycCache = defaultPycCache(hermeticEnv());
/** The venvs each test starts from (helpers/states.ts): A, B and L together, built once per file. */
let states: HomeStates;
const env = () => hermeticEnv({ PIP_NO_INDEX: '1', PIP_FIND_LINKS: wheels });
const run = (venv: string, ...args: string[]) => execFileSync(join(venv, 'bin', 'python'), args, { env: env(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const pip = (venv: string, ...args: string[]) => run(venv, '-m', 'pip', ...args);
// pip's own entry (what `python -m pip` calls) for each command in turn, in one run of the venv's
// Python: pip's imports (~0.5 s of CPU of a ~0.7 s run) once for all. What each printed; a command
// that fails stops the run, which throws as `pip` does.
const PIP_EACH = String.raw`
import contextlib, io, json, sys
from pip._internal.cli.main import main
out = []
for args in json.loads(sys.argv[1]):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(args)
    if code:
        sys.stdout.write(buf.getvalue())
        sys.exit('pip %s exited %s' % (' '.join(args), code))
    out.append(buf.getvalue())
print(json.dumps(out))
`;
const pipEach = (venv: string, ...commands: string[][]): string[] => JSON.parse(run(venv, '-c', PIP_EACH, JSON.stringify(commands)));
const FREEZE = ['freeze', '--all'];
const CHECK = ['check'];
const distInfos = (venv: string) => readdirSync(sitePackages(venv)).filter((n) => n.endsWith('.dist-info') && !/^(pip|setuptools)-/.test(n));

function expectSameTrees(a: string, b: string) {
  expect(treeDiff(snapshot(a), snapshot(b))).toEqual([]);
}

beforeAll(() => {
  work = tempDir('pyctl-wheel-');
  wheels = buildWheels(join(work, 'wheels'), SPECS);
  python = findPython('3.11');
  // Same basename and path length: script shebangs and activate scripts differ only by <ROOT>.
  A = join(work, 'a', 'venv');
  B = join(work, 'b', 'venv');
  L = join(work, 'l', 'venv');
  store = join(work, 'l', 'store');
  // linkCache: put back only what a test changed (nothing here is linked from the per-user cache).
  states = new HomeStates(join(work, 'a'), join(work, 'states'), [join(work, 'b'), join(work, 'l')], { linkCache: true });
});
afterAll(() => removeDir(work));

const files = () => readdirSync(wheels).map((f) => ({ path: join(wheels, f), requested: true }));
/**
 * A made by `python -m venv` (pip installed by ensurepip: ~5 s of CPU, so once per file), B by
 * createVenv, L by createVenv with the store (pip and setuptools stored).
 */
const fresh = (read: 'read' | 'change') => {
  const build = async () => {
    for (const d of ['a', 'b', 'l']) removeDir(join(work, d));
    mkdirSync(join(work, 'a'));
    execFileSync(python, ['-m', 'venv', A], { env: env() });
    await createVenv(B, python, { pycCache });
    await createVenv(L, python, { pycCache, store });
  };
  return read === 'read' ? states.givenToRead('fresh', build) : states.given('fresh', build);
};
/**
 * Then every test wheel installed: by pip into A, by installWheels into B, and by installWheels
 * with the store into L (their first install there); what installWheels returned for B.
 */
let installedNames: string[] = [];
const installed = () =>
  states.given('installed', async () => {
    await fresh('change');
    pip(A, 'install', '--no-deps', ...NAMES);
    installedNames = (await installWheels(B, files())).map((r) => r.name);
    await installWheels(L, files(), { store, pycCache });
  });

/**
 * What pip says of A in the installed state (`freeze --all`, `check`): asked once per file by the
 * first test that compares against it (neither test that does changes A).
 */
let pipOnInstalledA: string[] | undefined;
const pipSaysOfA = () => (pipOnInstalledA ??= pipEach(A, FREEZE, CHECK));

describe('installWheels matches pip install --no-deps', () => {
  it('a fast venv equals a python -m venv venv', async () => {
    await fresh('read');
    expectSameTrees(A, B);
  });

  it('refuses a corrupt wheel and leaves the venv untouched', async () => {
    await fresh('read');
    const bad = buildWheel(join(work, 'bad'), { name: 'zeta', version: '1.0', files: { 'zeta.py': 'Z = 1\n' }, badHashFor: 'zeta.py' });
    const before = snapshot(B);
    await expect(installWheel(B, bad)).rejects.toMatchObject({ code: 'PIP_FAILED', message: expect.stringMatching(/hash does not match RECORD/) });
    writeFileSync(join(work, 'bad', 'junk.whl'), 'not a zip');
    await expect(installWheel(B, join(work, 'bad', 'junk.whl'))).rejects.toMatchObject({ code: 'PIP_FAILED' });
    expect(treeDiff(before, snapshot(B))).toEqual([]);
  });

  it('installs the same tree as pip', async () => {
    await installed(); // the install itself is the state's: pip into A, installWheels into B
    expect(installedNames.sort()).toEqual([...NAMES].sort());
    expectSameTrees(A, B);
    expect(pipEach(B, FREEZE, CHECK)).toEqual(pipSaysOfA()); // pip freeze --all, pip check
    expect(execFileSync(join(B, 'bin', 'delta'), { encoding: 'utf8' })).toBe('delta\n');
    expect(execFileSync(join(B, 'bin', 'gamma-tool'), { encoding: 'utf8' })).toBe('tool\n');
  });

  it('reinstalling over an installed version replaces it like pip does', async () => {
    await installed();
    const v2 = buildWheel(join(work, 'v2'), { name: 'epsilon', version: '2.0', files: { 'epsilon2.py': '' } });
    pip(A, 'install', '--no-deps', v2);
    await installWheel(B, v2, { requested: true, directUrl: { url: `file://${v2}`, archive_info: {} } });
    const norm = (t: Record<string, string>) => Object.fromEntries(Object.entries(t).filter(([k]) => !k.includes('direct_url.json') && !k.endsWith('epsilon-2.0.dist-info/RECORD')));
    expect(treeDiff(norm(snapshot(A)), norm(snapshot(B)))).toEqual([]);
    // pip's direct_url.json carries a hash we were not given; put both back to 1.0 for what follows.
    pip(A, 'install', '--no-deps', '--force-reinstall', 'epsilon==1.0');
    await installWheel(B, join(wheels, 'epsilon-1.0-py3-none-any.whl'), { requested: true });
    expectSameTrees(A, B);
  });

  it('rebuilt wheels reinstall to the same tree, with pip and with installWheels', async () => {
    await installed();
    removeDir(join(work, 'rebuilt'));
    const original = snapshot(B);
    const rebuilt = join(work, 'rebuilt');
    for (const d of distInfos(B)) rebuildWheel(B, join(sitePackages(B), d), rebuilt);
    expect(readdirSync(rebuilt).sort()).toEqual(readdirSync(wheels).sort());
    // pip can uninstall what installWheels installed, and the result equals pip's own uninstall.
    pip(A, 'uninstall', '-y', ...NAMES);
    pip(B, 'uninstall', '-y', ...NAMES);
    expectSameTrees(A, B);
    pip(A, 'install', '--no-deps', '--find-links', rebuilt, ...NAMES);
    await installWheels(
      B,
      readdirSync(rebuilt).map((f) => ({ path: join(rebuilt, f), requested: true })),
    );
    expectSameTrees(A, B);
    expect(treeDiff(original, snapshot(B))).toEqual([]);
  });

  it('uninstallDist leaves the same tree as pip uninstall -y', async () => {
    await installed();
    // pip uninstall -y, then what pip freeze --all says of A (it changes nothing).
    const [, freezeA] = pipEach(A, ['uninstall', '-y', ...NAMES], FREEZE);
    for (const d of distInfos(B)) uninstallDist(B, join(sitePackages(B), d));
    expectSameTrees(A, B);
    expect(pipEach(B, FREEZE)[0]).toBe(freezeA);
  });
});

// Against pip's venv A, as above.
describe('installWheels with a LinkStore (files hard-linked from the home)', () => {
  const inStore = () => readdirSync(store).map((n) => join(store, n));
  const uninstallAll = () => {
    for (const d of distInfos(L)) uninstallDist(L, join(sitePackages(L), d));
  };

  it('a venv made again from the store links pip and setuptools, and equals python -m venv', async () => {
    await fresh('change'); // L was made once, with the store
    const stored = inStore().length;
    expect(stored).toBeGreaterThan(500); // pip's files, their .pyc, RECORD, scripts
    rmSync(L, { recursive: true });
    await createVenv(L, python, { pycCache, store });
    expect(inStore()).toHaveLength(stored); // nothing new: every file came from the store
    const pipInit = join(sitePackages(L), 'pip', '__init__.py');
    expect(statSync(pipInit).nlink).toBe(2); // the venv's copy and the store's
    expectSameTrees(A, L);
    expect(run(L, '-m', 'pip', '--version')).toMatch(/^pip /);
  });

  it('installs the same tree as pip the first time and when every file is linked', async () => {
    await installed(); // pip's install into A and the first one into L are the state's, checked here
    expectSameTrees(A, L);
    uninstallAll();
    await installWheels(L, files(), { store, pycCache });
    expectSameTrees(A, L);
    const site = sitePackages(L);
    for (const f of ['delta/cli.py', 'delta/run.sh', 'delta-3.0.dist-info/RECORD', 'delta-3.0.dist-info/INSTALLER', '../../../bin/delta']) {
      expect(statSync(join(site, f)).nlink, f).toBeGreaterThanOrEqual(2);
    }
    expect(pipEach(L, FREEZE, CHECK)).toEqual(pipSaysOfA()); // pip freeze --all, pip check
    expect(execFileSync(join(L, 'bin', 'delta'), { encoding: 'utf8' })).toBe('delta\n');
    expect(run(L, '-c', 'import delta.cli, beta_pkg.sub.mod; print(beta_pkg.sub.mod.run())').trim()).toBe('2');
  });

  it('never hands out a stored copy that was edited through a venv link', async () => {
    await installed();
    const cli = join(sitePackages(L), 'delta', 'cli.py');
    const original = readFileSync(cli, 'utf8');
    // In place and the same size, as some editors save: the store's copy changes too.
    writeFileSync(cli, original.toUpperCase());
    expect(statSync(cli).size).toBe(original.length);
    uninstallAll();
    await installWheels(L, files(), { store, pycCache });
    expect(readFileSync(cli, 'utf8')).toBe(original);
    expectSameTrees(A, L);
  });

  it('sweepStore drops copies no venv file links to after a week, and keeps the rest', async () => {
    await installed();
    const linked = join(sitePackages(L), 'delta', 'cli.py');
    for (const d of distInfos(L).filter((n) => n.startsWith('epsilon-'))) uninstallDist(L, join(sitePackages(L), d));
    const before = inStore().length;
    expect(sweepStore(store).removed).toBe(0); // nothing is a week old yet
    const { removed } = sweepStore(store, Date.now() + STORE_KEEP_MS + 60_000);
    expect(removed).toBeGreaterThan(0);
    expect(inStore().length).toBe(before - removed);
    for (const p of inStore()) expect(statSync(p).nlink).toBeGreaterThanOrEqual(2);
    expect(existsSync(linked) && statSync(linked).nlink).toBe(2);
  });

  it('never writes through a file in the way: other links to it keep their bytes', () => {
    const dir = join(work, 'put');
    removeDir(dir);
    const files = new LinkStore(join(dir, 'store'));
    forgetDirs();
    files.put(join(dir, 'a', 'f'), Buffer.from('one'), 0o644); // written, then stored
    files.put(join(dir, 'b', 'f'), Buffer.from('one'), 0o644); // a link to the stored copy
    expect(statSync(join(dir, 'a', 'f')).nlink).toBe(3);
    files.put(join(dir, 'b', 'f'), Buffer.from('two!'), 0o644); // same path again, other bytes
    expect(readFileSync(join(dir, 'b', 'f'), 'utf8')).toBe('two!');
    expect(readFileSync(join(dir, 'a', 'f'), 'utf8')).toBe('one');
    expect(statSync(join(dir, 'a', 'f')).nlink).toBe(2);
  });

  it('pip uninstalls linked files like any others; the stored copies stay for a later redo', async () => {
    await installed();
    const cli = join(sitePackages(L), 'delta', 'cli.py');
    const before = inStore().filter((p) => statSync(p).nlink === 1).length;
    const [, freeze] = pipEach(L, ['uninstall', '-y', 'delta'], FREEZE);
    expect(existsSync(cli)).toBe(false);
    expect(existsSync(join(L, 'bin', 'delta'))).toBe(false);
    expect(freeze).not.toMatch(/^delta==/m);
    expect(inStore().filter((p) => statSync(p).nlink === 1).length).toBeGreaterThan(before);
  });
});
