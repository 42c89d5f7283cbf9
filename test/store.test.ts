/**
 * Stored packages (wheel/package-store.ts) against real homes, real pip and real git: what pip
 * installs is hard-linked into the home's store when the run is recorded (no wheel is built);
 * undo and redo link it back file for file as pip wrote it (.pyc and RECORD included); a stored
 * copy edited through the venv is never handed out again; pip uninstall of linked files leaves
 * the store intact; `wheelhouse --build` makes wheels pip installs; a venv on another
 * filesystem than the home (EXDEV) still undoes and redoes. Every test starts from a state of
 * one home put back by HomeStates (helpers/states.ts), so each passes alone or shuffled.
 */
import { createHash } from 'node:crypto';
import { execa } from 'execa';
import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pip, pyctl } from './helpers/cli.js';
import { sitePackages } from './helpers/probe.js';
import { hermeticEnv, removeDir, tempDir } from './helpers/env.js';
import { HomeStates } from './helpers/states.js';
import { buildWheels, wheelFileName } from './helpers/wheels.js';
import { storedFor } from '../src/reconcile/sources.js';
import { checkStored, isStoredInstall, readStored } from '../src/wheel/package-store.js';
import { readInstalled } from '../src/venv/freeze.js';

let root: string;
let wheels: string;
let home: string;
let venv: string;
let states: HomeStates;

/** pip with .pyc files written, as a user's pip does (the hermetic env turns bytecode off). */
const pipc = (venv: string, args: string[]) => pip(venv, args, { wheels, env: { PYTHONDONTWRITEBYTECODE: undefined } });
const run = (home: string, args: string[]) => pyctl(home, args, { PIP_NO_INDEX: '1', PIP_FIND_LINKS: wheels });

/** Every file of a package's installation (RECORD's paths): mode, size and sha256, .pyc included. */
function installed(venv: string, dist: string): Record<string, string> {
  const site = sitePackages(venv);
  const out: Record<string, string> = {};
  for (const line of readFileSync(join(site, dist, 'RECORD'), 'utf8').split('\r\n')) {
    const p = line.split(',')[0];
    if (!p) continue;
    const abs = join(site, p);
    if (!existsSync(abs)) continue;
    const st = lstatSync(abs);
    out[p] = `${(st.mode & 0o7777).toString(8)} ${st.size} ${createHash('sha256').update(readFileSync(abs)).digest('hex')}`;
  }
  return out;
}

const storedNames = (home: string) => {
  try {
    return readdirSync(join(home, '.git', 'pyctl', 'packages')).sort();
  } catch {
    return [];
  }
};

beforeAll(() => {
  root = tempDir('pyctl-store-');
  home = join(root, 'home');
  venv = join(home, 'venv');
  // linkCache links only the per-user cache's files: the files a test here edits in place are copies.
  states = new HomeStates(home, join(root, 'states'), [], { linkCache: true });
  wheels = buildWheels(join(root, 'wheels'), [
    {
      name: 'alpha',
      version: '1.0',
      scripts: { 'alpha-cli': 'alpha.core:main' },
      files: { 'alpha/__init__.py': 'X = 1\n', 'alpha/core.py': 'def main():\n    print(42)\n', 'alpha/empty/__init__.py': '' },
      data: { 'scripts/alpha-tool': '#!python\nprint("tool")\n', 'data/share/alpha/notes.txt': 'notes\n' },
      executable: ['alpha-1.0.data/scripts/alpha-tool'],
    },
    { name: 'beta', version: '2.0', files: { 'beta/__init__.py': 'Y = 2\n', 'beta/empty/__init__.py': '' } },
    // Installed from its file, as `pip install ./torch-2.13.0+cpu-….whl`: freeze names no version.
    { name: 'gamma', version: '1.0+cpu', files: { 'gamma/__init__.py': 'Z = 3\n', 'gamma/sub/mod.py': 'W = 4\n' } },
    // req-dep comes once as asked for (REQUESTED) and once as req-top's dependency (none).
    { name: 'req-top', version: '1.0', requires: ['req-dep'], files: { 'req_top.py': 'T = 1\n' } },
    { name: 'req-dep', version: '1.0', files: { 'req_dep/__init__.py': 'D = 1\n', 'req_dep/more.py': 'M = 2\n' } },
    ...['same', 'trunc', 'append', 'chmod'].map((k) => ({ name: `edit-${k}`, version: '1.0', files: { [`edit_${k}.py`]: 'VALUE = "original"\n' } })),
  ]);
});
afterAll(() => removeDir(root));

// The states tests start from (helpers/states.ts), each built once.
const initialised = () =>
  states.given('init', async () => {
    removeDir(home);
    const r = await run(home, ['init']);
    expect(r.exitCode, r.stderr).toBe(0);
  });
/** alpha and beta installed by pip (with .pyc files), recorded, so stored by linking. */
const installed2 = () =>
  states.given('alpha-beta', async () => {
    await initialised();
    const r = await pipc(venv, ['install', 'alpha', 'beta']);
    expect(r.exitCode, r.stderr).toBe(0);
  });

describe('stored packages: record by linking, undo and redo by linking back', () => {
  it('a recorded pip install is linked into the store (same inodes, no wheel built); undo and redo bring it back identical', async () => {
    await installed2();
    expect(storedNames(home)).toEqual(expect.arrayContaining(['alpha==1.0.json', 'beta==2.0.json']));
    // No wheel was rebuilt for them.
    const house = join(home, 'wheelhouse');
    expect((existsSync(house) ? readdirSync(house) : []).filter((f) => /^(alpha|beta)-/.test(f))).toEqual([]);
    const site = sitePackages(venv);
    const core = join(site, 'alpha', 'core.py');
    expect(statSync(core).nlink).toBeGreaterThanOrEqual(2);
    const pycs = readdirSync(join(site, 'alpha', '__pycache__'));
    expect(pycs.length).toBeGreaterThan(0);
    expect(statSync(join(site, 'alpha', '__pycache__', pycs[0])).nlink).toBeGreaterThanOrEqual(2);
    const before = { alpha: installed(venv, 'alpha-1.0.dist-info'), beta: installed(venv, 'beta-2.0.dist-info') };
    expect(Object.keys(before.alpha).some((p) => p.endsWith('.pyc'))).toBe(true);
    const binTool = readFileSync(join(venv, 'bin', 'alpha-tool'), 'utf8');

    const u = await run(home, ['undo']);
    expect(u.exitCode, u.stderr).toBe(0);
    expect(existsSync(core)).toBe(false);
    const redo = await run(home, ['--verbose', 'redo']);
    expect(redo.exitCode, redo.stderr).toBe(0);
    expect(redo.stderr).toMatch(/link alpha 1\.0 back from the store/);
    expect(redo.stderr).not.toMatch(/pip (install|wheel)/);
    expect({ alpha: installed(venv, 'alpha-1.0.dist-info'), beta: installed(venv, 'beta-2.0.dist-info') }).toEqual(before);
    expect(readFileSync(join(venv, 'bin', 'alpha-tool'), 'utf8')).toBe(binTool);
    expect(statSync(join(venv, 'bin', 'alpha-cli')).mode & 0o111).toBeTruthy();
    // The interpreter accepts the linked .pyc files as they are: importing writes nothing new.
    const pyc = join(site, 'alpha', '__pycache__', pycs[0]);
    const ino = statSync(pyc).ino;
    const imp = await execa(join(venv, 'bin', 'python'), ['-c', 'import alpha.core; alpha.core.main()'], { env: hermeticEnv({ PYTHONDONTWRITEBYTECODE: undefined }), extendEnv: false });
    expect(imp.stdout).toBe('42');
    expect(statSync(pyc).ino).toBe(ino);
    expect((await pip(venv, ['check'])).exitCode).toBe(0);
  });

  it('pip uninstall of linked files leaves the store intact: undo links them back', async () => {
    await installed2();
    const before = installed(venv, 'beta-2.0.dist-info');
    const r = await pipc(venv, ['uninstall', '-y', 'beta']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(existsSync(join(sitePackages(venv), 'beta'))).toBe(false);
    const u = await run(home, ['--verbose', 'undo']);
    expect(u.exitCode, u.stderr).toBe(0);
    expect(u.stderr).toMatch(/link beta 2\.0 back from the store/);
    expect(installed(venv, 'beta-2.0.dist-info')).toEqual(before);
  });

  it('a stored file edited through the venv (same size, truncated, appended, chmod) is refused; the original comes back through pip', async () => {
    await installed2();
    const kinds = ['same', 'trunc', 'append', 'chmod'];
    const r = await pipc(venv, ['install', ...kinds.map((k) => `edit-${k}`)]);
    expect(r.exitCode, r.stderr).toBe(0);
    const site = sitePackages(venv);
    const file = (k: string) => join(site, `edit_${k}.py`);
    // Edits in place: the venv's file and the stored copy are one inode.
    writeFileSync(file('same'), 'VALUE = "EDITED!!"\n', { flag: 'r+' });
    truncateSync(file('trunc'), 5);
    appendFileSync(file('append'), 'EXTRA = 1\n');
    chmodSync(file('chmod'), 0o755);
    const doctor = await run(home, ['doctor']);
    expect(doctor.stdout).toMatch(/stored copies edited or missing/);
    for (const k of kinds) expect(doctor.stdout).toContain(`edit-${k} 1.0`);
    // Taken out by an undo (pyctl's own removal, not a pip run) and brought back by the redo.
    const out = await run(home, ['undo']);
    expect(out.exitCode, out.stderr).toBe(0);
    for (const k of kinds) expect(existsSync(file(k))).toBe(false);
    const u = await run(home, ['redo']);
    expect(u.exitCode, u.stderr).toBe(0);
    for (const k of kinds) {
      expect(u.stderr).toMatch(new RegExp(`not using the stored copy of edit-${k} 1\\.0`));
      expect(readFileSync(file(k), 'utf8')).toBe('VALUE = "original"\n');
      expect(statSync(file(k)).mode & 0o777).toBe(0o644 & ~process.umask());
    }
    // Now stored afresh from the reinstalled files: doctor is happy again.
    expect((await run(home, ['doctor'])).stdout).toMatch(/stored package\(s\), every file matches its RECORD/);
  });

  it('a stat change with the same content (touch) is checked by hash and accepted', async () => {
    await installed2();
    const site = sitePackages(venv);
    const f = join(site, 'alpha', 'core.py');
    const t = new Date(Date.now() - 3600_000);
    utimesSync(f, t, t);
    // Taken out by an undo (pyctl's own removal, not a pip run), brought back by the redo.
    const out = await run(home, ['undo']);
    expect(out.exitCode, out.stderr).toBe(0);
    expect(existsSync(f)).toBe(false);
    const u = await run(home, ['--verbose', 'redo']);
    expect(u.exitCode, u.stderr).toBe(0);
    expect(u.stderr).toMatch(/link alpha 1\.0 back from the store/);
    expect(u.stderr).not.toMatch(/not using the stored copy/);
  });

  it('wheelhouse shows shared vs history; --build makes wheels pip installs; --prune keeps what states need', async () => {
    await installed2();
    const w = await run(home, ['--json', 'wheelhouse', '--build']);
    expect(w.exitCode, w.stderr).toBe(0);
    const j = JSON.parse(w.stdout) as { built: string[]; stored: { name: string }[] };
    expect(j.built).toEqual(expect.arrayContaining(['alpha-1.0-py3-none-any.whl', 'beta-2.0-py3-none-any.whl']));
    expect(j.stored.map((s) => s.name)).toEqual(expect.arrayContaining(['alpha', 'beta']));
    // Into a plain folder (--target: one pip run; into another venv, `pip --python` starts pip
    // twice): the home's pip installs the built wheels, and alpha's console script runs from there.
    const plain = join(root, 'plain');
    removeDir(plain);
    const inst = await execa(join(venv, 'bin', 'python'), ['-m', 'pip', 'install', '--no-index', '--find-links', join(home, 'wheelhouse'), '--target', plain, 'alpha', 'beta'], {
      env: hermeticEnv({ PYCTL_NO_RECORD: '1' }),
      extendEnv: false,
      reject: false,
    });
    expect(inst.exitCode, inst.stderr).toBe(0);
    const out = await execa(join(plain, 'bin', 'alpha-cli'), [], { env: hermeticEnv({ PYTHONPATH: plain }), extendEnv: false, reject: false });
    expect(out.exitCode, out.stderr).toBe(0);
    expect(out.stdout).toBe('42');
    const text = (await run(home, ['wheelhouse', '--list'])).stdout;
    expect(text).toMatch(/stored packages: .*\n {2}\d+ version\(s\): \d+ share their files with the venv/);
    expect(text).toMatch(/ {4}alpha 1\.0 {2}shared with the venv/);
    const pruned = await run(home, ['wheelhouse', '--prune']);
    expect(pruned.exitCode, pruned.stderr).toBe(0);
    expect(storedNames(home)).toEqual(expect.arrayContaining(['alpha==1.0.json', 'beta==2.0.json']));
  });
});

describe('a redo that writes REQUESTED anew (the stored copy was a dependency, the name was once asked for)', () => {
  it("keeps the stored index on the new RECORD: the redo's record does not store it again, undo and redo take the stored copy as is", async () => {
    const dirs = { files: join(home, '.git', 'pyctl', 'files'), packages: join(home, '.git', 'pyctl', 'packages') };
    const dep = () => readInstalled(venv).find((d) => d.key === 'req-dep')!;
    const info = () => join(sitePackages(venv), 'req_dep-1.0.dist-info');
    await initialised();
    // Asked for once (requested.json remembers it), then taken out (by an undo: pyctl's own removal,
    // not a pip run) and pulled in as a dependency.
    expect((await pipc(venv, ['install', 'req-dep'])).exitCode).toBe(0);
    expect((await run(home, ['undo'])).exitCode).toBe(0);
    expect(existsSync(info())).toBe(false);
    expect((await pipc(venv, ['install', 'req-top'])).exitCode).toBe(0);
    expect(existsSync(join(info(), 'REQUESTED'))).toBe(false);
    expect(isStoredInstall(dirs, dep(), venv)).toBe(true);
    expect((await run(home, ['undo'])).exitCode).toBe(0);
    const redo = await run(home, ['--verbose', 'redo']);
    expect(redo.exitCode, redo.stderr).toBe(0);
    expect(redo.stderr).toMatch(/link req-dep 1\.0 back from the store/);
    // The redo gives it REQUESTED, so its RECORD is a new file, not the stored one...
    expect(existsSync(join(info(), 'REQUESTED'))).toBe(true);
    expect(readFileSync(join(info(), 'RECORD'), 'utf8')).toMatch(/^req_dep-1\.0\.dist-info\/REQUESTED,/m);
    // ...and the stored index follows it: this very install is the stored copy, as after pip, so
    // the redo's record does not store its files again (torch: 14,622 links tried, 3 MB of index).
    expect(isStoredInstall(dirs, dep(), venv)).toBe(true);
    expect(redo.stderr).toMatch(/record: venv read and compared in \d+ ms/);
    expect(redo.stderr).not.toMatch(/kept req-dep 1\.0 in the store/);
    expect(checkStored(dirs, readStored(dirs, 'req-dep', '1.0')!).ok).toBe(true);
    const before = installed(venv, 'req_dep-1.0.dist-info');
    expect((await run(home, ['undo'])).exitCode).toBe(0);
    expect(existsSync(info())).toBe(false);
    const again = await run(home, ['--verbose', 'redo']);
    expect(again.stderr).toMatch(/link req-dep 1\.0 back from the store/);
    expect(installed(venv, 'req_dep-1.0.dist-info')).toEqual(before);
  });
});

describe('a package pip installed from a wheel file (a direct URL: freeze names no version)', () => {
  it('redo and restore link it back from the store, not from its wheel', async () => {
    await initialised();
    expect((await run(home, ['snapshot', 'without'])).exitCode).toBe(0);
    const r = await pipc(venv, ['install', join(wheels, wheelFileName('gamma', '1.0+cpu'))]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(join(home, 'freeze.txt'), 'utf8')).toMatch(/^gamma @ file:\/\/.*gamma-1\.0%2Bcpu-py3-none-any\.whl(#sha256=[0-9a-f]{64})?$/m);
    expect(storedNames(home)).toContain('gamma==1.0%2Bcpu.json');
    const before = installed(venv, 'gamma-1.0+cpu.dist-info');
    expect(Object.keys(before).some((p) => p.endsWith('.pyc'))).toBe(true);
    expect((await run(home, ['snapshot', 'with'])).exitCode).toBe(0);
    for (const [back, forth] of [
      [['undo'], ['redo']],
      [
        ['restore', 'without'],
        ['restore', 'with'],
      ],
    ]) {
      const u = await run(home, back);
      expect(u.exitCode, u.stderr).toBe(0);
      expect(existsSync(join(sitePackages(venv), 'gamma'))).toBe(false);
      const again = await run(home, ['--verbose', ...forth]);
      expect(again.exitCode, again.stderr).toBe(0);
      expect(again.stderr).toMatch(/link gamma 1\.0\+cpu back from the store/);
      expect(again.stderr).not.toMatch(/install from the wheelhouse|pip install/);
      expect(installed(venv, 'gamma-1.0+cpu.dist-info')).toEqual(before);
    }
    expect(readFileSync(join(home, 'freeze.txt'), 'utf8')).toMatch(/^gamma @ file:\/\/.*gamma-1\.0%2Bcpu-py3-none-any\.whl(#sha256=[0-9a-f]{64})?$/m);
  });
});

describe("operation 0's pip and setuptools: their store entries name the seed template's files", () => {
  // Two homes and their own per-user cache under one folder (cp -a keeps the links between
  // them): A's init made the template, B's linked pip and setuptools from it.
  let tpl: string;
  let tplStates: HomeStates;
  const xdg = () => join(tpl, 'xdg');
  const homeA = () => join(tpl, 'a');
  const homeB = () => join(tpl, 'b');
  const inB = (args: string[]) => pyctl(homeB(), args, { PIP_NO_INDEX: '1', XDG_CACHE_HOME: xdg() });
  const pipB = (args: string[]) => pip(join(homeB(), 'venv'), args, { env: { XDG_CACHE_HOME: xdg(), PYTHONDONTWRITEBYTECODE: undefined } });
  const dirsB = () => ({ files: join(homeB(), '.git', 'pyctl', 'files'), packages: join(homeB(), '.git', 'pyctl', 'packages') });
  const pipDist = () => readdirSync(sitePackages(join(homeB(), 'venv'))).find((n) => /^pip-.*\.dist-info$/.test(n))!;
  const pipVersion = () => pipDist().slice(4, -'.dist-info'.length);
  const twoHomes = () =>
    tplStates.given('two-homes', async () => {
      removeDir(tpl);
      mkdirSync(tpl);
      for (const h of [homeA(), homeB()]) {
        const r = await pyctl(h, ['init'], { XDG_CACHE_HOME: xdg() });
        expect(r.exitCode, r.stderr).toBe(0);
      }
    });
  /** B's pip as init left it, before the uninstall below: checked there, compared with after the undo. */
  let bPip: { dist: string; files: Record<string, string> };
  /** A's pip/__init__.py: A's pip is linked from the template, so this is the template's file. */
  const templateInit = () => join(sitePackages(join(homeA(), 'venv')), 'pip', '__init__.py');
  /**
   * Then B's `pip uninstall -y pip`, recorded as B's operation 1: what the undos below take back.
   * B's store entries are checked first, as init left them (their result is the first test's).
   */
  const bPipGone = () =>
    tplStates.given('b-pip-gone', async () => {
      await twoHomes();
      const e = readStored(dirsB(), 'pip', pipVersion())!;
      expect(e.shared).toBe(
        join(
          xdg(),
          'pyctl',
          'seed',
          readdirSync(join(xdg(), 'pyctl', 'seed')).find((n) => /^[0-9a-f]{32}$/.test(n))!,
        ),
      );
      // Only what is B's own (RECORD, the console scripts) is linked into B's store: a handful, not ~1,470.
      expect(e.files.filter((f) => f[1].startsWith('@')).length).toBeGreaterThan(500);
      expect(readdirSync(dirsB().files).length).toBeLessThan(20);
      expect(readdirSync(join(homeA(), '.git', 'pyctl', 'files')).length).toBeGreaterThan(1000);
      // The record takes the install for the stored copy (nothing to store again), and doctor hashes every file.
      const venvB = join(homeB(), 'venv');
      for (const d of readInstalled(venvB)) expect(isStoredInstall(dirsB(), d, venvB), d.name).toBe(true);
      expect(checkStored(dirsB(), e, true)).toMatchObject({ ok: true });
      const init = join(sitePackages(venvB), 'pip', '__init__.py');
      expect(statSync(init).ino).toBe(statSync(templateInit()).ino); // B's pip is the template's files too
      bPip = { dist: pipDist(), files: installed(venvB, pipDist()) };
      expect((await pipB(['uninstall', '-y', 'pip'])).exitCode).toBe(0);
      expect(existsSync(init)).toBe(false);
    });
  beforeAll(() => {
    tpl = join(root, 'tpl');
    tplStates = new HomeStates(tpl, join(root, 'tpl-states'));
  });

  it('B stores no second link of their files; pip uninstalled and undone comes back linked from the template, as it was', async () => {
    // B's store entries, as init left them, are checked by the state's build (before the uninstall).
    await bPipGone();
    const root_ = join(homeB(), 'venv');
    const init = join(sitePackages(root_), 'pip', '__init__.py');
    const u = await inB(['--verbose', 'undo']);
    expect(u.exitCode, u.stderr).toBe(0);
    expect(u.stderr).toMatch(/link pip \S+ back from the store/);
    expect(u.stderr).not.toMatch(/not using the stored copy|install from the wheelhouse/);
    expect(statSync(init).ino).toBe(statSync(templateInit()).ino); // the template's file itself
    expect(pipDist()).toBe(bPip.dist);
    expect(installed(root_, bPip.dist)).toEqual(bPip.files);
    expect((await inB(['doctor'])).stdout).toMatch(/ok +store +\d+ stored package\(s\), every file matches its RECORD\n/);
  });

  it("a template file edited in place through another venv (A's, the same inode) is never brought back: B's undo installs the wheel", async () => {
    await bPipGone();
    const edited = join(sitePackages(join(homeA(), 'venv')), 'pip', '__init__.py');
    const original = readFileSync(edited, 'utf8');
    appendFileSync(edited, '# edited in place\n');
    const u = await inB(['--verbose', 'undo']);
    expect(u.exitCode, u.stderr).toBe(0);
    expect(u.stderr).toMatch(/not using the stored copy of pip \S+: lib\/.*pip\/__init__\.py: edited/);
    expect(u.stderr).toMatch(/install from the wheelhouse .*pip-/);
    const back = join(sitePackages(join(homeB(), 'venv')), 'pip', '__init__.py');
    expect(readFileSync(back, 'utf8')).toBe(original);
    expect(statSync(back).ino).not.toBe(statSync(edited).ino);
    expect((await pipB(['--version'])).exitCode).toBe(0);
  });

  it('the template gone (a cleared ~/.cache): undo installs the wheel, and doctor says why without calling it a problem', async () => {
    await bPipGone();
    removeDir(join(xdg(), 'pyctl', 'seed'));
    const d = await inB(['doctor']);
    expect(d.stdout).toMatch(/ok +store +\d+ stored package\(s\), every file matches its RECORD \(pip .*kept in a seed template since removed/);
    const u = await inB(['--verbose', 'undo']);
    expect(u.exitCode, u.stderr).toBe(0);
    expect(u.stderr).toMatch(/not using the stored copy of pip \S+: .*its stored copy is missing \(it was kept in the seed template /);
    expect(u.stderr).toMatch(/install from the wheelhouse .*pip-/);
    expect((await pipB(['--version'])).exitCode).toBe(0);
  });
});

describe('a venv on another filesystem than the home (EXDEV)', () => {
  it('records, undoes and redoes with wheels and copies instead of links', async (t) => {
    const shm = '/dev/shm';
    let other: string;
    try {
      other = mkdtempSync(join(shm, 'pyctl-exdev-'));
    } catch {
      t.skip(); // no tmpfs at /dev/shm here: cannot put the venv on another filesystem
      return;
    }
    try {
      if (statSync(other).dev === statSync(root).dev) {
        t.skip(); // /dev/shm is on the same filesystem as the temp dir here
        return;
      }
      await initialised();
      // beta is stored by links while the venv is still beside the home...
      expect((await pipc(venv, ['install', 'beta'])).exitCode).toBe(0);
      const beta = installed(venv, 'beta-2.0.dist-info');
      // ...then the venv moves to tmpfs (the home and its store stay): links across fail with EXDEV.
      await execa('cp', ['-a', venv, join(other, 'venv')]);
      removeDir(venv);
      symlinkSync(join(other, 'venv'), venv);
      expect((await run(home, ['status'])).exitCode).toBe(0);
      expect((await pipc(venv, ['install', 'alpha'])).exitCode).toBe(0);
      const alpha = installed(venv, 'alpha-1.0.dist-info');
      // alpha could not be linked into the store: a wheel was kept instead.
      expect(readdirSync(join(home, 'wheelhouse'))).toContain('alpha-1.0-py3-none-any.whl');
      const u = await run(home, ['undo', '2']);
      expect(u.exitCode, u.stderr).toBe(0);
      expect(existsSync(join(sitePackages(venv), 'alpha'))).toBe(false);
      expect(existsSync(join(sitePackages(venv), 'beta'))).toBe(false);
      const r = await run(home, ['redo']);
      expect(r.exitCode, r.stderr).toBe(0);
      // beta copied back from the store (pip's files, .pyc included), alpha installed from its wheel.
      expect(installed(venv, 'beta-2.0.dist-info')).toEqual(beta);
      const after = installed(venv, 'alpha-1.0.dist-info');
      expect(Object.keys(after).sort()).toEqual(Object.keys(alpha).sort());
      // (.pyc files are compiled anew; console-script wrappers name bin/python where pip's named
      // bin/python3, so their RECORD hashes differ too: the native installer's way, not the store's)
      for (const [p, v] of Object.entries(alpha)) if (!p.endsWith('.pyc') && !p.includes('/bin/') && !p.endsWith('/RECORD')) expect(after[p], p).toBe(v);
      expect((await pip(venv, ['check'])).exitCode).toBe(0);
    } finally {
      removeDir(other);
    }
  });
});

describe('which stored copy a freeze line without a version means (sources.ts storedFor)', () => {
  it('a direct URL finds the one stored version recorded with that line; two are ambiguous; a wheel URL names its version', () => {
    const dirs = { files: join(root, 'sf', 'files'), packages: join(root, 'sf', 'packages') };
    mkdirSync(dirs.packages, { recursive: true });
    const put = (key: string, version: string, line: string) =>
      writeFileSync(
        join(dirs.packages, `${encodeURIComponent(key)}==${encodeURIComponent(version)}.json`),
        JSON.stringify({ v: 1, name: key, key, version, line, venv: '/v', python: '3.11', tags: [], info: '', files: [] }),
      );
    const dir = 'pkg @ file:///src/pkg';
    put('pkg', '1.0', dir);
    put('pkg', '0.9', 'pkg==0.9');
    expect(storedFor(dirs, 'pkg', '', dir)?.version).toBe('1.0');
    // Built again from the same folder at another version: which one a state had is unknown.
    put('pkg', '1.1', dir);
    expect(storedFor(dirs, 'pkg', '', dir)).toBeNull();
    expect(storedFor(dirs, 'pkg', '1.1', dir)?.version).toBe('1.1');
    expect(storedFor(dirs, 'pkg', '', 'pkg @ file:///elsewhere/pkg')).toBeNull();
    // A wheel's file name says its version; a stored copy of another version is not it.
    const whl = 'whl @ file:///w/whl-2.0%2Bcpu-py3-none-any.whl#sha256=00';
    put('whl', '2.0+cpu', whl);
    expect(storedFor(dirs, 'whl', '', whl)?.version).toBe('2.0+cpu');
    expect(storedFor(dirs, 'whl', '', whl.replace('2.0%2Bcpu', '3.0'))).toBeNull();
    put('odd', '1.0', 'odd @ file:///w/odd-2.0-py3-none-any.whl');
    expect(storedFor(dirs, 'odd', '', 'odd @ file:///w/odd-2.0-py3-none-any.whl')).toBeNull();
  });
});

describe('doctor reads every stored file (checkStored with full)', () => {
  it('a same-stat change (bit rot) is found only by the full check; a FIFO in the store is missing, not waited on; a file listed twice is checked', () => {
    const dirs = { files: join(root, 'full', 'files'), packages: join(root, 'full', 'packages') };
    mkdirSync(dirs.files, { recursive: true });
    mkdirSync(dirs.packages, { recursive: true });
    const text = 'print("tool")\n';
    const sha = createHash('sha256').update(text).digest('base64url');
    const name = `${createHash('sha256').update(text).digest('hex')}.644`;
    const at = join(dirs.files, name);
    writeFileSync(at, text, { mode: 0o644 });
    chmodSync(at, 0o644);
    const when = new Date('2024-01-02T03:04:05Z'); // whole seconds: put back exactly below
    utimesSync(at, when, when);
    const st = statSync(at);
    const row = (path: string): [string, string, number, number, number, string] => [path, name, st.size, st.mtimeMs, 0o644, sha];
    // pip's console scripts: three paths, one stored file.
    const e = { v: 1 as const, name: 'rot', key: 'rot', version: '1.0', line: 'rot==1.0', venv: '/v', python: '3.11', tags: [], info: 'x', files: [row('bin/a'), row('bin/b'), row('bin/c')] };
    expect(checkStored(dirs, e, true)).toMatchObject({ ok: true, rechecked: 0 });
    // One bit flipped, size and mtime as they were: what stat cannot see.
    writeFileSync(at, text.replace('t', 'u'), { flag: 'r+' });
    utimesSync(at, when, when);
    expect(statSync(at).mtimeMs).toBe(st.mtimeMs);
    expect(checkStored(dirs, e).ok).toBe(true);
    expect(checkStored(dirs, e, true)).toMatchObject({ ok: false, bad: "bin/a: edited (its content no longer matches RECORD's sha256)" });
    rmSync(at);
    execFileSync('mkfifo', [at]);
    expect(checkStored(dirs, e, true)).toMatchObject({ ok: false, bad: 'bin/a: its stored copy is missing' });
  });
});
