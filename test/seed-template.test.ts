/**
 * The per-user template of pip and setuptools (src/venv/seed-template.ts): a venv linked from it
 * is file for file what a full install makes (paths, modes, contents, RECORD, valid .pyc), pip
 * works in it, pip runs in it leave the template alone, and a file edited in place through a
 * venv's link is never handed out again.
 *
 * The reference P is a full install without a template (createVenv, seedCache false): that one
 * equals `python -m venv` file for file (test/wheel.test.ts, 'a fast venv equals a python -m venv
 * venv'), so a linked venv equal to P is one too, without this file paying for a pip install of pip.
 * Each test starts from the same state (helpers/states.ts): a template made by the first venv,
 * v1, both under one folder so that `cp -a` keeps the hard links between them.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVenv, defaultPycCache, findPython } from '../src/venv/create.js';
import { hermeticEnv, removeDir, tempDir } from './helpers/env.js';
import { sitePackages } from './helpers/probe.js';
import { HomeStates } from './helpers/states.js';
import { snapshot, treeDiff } from './helpers/tree.js';
import { buildWheel } from './helpers/wheels.js';

let work: string;
let python: string;
/** Everything a test changes: the template folder and the venvs, put back for each test. */
let root: string;
let seeds: string;
let P: string;
let states: HomeStates;
/**
 * The compiled-file cache the other tests' homes share (the hermetic XDG_CACHE_HOME's, as one user's
 * machine has one): pip's and setuptools' ~700 .pyc files are compiled once there, not again at
 * every run of this file. stalePycs still checks every .pyc a venv gets against its source; that
 * the cache is filled and then used is test/venv-create.test.ts's.
 */
const pycCache = defaultPycCache(hermeticEnv());
const env = () => hermeticEnv({ PIP_NO_INDEX: '1' });
const sh = (cmd: string, ...args: string[]) => execFileSync(cmd, args, { env: env(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
// Same basename and path length everywhere (<work>/h/vN/venv, <work>/p/p0/venv): scripts and
// activate differ only by <ROOT>.
const venvAt = (tag: string) => {
  mkdirSync(join(root, tag));
  return join(root, tag, 'venv');
};
const make = (tag: string) => createVenv(venvAt(tag), python, { pycCache, seedCache: seeds });
const template = () =>
  join(
    seeds,
    readdirSync(seeds).find((n) => /^[0-9a-f]{32}$/.test(n))!,
  );
/** P's tree, taken once: nothing changes P. */
let pTree: ReturnType<typeof snapshot> | undefined;
const reference = () => (pTree ??= snapshot(P));
/** The template made by the first venv, v1 (installed, its files kept as the template's). */
const buildTemplate = async () => {
  removeDir(root);
  mkdirSync(root);
  await make('v1');
};
/** Put back for every test: even one that only links from it adds links to its files (nlink). */
const made = () => states.given('template', buildTemplate);

/** pip's own entry (what `python -m pip` calls) for each command in turn, in one Python; exits non-zero at the first that fails. */
const PIP_EACH = String.raw`
import json, sys
from pip._internal.cli.main import main
for args in json.loads(sys.argv[1]):
    code = main(args)
    if code:
        sys.exit('pip %s exited %s' % (' '.join(args), code))
`;

/** Every file of the template with its bytes' hash and stat: what must not change. */
function templateState(): string[] {
  const dir = template();
  return readdirSync(dir)
    .sort()
    .map((n) => {
      const st = statSync(join(dir, n));
      return `${n} ${st.size} ${st.mtimeMs} ${(st.mode & 0o7777).toString(8)} ${readFileSync(join(dir, n)).toString('base64').length}`;
    });
}

/** Every .pyc names its source's mtime and size in its header: Python uses it, nothing recompiles. */
function stalePycs(venv: string): string[] {
  const bad: string[] = [];
  const walk = (dir: string) => {
    for (const n of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, n.name);
      if (n.isDirectory()) walk(p);
      else if (n.name.endsWith('.pyc')) {
        const src = join(dir, '..', `${n.name.split('.')[0]}.py`);
        if (!existsSync(src)) continue;
        const head = readFileSync(p).subarray(0, 16);
        const st = statSync(src);
        if (head.readUInt32LE(8) !== Math.floor(st.mtimeMs / 1000) || head.readUInt32LE(12) !== st.size) bad.push(relative(venv, p));
      }
    }
  };
  walk(sitePackages(venv));
  return bad;
}

beforeAll(async () => {
  work = tempDir('pyctl-seed-');
  root = join(work, 'h');
  seeds = join(root, 'seeds');
  python = findPython('3.11');
  // Put back by helpers/copy-tree.ts: the .pyc files linked from the shared per-user cache stay
  // links of it, and only what a test changed (an edited or chmod'ed template file, the new venvs)
  // is rewritten, the links between v1 and the template kept.
  states = new HomeStates(root, join(work, 'states'), [], { linkCache: true });
  P = join(work, 'p', 'p0', 'venv');
  mkdirSync(join(work, 'p'));
  await createVenv(P, python, { pycCache, seedCache: false });
});
afterAll(() => removeDir(work));

describe('pip and setuptools linked from the per-user template', () => {
  it('the first venv is installed and kept; the next is linked and equals python -m venv file for file', async () => {
    await made();
    expect(readdirSync(seeds).filter((n) => /^[0-9a-f]{32}$/.test(n))).toHaveLength(1);
    const A = join(root, 'v1', 'venv');
    const pipInit = join(sitePackages(A), 'pip', '__init__.py');
    expect(statSync(pipInit).nlink).toBe(2); // the venv's file and the template's

    const B = join(root, 'v2', 'venv');
    await make('v2');
    expect(statSync(join(sitePackages(B), 'pip', '__init__.py')).ino).toBe(statSync(pipInit).ino);
    expect(treeDiff(reference(), snapshot(B))).toEqual([]);
    expect(treeDiff(snapshot(A), snapshot(B))).toEqual([]);
    // RECORD line for line; the script rows hash each venv's own #! line (snapshot checked them against the files).
    const rec = (v: string) =>
      readdirSync(sitePackages(v))
        .filter((n) => n.endsWith('.dist-info'))
        .flatMap((d) =>
          readFileSync(join(sitePackages(v), d, 'RECORD'), 'utf8')
            .split('\r\n')
            .map((l) => (l.startsWith('../../../bin/') ? l.split(',')[0] : l)),
        );
    expect(rec(B)).toEqual(rec(A));
    expect(readFileSync(join(B, 'bin', 'pip'), 'utf8')).toContain(`#!${B}/bin/python`);
    expect(stalePycs(B)).toEqual([]);
    expect(readdirSync(B).filter((n) => n.startsWith('.pyctl-'))).toEqual([]); // no journal or probe left
  });

  it('pip works in a linked venv, and pip runs there (install, reinstall of pip itself) leave the template as it was', async () => {
    await made();
    const before = templateState();
    const C = join(root, 'v3', 'venv');
    await make('v3');
    // The venv's python imports the venv's pip (what `pip --version` prints, without starting pip),
    // finds ensurepip's pip wheel (the same interpreter's stdlib), then runs `python -m pip check`
    // as -m runs it (runpy): one Python start for the three.
    const [pipFile, pipWheel, check] = sh(
      join(C, 'bin', 'python'),
      '-c',
      'import ensurepip, glob, os, pip, runpy, sys; print(pip.__file__); print(glob.glob(os.path.dirname(ensurepip.__file__) + "/_bundled/pip-*.whl")[0]); sys.argv = ["pip", "check"]; runpy.run_module("pip", run_name="__main__", alter_sys=True)',
    ).split('\n');
    expect(pipFile).toBe(`${sitePackages(C)}/pip/__init__.py`);
    expect(check).toMatch(/No broken requirements/);
    const wheels = join(work, 'wheels');
    buildWheel(wheels, { name: 'tiny', version: '1.0', scripts: { tiny: 'tiny:main' } });
    sh(join(C, 'bin', 'pip'), 'install', '--find-links', wheels, 'tiny');
    expect(sh(join(C, 'bin', 'tiny'))).toBe('tiny 1.0\n');
    // An upgrade and a reinstall both remove pip's files and write new ones. The reinstall and the
    // uninstall run in one Python, each through pip's own entry as `python -m pip` calls it (pip's
    // imports paid once); a command that fails stops the run, which throws.
    sh(
      join(C, 'bin', 'python'),
      '-c',
      PIP_EACH,
      JSON.stringify([
        ['install', '--force-reinstall', '--no-deps', pipWheel],
        ['uninstall', '-y', 'setuptools'],
      ]),
    );
    expect(existsSync(join(sitePackages(C), 'setuptools'))).toBe(false);
    expect(templateState()).toEqual(before);
    const D = join(root, 'v4', 'venv');
    await make('v4');
    expect(statSync(join(sitePackages(D), 'pip', '__init__.py')).nlink).toBeGreaterThanOrEqual(3); // still linked: the template was kept
    expect(treeDiff(reference(), snapshot(D))).toEqual([]);
  });

  it('a file edited in place through a venv makes the template stale: the next venv gets the original, and a new template', async () => {
    await made();
    const A = join(root, 'v1', 'venv');
    const edited = join(sitePackages(A), 'pip', '__init__.py');
    const original = readFileSync(edited, 'utf8');
    appendFileSync(edited, '# edited in place\n'); // same inode: the template's copy changed too
    const E = join(root, 'v5', 'venv');
    await make('v5');
    expect(readFileSync(join(sitePackages(E), 'pip', '__init__.py'), 'utf8')).toBe(original);
    expect(statSync(join(sitePackages(E), 'pip', '__init__.py')).ino).not.toBe(statSync(edited).ino);
    expect(treeDiff(reference(), snapshot(E))).toEqual([]);
    expect(stalePycs(E)).toEqual([]);
    // The new template is E's own files; the next venv links them.
    const F = join(root, 'v6', 'venv');
    await make('v6');
    expect(statSync(join(sitePackages(F), 'pip', '__init__.py')).ino).toBe(statSync(join(sitePackages(E), 'pip', '__init__.py')).ino);
    expect(treeDiff(reference(), snapshot(F))).toEqual([]);
  });

  it('a chmod through a venv is caught too', async () => {
    await made();
    const A = join(root, 'v1', 'venv');
    expect(statSync(join(sitePackages(A), 'pip', '__main__.py')).nlink).toBe(2); // the template's file too
    execFileSync('chmod', ['600', join(sitePackages(A), 'pip', '__main__.py')]);
    const G = join(root, 'v7', 'venv');
    await make('v7');
    expect((statSync(join(sitePackages(G), 'pip', '__main__.py')).mode & 0o777).toString(8)).toBe((statSync(join(sitePackages(P), 'pip', '__main__.py')).mode & 0o777).toString(8));
    expect(treeDiff(reference(), snapshot(G))).toEqual([]);
  });

  it('a wrong guess of the template (the hint of another set of wheels) is taken out again once Python answers', async () => {
    await made();
    const hints = join(seeds, 'hints.json');
    const all = JSON.parse(readFileSync(hints, 'utf8')) as Record<string, { key: string }>;
    const right = Object.values(all)[0].key;
    const wrong = 'f'.repeat(32);
    execFileSync('cp', ['-al', join(seeds, right), join(seeds, wrong)]); // the same files under another key
    for (const h of Object.values(all)) h.key = wrong;
    writeFileSync(hints, JSON.stringify(all));
    const H = join(root, 'v8', 'venv');
    await make('v8');
    expect(treeDiff(reference(), snapshot(H))).toEqual([]);
    expect(stalePycs(H)).toEqual([]);
    expect(Object.values(JSON.parse(readFileSync(hints, 'utf8')) as Record<string, { key: string }>).map((h) => h.key)).toContain(right);
  });
});
