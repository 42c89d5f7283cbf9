/**
 * The per-user template of pip and setuptools (src/venv/seed-template.ts): a venv linked from it
 * is file for file what a full install makes (paths, modes, contents, RECORD, valid .pyc), pip
 * works in it, pip runs in it leave the template alone, and a file edited in place through a
 * venv's link is never handed out again.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVenv, findPython } from '../src/venv/create.js';
import { hermeticEnv, removeDir, tempDir } from './helpers/env.js';
import { sitePackages } from './helpers/probe.js';
import { snapshot, treeDiff } from './helpers/tree.js';
import { buildWheel } from './helpers/wheels.js';

let work: string;
let python: string;
let seeds: string;
let P: string;
const env = () => hermeticEnv({ PIP_NO_INDEX: '1' });
const sh = (cmd: string, ...args: string[]) => execFileSync(cmd, args, { env: env(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
// Same basename and path length everywhere: scripts and activate differ only by <ROOT>.
const venvAt = (tag: string) => {
  mkdirSync(join(work, tag));
  return join(work, tag, 'venv');
};
const make = (tag: string) => createVenv(venvAt(tag), python, { pycCache: join(work, 'pyc'), seedCache: seeds });
const template = () =>
  join(
    seeds,
    readdirSync(seeds).find((n) => /^[0-9a-f]{32}$/.test(n))!,
  );

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

beforeAll(() => {
  work = tempDir('pyctl-seed-');
  seeds = join(work, 'seeds');
  python = findPython('3.11');
  P = venvAt('p0');
  execFileSync(python, ['-m', 'venv', P], { env: env() });
});
afterAll(() => removeDir(work));

describe('pip and setuptools linked from the per-user template', () => {
  it('the first venv is installed and kept; the next is linked and equals python -m venv file for file', async () => {
    await make('v1');
    expect(readdirSync(seeds).filter((n) => /^[0-9a-f]{32}$/.test(n))).toHaveLength(1);
    const A = join(work, 'v1', 'venv');
    const pipInit = join(sitePackages(A), 'pip', '__init__.py');
    expect(statSync(pipInit).nlink).toBe(2); // the venv's file and the template's

    const B = join(work, 'v2', 'venv');
    await make('v2');
    expect(statSync(join(sitePackages(B), 'pip', '__init__.py')).ino).toBe(statSync(pipInit).ino);
    expect(treeDiff(snapshot(P), snapshot(B))).toEqual([]);
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
    const before = templateState();
    const C = join(work, 'v3', 'venv');
    await make('v3');
    expect(sh(join(C, 'bin', 'pip'), '--version')).toContain(`${sitePackages(C)}/pip`);
    expect(sh(join(C, 'bin', 'python'), '-m', 'pip', 'check')).toMatch(/No broken requirements/);
    const wheels = join(work, 'wheels');
    buildWheel(wheels, { name: 'tiny', version: '1.0', scripts: { tiny: 'tiny:main' } });
    sh(join(C, 'bin', 'pip'), 'install', '--find-links', wheels, 'tiny');
    expect(sh(join(C, 'bin', 'tiny'))).toBe('tiny 1.0\n');
    // An upgrade and a reinstall both remove pip's files and write new ones.
    const pipWheel = sh(python, '-c', 'import ensurepip, glob, os; print(glob.glob(os.path.dirname(ensurepip.__file__) + "/_bundled/pip-*.whl")[0])').trim();
    sh(join(C, 'bin', 'python'), '-m', 'pip', 'install', '--force-reinstall', '--no-deps', pipWheel);
    sh(join(C, 'bin', 'python'), '-m', 'pip', 'uninstall', '-y', 'setuptools');
    expect(templateState()).toEqual(before);
    const D = join(work, 'v4', 'venv');
    await make('v4');
    expect(statSync(join(sitePackages(D), 'pip', '__init__.py')).nlink).toBeGreaterThanOrEqual(3); // still linked: the template was kept
    expect(treeDiff(snapshot(P), snapshot(D))).toEqual([]);
  });

  it('a file edited in place through a venv makes the template stale: the next venv gets the original, and a new template', async () => {
    const A = join(work, 'v1', 'venv');
    const edited = join(sitePackages(A), 'pip', '__init__.py');
    const original = readFileSync(edited, 'utf8');
    appendFileSync(edited, '# edited in place\n'); // same inode: the template's copy changed too
    const E = join(work, 'v5', 'venv');
    await make('v5');
    expect(readFileSync(join(sitePackages(E), 'pip', '__init__.py'), 'utf8')).toBe(original);
    expect(statSync(join(sitePackages(E), 'pip', '__init__.py')).ino).not.toBe(statSync(edited).ino);
    expect(treeDiff(snapshot(P), snapshot(E))).toEqual([]);
    expect(stalePycs(E)).toEqual([]);
    // The new template is E's own files; the next venv links them.
    const F = join(work, 'v6', 'venv');
    await make('v6');
    expect(statSync(join(sitePackages(F), 'pip', '__init__.py')).ino).toBe(statSync(join(sitePackages(E), 'pip', '__init__.py')).ino);
    expect(treeDiff(snapshot(P), snapshot(F))).toEqual([]);
  });

  it('a chmod through a venv is caught too', async () => {
    const F = join(work, 'v6', 'venv');
    execFileSync('chmod', ['600', join(sitePackages(F), 'pip', '__main__.py')]);
    const G = join(work, 'v7', 'venv');
    await make('v7');
    expect((statSync(join(sitePackages(G), 'pip', '__main__.py')).mode & 0o777).toString(8)).toBe((statSync(join(sitePackages(P), 'pip', '__main__.py')).mode & 0o777).toString(8));
    expect(treeDiff(snapshot(P), snapshot(G))).toEqual([]);
  });

  it('a wrong guess of the template (the hint of another set of wheels) is taken out again once Python answers', async () => {
    const hints = join(seeds, 'hints.json');
    const all = JSON.parse(readFileSync(hints, 'utf8')) as Record<string, { key: string }>;
    const right = Object.values(all)[0].key;
    const wrong = 'f'.repeat(32);
    execFileSync('cp', ['-al', join(seeds, right), join(seeds, wrong)]); // the same files under another key
    for (const h of Object.values(all)) h.key = wrong;
    writeFileSync(hints, JSON.stringify(all));
    const H = join(work, 'v8', 'venv');
    await make('v8');
    expect(treeDiff(snapshot(P), snapshot(H))).toEqual([]);
    expect(stalePycs(H)).toEqual([]);
    expect(Object.values(JSON.parse(readFileSync(hints, 'utf8')) as Record<string, { key: string }>).map((h) => h.key)).toContain(right);
  });
});
