/**
 * Every fault point of every operation that changes the venv, table-driven: kill (SIGKILL), Ctrl-C
 * (SIGINT to the process group, as a terminal sends it) or a full disk (injected ENOSPC) at each
 * write step (src/debug/faults.ts; docs/safety.md lists the points and the rows that drive them).
 * After each: the venv is as it was (rolled back) or as recorded (completed, or recovered by the
 * next command), no dist-info lacks its RECORD, no temp file, journal or side copy is left, pip
 * runs where the operation seeded it (clean, init), and `git fsck --strict` is clean. Real venvs, real pip, the real git CLI.
 * The rows of undo/redo/restore, clean and a recorded pip run share one home: each row starts from
 * a state built once per file with pyctl itself and put back (helpers/states.ts, linkCache: none of
 * these operations writes into pip's files in place), so rows do not depend on each other's
 * outcome and run alone or shuffled. init's rows start from nothing, each in its own home.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, git, installedSet, pip, pyctl } from './helpers/cli.js';
import { fsck, head, recordedFreeze, sitePackages } from './helpers/probe.js';
import { hermeticEnv, removeDir, tempDir } from './helpers/env.js';
import { tempLeftovers } from './helpers/leftovers.js';
import { killGroup, startUntil } from './helpers/process.js';
import { run as runProcess } from './helpers/run.js';
import { HomeStates } from './helpers/states.js';
import { buildWheels } from './helpers/wheels.js';

let root: string;
let wheels: string;
/** The home of every row but init's. */
let h: string;
let states: HomeStates;

beforeAll(() => {
  root = tempDir();
  wheels = buildWheels(
    join(root, 'wheels'),
    ['f1', 'f2', 'f3', 'g1'].map((name) => ({ name, version: '1.0' })),
  );
  h = join(root, 'home');
  states = new HomeStates(h, join(root, 'states'), [], { linkCache: true });
});
afterAll(() => removeDir(root));

/** Just initialised, then snapshot `none` (no f1, f3). */
const none = () =>
  states.given('none', async () => {
    removeDir(h);
    expect((await pyctl(h, ['init'])).exitCode).toBe(0);
    expect((await pyctl(h, ['snapshot', 'none'])).exitCode).toBe(0);
  });
/** Snapshot `none`, then `fp` (f1 and f3 installed by pip). */
const base = () =>
  states.given('base', async () => {
    await none();
    expect((await pip(join(h, 'venv'), ['install', 'f1', 'f3'], { wheels })).exitCode).toBe(0);
    expect((await pyctl(h, ['snapshot', 'fp'])).exitCode).toBe(0);
  });

type Fault = 'SIGKILL' | 'SIGINT' | 'ENOSPC';

interface Faulted {
  code: number | null;
  err: string;
}

/** Run `cmd` with `fault` at `point`; SIGKILL and SIGINT wait for the point's pause. */
async function inject(cmd: string, args: string[], env: Record<string, string>, point: string, fault: Fault, atPause?: () => void): Promise<Faulted> {
  if (fault === 'ENOSPC') {
    const r = await runProcess(cmd, args, hermeticEnv({ NO_COLOR: '1', ...env, PYCTL_TEST_FAIL_AT: point }));
    return { code: r.exitCode, err: r.stderr };
  }
  const run = await startUntil(cmd, args, new RegExp(`test pause at ${point}`), { env: { NO_COLOR: '1', ...env, PYCTL_TEST_PAUSE_AT: point } });
  atPause?.();
  if (fault === 'SIGKILL') await killGroup(run.child);
  else process.kill(-run.child.pid!, 'SIGINT');
  return { code: await run.exit, err: run.stderr() };
}

/**
 * The checks every row ends with, on the home `h` after the next command has run: what is
 * installed is what history says (read by the venv's Python from the dist-info folders pip reads:
 * helpers/cli.ts installedSet, ~0.1 s of CPU where `pip freeze` costs ~0.8 s; rows where the
 * operation seeded pip itself then run pip: pipRecorded).
 */
async function wholeAfter(h: string): Promise<void> {
  const v = join(h, 'venv');
  const sp = sitePackages(v);
  expect(await recordedFreeze(h)).toBe((await installedSet(v)).trim());
  expect(readdirSync(sp).filter((n) => n.endsWith('.dist-info') && !existsSync(join(sp, n, 'RECORD')))).toEqual([]);
  expect(tempLeftovers(h)).toEqual([]);
  expect(readdirSync(h).filter((n) => /^venv\./.test(n) && !/^venv\.trash-/.test(n))).toEqual([]);
  expect(existsSync(join(h, '.git', 'pyctl', 'lock'))).toBe(false);
  expect(existsSync(join(h, '.git', 'pyctl', 'interrupted'))).toBe(false);
  await fsck(h);
}

/**
 * Where the operation seeded pip (clean, init): the venv's own pip runs a real install, its hook
 * records it under its own name, and history again matches the venv. One pip run a row.
 */
async function pipRecorded(h: string, pkg: string): Promise<void> {
  const v = join(h, 'venv');
  const r = await pip(v, ['install', pkg], { wheels });
  expect(r.exitCode, r.stderr).toBe(0);
  expect(await git(h, ['log', '-1', '--format=%s'])).toBe(`pip install ${pkg}`);
  expect(await recordedFreeze(h)).toBe((await installedSet(v)).trim());
}

/**
 * The cache folder for a clean or init stopped at `point`. At `install` it holds no pip/setuptools
 * template (venv/seed-template.ts), .pyc files kept: pip is seeded by the installer, whose
 * `install` point those rows stop at (linking a template has no fault point of its own; its
 * journal is the installer's). At the other points pip is linked from the template, as a user's
 * second venv is: seeding ~1,500 files again there would test nothing more; that is the tests'
 * shared cache (helpers/env.ts), whose template the first `pyctl init` of the run made.
 */
function cacheFor(point: string): string {
  return point === 'install' ? noSeedTemplate() : hermeticEnv().XDG_CACHE_HOME;
}

/**
 * A cache folder without a pip/setuptools template: pip is seeded by the installer. Its .pyc
 * files are the shared cache's (a link to that folder): compiling pip's ~800 modules again would
 * test nothing more.
 */
function noSeedTemplate(): string {
  const xdg = join(root, 'xdg');
  removeDir(join(xdg, 'pyctl', 'seed'));
  const pyc = join(xdg, 'pyctl', 'pyc');
  if (!existsSync(pyc)) {
    const shared = join(hermeticEnv().XDG_CACHE_HOME, 'pyctl', 'pyc');
    mkdirSync(shared, { recursive: true });
    mkdirSync(join(xdg, 'pyctl'), { recursive: true });
    symlinkSync(shared, pyc);
  }
  return xdg;
}

/** The failed run said so in one line (no stack trace) and changed nothing. */
function saidFullDisk(f: Faulted): void {
  expect(f.code, f.err).toBe(1);
  expect(f.err).toMatch(/^error: .*the disk is full \(ENOSPC\)$/m);
  expect(f.err).not.toMatch(/bug in pyctl|\n\s+at /);
}

describe('fault points: undo, redo, restore (item 2)', () => {
  type Op = 'undo-install' | 'undo-remove' | 'redo-install' | 'restore';
  const rows: [Op, string, Fault][] = [
    ['undo-remove', 'reconcile', 'SIGKILL'],
    ['undo-remove', 'commit', 'SIGKILL'],
    ['undo-remove', 'commit', 'ENOSPC'],
    // `install`: a stored package linked back, its RECORD not yet (wheel/link-back.ts).
    ['undo-install', 'install', 'SIGKILL'],
    ['undo-install', 'install', 'SIGINT'],
    ['undo-install', 'install', 'ENOSPC'],
    ['undo-install', 'commit', 'SIGINT'],
    ['restore', 'install', 'SIGKILL'],
    ['restore', 'install', 'SIGINT'],
    ['restore', 'install', 'ENOSPC'],
    ['restore', 'commit', 'ENOSPC'],
    ['redo-install', 'install', 'SIGKILL'],
    ['redo-install', 'install', 'ENOSPC'],
    ['redo-install', 'commit', 'SIGKILL'],
  ];

  const to = async (state: string) => expect((await pyctl(h, ['restore', state])).stderr).not.toMatch(/^error/m);
  /** Each row's starting state: f1 and f3 absent for an undo of their install, a restore or a redo of that install; present for an undo of their removal. */
  const start = (op: Op) =>
    states.given(op === 'undo-remove' ? 'present' : op === 'redo-install' ? 'undone' : 'absent', async () => {
      await base();
      if (op === 'undo-remove') {
        await to('none');
        await to('fp');
        return;
      }
      await to('fp');
      await to('none');
      if (op === 'redo-install') {
        await to('fp');
        expect((await pyctl(h, ['undo'])).exitCode).toBe(0);
      }
    });

  it.each(rows)('%s, %s at %s', async (op, point, fault) => {
    await start(op);
    const args = op === 'restore' ? ['restore', 'fp'] : op === 'redo-install' ? ['redo'] : ['undo'];
    const v = join(h, 'venv');
    const hd = await head(h);
    const before = await installedSet(v);
    const f = await inject(process.execPath, [CLI, ...args], { PYCTL_HOME: h }, point, fault, () => {
      if (point !== 'install') return;
      // Paused half-way through linking a package back: its files are hard links of the store's,
      // its METADATA is there, its RECORD (written last) not yet.
      const sp = sitePackages(v);
      expect(readdirSync(sp).filter((n) => /^f[13]\.py$/.test(n) && statSync(join(sp, n)).nlink > 1).length).toBeGreaterThan(0);
      expect(readdirSync(sp).filter((n) => /^f[13]-1\.0\.dist-info$/.test(n) && existsSync(join(sp, n, 'METADATA')) && !existsSync(join(sp, n, 'RECORD'))).length).toBe(1);
    });
    if (fault === 'ENOSPC') saidFullDisk(f);
    // A full disk while linking a package back names the file it could not write.
    if (fault === 'ENOSPC' && point === 'install') expect(f.err).toMatch(/^error: cannot write .*f[13]-1\.0\.dist-info\/RECORD: the disk is full \(ENOSPC\)/m);
    // Rolled back (130) or, at the commit (past the point of no return), completed.
    if (fault === 'SIGINT') expect(point === 'commit' ? [0, 130] : [130], f.err).toContain(f.code);
    if (fault === 'SIGINT' && f.code === 130) expect(f.err).toMatch(/error: interrupted \(Ctrl-C\): rolled back\n/);
    const rolledBack = fault !== 'SIGKILL' && f.code !== 0;
    if (rolledBack) expect(await head(h)).toBe(hd);
    // The next command finds whatever is left and records it; then everything agrees.
    const sync = await pyctl(h, ['sync']);
    expect(sync.exitCode, sync.stderr).toBe(0);
    // A rolled-back venv is the one HEAD records: sync had nothing to commit. Killed while linking
    // back, the next command takes the half-installed batch out whole and never records it.
    if (rolledBack || (fault === 'SIGKILL' && point === 'install')) {
      expect(await head(h)).toBe(hd);
      expect(await installedSet(v)).toBe(before);
    }
    await wholeAfter(h);
  });
});

describe('fault points: clean (item 2)', () => {
  const rows: [string, Fault][] = [
    // `clean`: the new venv made, its hook not yet (SIGKILL and Ctrl-C there: 'pyctl clean interrupted' above).
    ['clean', 'ENOSPC'],
    // `install`: pip being seeded into the new venv, its RECORD not yet.
    ['install', 'SIGKILL'],
    ['install', 'ENOSPC'],
    ['commit', 'SIGKILL'],
    ['commit', 'SIGINT'],
  ];

  it.each(rows)('clean, %s at %s', async (point, fault) => {
    await base(); // f1 and f3 installed by pip, snapshot `fp`
    const hd = await head(h);
    const f = await inject(process.execPath, [CLI, 'clean'], { PYCTL_HOME: h, XDG_CACHE_HOME: cacheFor(point) }, point, fault);
    if (fault === 'ENOSPC') saidFullDisk(f);
    if (fault === 'SIGINT') expect([0, 130], f.err).toContain(f.code);
    const sync = await pyctl(h, ['sync']);
    expect(sync.exitCode, sync.stderr).toBe(0);
    // All or nothing: the old venv is back (nothing new recorded), or the clean landed whole.
    const now = await head(h);
    if (now === hd) expect(await recordedFreeze(h)).toMatch(/^f1==1\.0$/m);
    else expect(await git(h, ['log', '-1', '--format=%s'])).toBe('pyctl clean');
    if (fault !== 'SIGINT' || f.code !== 0) expect(now).toBe(hd);
    await wholeAfter(h);
    // pip runs, and the hook is in place: pip runs are recorded.
    await pipRecorded(h, 'g1');
  });
});

describe('fault points: init, pip seeded included (item 2)', () => {
  const rows: [string, Fault][] = [
    // `install`: pip being seeded into the new venv, its RECORD not yet; `commit`: operation 0;
    // `ref`: operation 0's objects in place, nothing flushed yet (init flushes all at once before
    // its first ref), the ref not written.
    ['install', 'SIGKILL'],
    ['install', 'SIGINT'],
    ['install', 'ENOSPC'],
    ['commit', 'SIGKILL'],
    ['commit', 'ENOSPC'],
    ['ref', 'SIGKILL'],
    ['ref', 'ENOSPC'],
  ];
  let n = 0;

  it.each(rows)('init, %s at %s', async (point, fault) => {
    const h = join(root, `home-init-${++n}`);
    const f = await inject(process.execPath, [CLI, 'init'], { PYCTL_HOME: h, XDG_CACHE_HOME: cacheFor(point) }, point, fault);
    if (fault === 'ENOSPC') saidFullDisk(f);
    if (fault === 'SIGINT') {
      expect(f.code, f.err).toBe(130);
      expect(f.err).toMatch(/^error: interrupted \(Ctrl-C\): nothing was set up$/m);
    }
    // A first init that fails or is interrupted leaves no home behind; a killed one leaves what
    // the next init cleans up.
    if (fault !== 'SIGKILL') expect(existsSync(h)).toBe(false);
    const again = await pyctl(h, ['init']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/history: operation 0 recorded, snapshot 'baseline' made/);
    await wholeAfter(h);
    await pipRecorded(h, 'f1');
    removeDir(h);
  });

  it('init killed before its first ref, then a power cut empties every file it had not flushed yet: init again works', async () => {
    const h = join(root, `home-init-${++n}`);
    await inject(process.execPath, [CLI, 'init'], { PYCTL_HOME: h, XDG_CACHE_HOME: noSeedTemplate() }, 'ref', 'SIGKILL');
    // A first init flushes nothing (fs/durable.ts withoutFlushes; the first record after it
    // pays, operations/first-flush.ts): the worst a power cut leaves of its files is each one empty.
    const site = join(h, 'venv', 'lib', readdirSync(join(h, 'venv', 'lib'))[0], 'site-packages');
    const objects = join(h, '.git', 'objects');
    const loose = readdirSync(objects)
      .filter((d) => /^[0-9a-f]{2}$/.test(d))
      .flatMap((d) => readdirSync(join(objects, d)).map((f) => join(objects, d, f)));
    expect(loose.length).toBeGreaterThan(0);
    for (const f of [...loose, join(h, 'config.toml'), join(h, '.gitignore'), join(h, '.git', 'HEAD'), join(h, '.git', 'config'), join(site, '_pyctl_hook.py'), join(site, 'zz_pyctl.pth')]) {
      truncateSync(f);
    }
    const again = await pyctl(h, ['init']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/history: operation 0 recorded, snapshot 'baseline' made/);
    await wholeAfter(h);
    expect(readFileSync(join(h, 'config.toml'), 'utf8')).toMatch(/\[snapshots\]/);
    await pipRecorded(h, 'f1');
    removeDir(h);
  });
});

describe("fault points: a recorded pip run's record (item 2)", () => {
  // `commit`: the record's freeze.txt written and staged, the commit not yet (the hook -> the record lane).
  const rows: Fault[] = ['SIGKILL', 'SIGINT', 'ENOSPC'];

  it.each(rows)('pip install, commit at %s', async (fault) => {
    await none();
    const hd = await head(h);
    const f = await inject(join(h, 'venv', 'bin', 'pip'), ['install', 'f2'], { PIP_NO_INDEX: '1', PIP_FIND_LINKS: wheels }, 'commit', fault);
    if (fault === 'ENOSPC') {
      expect(f.code, f.err).toBe(0); // pip's own status stands
      expect(f.err).toMatch(/pyctl: this pip run was not recorded: cannot write .*: the disk is full \(ENOSPC\)/);
    }
    const sync = await pyctl(h, ['sync']);
    expect(sync.exitCode, sync.stderr).toBe(0);
    // Recorded once: as the pip run itself, or (its record cut short) found by the next command
    // under the pip run's name, marked interrupted; never lost, never an anonymous change.
    expect(await git(h, ['rev-list', '--count', `${hd}..HEAD`])).toBe('1');
    const subject = await git(h, ['log', '-1', '--format=%s']);
    expect(['pip install f2', 'interrupted pip install (found after a crash)']).toContain(subject);
    expect(await git(h, ['log', '-1', '--format=%B'])).toMatch(/^\+ f2 1\.0$/m);
    await wholeAfter(h);
  });
});
