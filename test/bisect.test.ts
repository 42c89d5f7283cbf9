/**
 * History as a debugging tool, against a real venv, real pip and real git: bisect finds the
 * operation and the package change in it that broke a script (in a scratch venv, the user's venv
 * and history untouched), by script or by hand; SIGKILL mid-bisect leaves nothing the next
 * command does not sweep; `pyctl log PKG`; states named by time.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, git, pip, pyctl } from './helpers/cli.js';
import { hermeticEnv, removeDir, tempDir } from './helpers/env.js';
import { killGroup, startUntil, type Started } from './helpers/process.js';
import { HomeStates } from './helpers/states.js';
import { buildWheels } from './helpers/wheels.js';
import { snapshot, treeDiff } from './helpers/tree.js';

let root: string;
let home: string;
let venv: string;
let wheels: string;
let check: string;
let states: HomeStates;

const revCount = () => git(home, ['rev-list', '--count', 'HEAD']);
const commitTime = async (rev: string) => Number(await git(home, ['log', '-1', '--format=%ct', rev]));
const scratchDirs = () => readdirSync(home).filter((n) => n.startsWith('venv.bisect-'));
const ok = async (args: string[]) => {
  const r = await pyctl(home, args);
  expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r;
};
/** Which venv each stored package names (a check may refresh an entry's cached file stats, never this). */
const storeIndex = () => {
  const dir = join(home, '.git', 'pyctl', 'packages');
  const venvOf = (n: string) => (JSON.parse(readFileSync(join(dir, n), 'utf8')) as { venv: string }).venv;
  return existsSync(dir)
    ? Object.fromEntries(
        readdirSync(dir)
          .sort()
          .map((n) => [n, venvOf(n)]),
      )
    : {};
};
/** Everything a bisect must leave alone: the venv's files, the history, the snapshots, the stored packages' index. */
const fingerprint = async () => ({ venv: snapshot(venv), count: await revCount(), head: await git(home, ['rev-parse', 'HEAD']), tags: await git(home, ['tag', '-l']), store: storeIndex() });

beforeAll(async () => {
  root = tempDir();
  home = join(root, 'home');
  venv = join(home, 'venv');
  wheels = buildWheels(join(root, 'wheels'), [
    { name: 'util', version: '1.0' },
    { name: 'util', version: '1.1' },
    { name: 'lib', version: '1.0', files: { 'lib.py': 'BROKEN = False\n' } },
    // The culprit, upgraded beside innocent packages; it needs the util upgrade of the same run.
    { name: 'lib', version: '2.0', files: { 'lib.py': 'BROKEN = True\n' }, requires: ['util>=1.1'] },
    { name: 'extra', version: '1.0' },
    { name: 'skipme', version: '1.0' },
    { name: 'pad1', version: '1.0' },
    { name: 'pad2', version: '1.0' },
  ]);
  // The user's test: passes without lib, fails with the broken one, cannot test with skipme (125).
  check = join(root, 'check.py');
  writeFileSync(
    check,
    'import importlib.util, sys\nif importlib.util.find_spec("skipme"): sys.exit(125)\ntry:\n    import lib\nexcept ImportError:\n    sys.exit(0)\nsys.exit(1 if lib.BROKEN else 0)\n',
  );
  // No test writes pip's or setuptools' files in place: the cache's files are linked, not copied.
  states = new HomeStates(home, join(root, 'states'), [], { linkCache: true });
  await history(); // built here, where a busy machine has more time than a test's
}, 300_000);
afterAll(() => removeDir(root));

/**
 * The history every test reads (helpers/states.ts): built once, put back only when a test before
 * it changed the home (each test checks it changed nothing). So each test passes alone (-t) and
 * shuffled.
 */
const history = () => states.givenToRead('history', buildHistory);
async function buildHistory(): Promise<void> {
  removeDir(home);
  expect((await pyctl(home, ['init'])).exitCode).toBe(0);
  const run = async (...args: string[]) => expect((await pip(venv, args, { wheels })).exitCode, args.join(' ')).toBe(0);
  const op = async (...args: string[]) => expect((await pyctl(home, args)).exitCode, args.join(' ')).toBe(0);
  // A dozen operations; undo/redo are real operations too, and cheaper than pip runs.
  await run('install', 'util==1.0', 'lib==1.0'); // 1
  await run('install', 'pad1'); // 2
  await op('undo'); // 3
  await op('redo'); // 4
  await run('install', 'skipme'); // 5: cannot be tested
  await op('undo'); // 6
  // Operation 7 must be recorded in a later second than 6 (for @TIME below): wait for the clock, not a fixed time.
  const t6 = await commitTime('HEAD');
  while (Math.floor(Date.now() / 1000) <= t6) await new Promise((r) => setTimeout(r, 50));
  await run('install', '-U', 'util', 'lib', 'extra'); // 7: the first bad one
  await run('install', 'pad2'); // 8
  await op('undo'); // 9
  await op('redo'); // 10
  await op('undo'); // 11
  await op('redo'); // 12
  expect(await revCount()).toBe('13');
}

describe('bisect run', () => {
  it('names the operation and the culprit package in it; venv, history and snapshots untouched', async () => {
    await history();
    const before = await fingerprint();
    const r = await ok(['bisect', 'run', '--', 'python', check]);
    expect(r.stdout).toMatch(/^first bad: operation 7, \d{4}-\d\d-\d\d \d\d:\d\d: pip install -U util lib extra$/m);
    expect(r.stdout).toMatch(/^culprit: lib 1\.0 -> 2\.0$/m);
    expect(r.stdout).toMatch(/not needed to fail: .*extra added 1\.0/);
    expect(r.stdout).toMatch(/util 1\.0 -> 1\.1/);
    expect(r.stdout).toMatch(/^look closer: pyctl diff 7; go back: pyctl restore 6$/m);
    // One line per step, with progress: both ends first, then the states, then inside operation 7.
    const steps = r.stderr.split('\n').filter((l) => /^pyctl: step \d+\/\d+: /.test(l));
    expect(steps[0]).toMatch(/^pyctl: step 1\/\d+: operation 12 \.\.\. bad$/);
    expect(steps[1]).toMatch(/^pyctl: step 2\/\d+: operation 0 \.\.\. good$/);
    expect(steps.some((l) => /operation 7, only .*lib 1\.0 -> 2\.0.* \.\.\. bad/.test(l))).toBe(true);
    expect(steps.length).toBeLessThanOrEqual(Math.ceil(Math.log2(12)) + 2 + 3);
    expect(scratchDirs()).toEqual([]);
    const after = await fingerprint();
    expect(treeDiff(before.venv, after.venv)).toEqual([]);
    expect({ ...after, venv: null }).toEqual({ ...before, venv: null });
  });

  it('steps around a state it cannot test (exit 125); --json', async () => {
    await history();
    const r = await ok(['--json', 'bisect', 'run', '--good', '3', '--bad', '7', '--', 'python', check]);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ result: 'found', operation: { op: 7, subject: 'pip install -U util lib extra' }, culprits: [{ name: 'lib', change: 'upgraded', from: '1.0', to: '2.0' }] });
    expect(j.next).toEqual(['pyctl diff 7', 'pyctl restore 6']);
    expect(j.steps).toContainEqual(expect.objectContaining({ op: 5, verdict: 'skip', why: 'the command exited with 125' }));
    expect(j.good).toMatchObject({ name: '3', op: 3 });
    expect(r.stderr).toMatch(/operation 5 \.\.\. skip/);
  });

  it('says so when good fails too, or bad passes, and changes nothing', async () => {
    await history();
    const before = await revCount();
    // Bisects take no lock and each has its own scratch venv: the three run side by side.
    const [goodFails, badPasses, reversed] = await Promise.all([
      pyctl(home, ['bisect', 'run', '--good', '8', '--', 'python', check]),
      pyctl(home, ['bisect', 'run', '--bad', '6', '--', 'python', check]),
      pyctl(home, ['bisect', 'run', '--good', '9', '--bad', '4', '--', 'python', check]),
    ]);
    expect(goodFails.exitCode).toBe(1);
    expect(goodFails.stderr).toMatch(/^error: the good state \(8: operation 8\) fails too/m);
    expect(goodFails.stderr).toMatch(/^hint: /m);
    expect(badPasses.exitCode).toBe(1);
    expect(badPasses.stderr).toMatch(/^error: the bad state \(6: operation 6\) passes/m);
    expect(reversed.exitCode).toBe(2);
    expect(reversed.stderr).toMatch(/^error: the good state \(9\) is not before the bad state \(4\)/m);
    for (const r of [goodFails, badPasses, reversed]) expect(r.stderr).not.toMatch(/at \w+ \(/); // no stack trace
    expect(await revCount()).toBe(before);
    expect(scratchDirs()).toEqual([]);
  });

  it('Ctrl-C mid-bisect stops the test command and removes the scratch venv', async () => {
    await history();
    const before = await fingerprint();
    const run = await startBisect();
    // As a terminal does: SIGINT to the whole foreground group.
    await killGroup(run.child, 'SIGINT');
    expect(await run.exit).toBe(130);
    expect(run.stderr()).toMatch(/^error: bisect interrupted \(SIGINT\); the scratch venv was removed and nothing of yours changed$/m);
    expect(scratchDirs()).toEqual([]);
    const after = await fingerprint();
    expect(treeDiff(before.venv, after.venv)).toEqual([]);
    expect(after.count).toBe(before.count);
  });

  it('a SIGKILL mid-bisect leaves a scratch venv that doctor reports and the next command sweeps', async () => {
    await history();
    const before = await fingerprint();
    const run = await startBisect();
    expect(scratchDirs()).toHaveLength(1);
    // Its pip is linked from the per-user seed template, as init links the venv's (not unpacked and compiled again).
    const seeds = join(hermeticEnv().XDG_CACHE_HOME, 'pyctl', 'seed');
    const templateInodes = new Set(readdirSync(seeds).flatMap((k) => (statSync(join(seeds, k)).isDirectory() ? readdirSync(join(seeds, k)).map((f) => statSync(join(seeds, k, f)).ino) : [])));
    const site = join(home, scratchDirs()[0], 'lib', readdirSync(join(home, scratchDirs()[0], 'lib'))[0], 'site-packages');
    expect(templateInodes.has(statSync(join(site, 'pip', '__init__.py')).ino)).toBe(true);
    // Another terminal meanwhile: no lock in the way, and a live bisect's scratch venv is left alone.
    await ok(['history', '--limit', '1']);
    expect(scratchDirs()).toHaveLength(1);
    await killGroup(run.child);
    expect(scratchDirs()).toHaveLength(1);
    const doc = await pyctl(home, ['--json', 'doctor']);
    expect(JSON.parse(doc.stdout).checks ?? JSON.parse(doc.stdout)).toEqual(expect.arrayContaining([expect.objectContaining({ check: 'bisect', status: 'warning' })]));
    const r = await ok(['history', '--limit', '1']);
    expect(r.stderr).toMatch(/removed .*venv\.bisect-\d+, left by a bisect that was killed/);
    expect(scratchDirs()).toEqual([]);
    const after = await fingerprint();
    expect(treeDiff(before.venv, after.venv)).toEqual([]);
    expect(after.count).toBe(before.count);
  });
});

describe('bisect by hand', () => {
  it('start, then good/bad/skip on the state it built, then reset', async () => {
    await history();
    const before = await fingerprint();
    let r = await ok(['bisect', 'start', '--good', '6', '--bad', '9']);
    const session = join(home, 'venv.bisect-session');
    expect(existsSync(join(home, '.git', 'pyctl', 'bisect.json'))).toBe(true);
    for (let i = 0; i < 12 && /^testing: /m.test(r.stdout); i++) {
      expect(r.stdout).toContain(`source ${session}/bin/activate`);
      // Try it the way a user would: in the scratch venv.
      const t = spawnPython(session);
      r = await ok(['bisect', t === 0 ? 'good' : t === 125 ? 'skip' : 'bad']);
    }
    expect(r.stdout).toMatch(/^first bad: operation 7/m);
    expect(r.stdout).toMatch(/^culprit: lib 1\.0 -> 2\.0$/m);
    expect((await pyctl(home, ['bisect', 'good'])).stderr).toMatch(/^error: this bisect is finished/m);
    // Another command meanwhile neither sweeps the session's venv nor is blocked by it.
    await ok(['status']);
    await ok(['history', '--limit', '1']);
    expect(existsSync(session)).toBe(true);
    r = await ok(['bisect', 'reset']);
    expect(r.stdout).toMatch(/bisect ended/);
    expect(existsSync(session)).toBe(false);
    expect(existsSync(join(home, '.git', 'pyctl', 'bisect.json'))).toBe(false);
    const after = await fingerprint();
    expect(treeDiff(before.venv, after.venv)).toEqual([]);
    expect(after.count).toBe(before.count);
  });
});

describe('pyctl log', () => {
  it('every operation that touched a package, newest first, any spelling; --json', async () => {
    await history();
    const r = await ok(['log', 'LIB']);
    const rows = r.stdout.trim().split('\n');
    expect(rows[0]).toBe('lib');
    expect(rows[1]).toMatch(/^ {4}7 {2}\d{4}-\d\d-\d\d \d\d:\d\d {2}1\.0 -> 2\.0 {2}pip install -U util lib extra$/);
    expect(rows[2]).toMatch(/^ {4}1 .* added 1\.0 {2}pip install util==1\.0 lib==1\.0$/);
    expect(rows).toHaveLength(3);
    const j = JSON.parse((await ok(['--json', 'log', 'pad1'])).stdout);
    expect(j.package).toBe('pad1');
    expect(j.events.map((e: { op: number; change: string }) => [e.op, e.change])).toEqual([
      [4, 'added'],
      [3, 'removed'],
      [2, 'added'],
    ]);
    expect(j.events[1]).toMatchObject({ from: '1.0', to: null, subject: 'undo of 2: pip install pad1' });
  });

  it('an unknown name: one error line, non-zero', async () => {
    await history();
    const r = await pyctl(home, ['log', 'padd1']);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: no operation ever added, removed or changed 'padd1'\nhint: did you mean: .*pad1/);
  });
});

describe('states by time', () => {
  it('@TIME and --at name the last state at or before that moment', async () => {
    await history();
    const t7 = await commitTime(':/^pip install -U util lib extra');
    const at = (t: number) => new Date(t * 1000).toISOString().replace(/\.000Z$/, 'Z');
    // A second before operation 7: operation 6's state (lib 1.0), in every command that names states.
    const pins = (out: string) => out.split('\n').filter((l) => l && !l.startsWith('#'));
    const ex = await ok(['export', `@${at(t7 - 1)}`]);
    expect(ex.stdout).toMatch(/^# pyctl export of operation 6 \(the state at /);
    expect(pins(ex.stdout)).toContain('lib==1.0');
    expect(pins((await ok(['export', '--at', at(t7 - 1)])).stdout)).toEqual(pins(ex.stdout));
    expect((await ok(['export', '--at', at(t7)])).stdout).toMatch(/^lib==2\.0$/m);
    const d = await ok(['--json', 'diff', `@${at(t7 - 1)}`, '7']);
    expect(JSON.parse(d.stdout).from).toMatch(/^operation 6 \(the state at /);
    expect((await ok(['restore', '--dry-run', '--at', '0 minutes ago'])).stdout).toMatch(/nothing would change/);
    // A local time without a zone, as history shows it.
    const local = new Date((t7 - 1) * 1000);
    const z = (n: number) => String(n).padStart(2, '0');
    const localText = `${local.getFullYear()}-${z(local.getMonth() + 1)}-${z(local.getDate())} ${z(local.getHours())}:${z(local.getMinutes())}:${z(local.getSeconds())}`;
    expect(pins((await ok(['export', `@${localText}`])).stdout)).toEqual(pins(ex.stdout));
  });

  it('an unreadable time or one before the first operation: one line, non-zero, nothing changed', async () => {
    await history();
    const before = await fingerprint();
    let r = await pyctl(home, ['restore', '--at', 'last tuesday']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/^error: cannot read 'last tuesday' as a time\nhint: /);
    r = await pyctl(home, ['restore', '@52 weeks ago']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^error: nothing was recorded at or before 52 weeks ago .*: the first operation is from /m);
    r = await pyctl(home, ['diff', '--at', '2026-02-30']);
    expect(r.exitCode).toBe(2);
    r = await pyctl(home, ['restore', '7', '--at', '1 day ago']);
    expect(r.exitCode).toBe(2);
    const after = await fingerprint();
    expect(treeDiff(before.venv, after.venv)).toEqual([]);
    expect({ ...after, venv: null }).toEqual({ ...before, venv: null });
  });
});

/** The user's check, run in the scratch venv as a user would after `source .../activate`. */
function spawnPython(scratch: string): number {
  const r = spawnSync(join(scratch, 'bin', 'python'), [check], { env: hermeticEnv({ VIRTUAL_ENV: scratch }) });
  return r.status ?? -1;
}

/** A bisect stopped in its test command, which says it runs (in the scratch venv) and sleeps. */
function startBisect(): Promise<Started> {
  const test = 'import sys, time; sys.stderr.write("IN-SCRATCH\\n"); sys.stderr.flush(); time.sleep(120)';
  return startUntil(process.execPath, [CLI, 'bisect', 'run', '--', 'python', '-c', test], /IN-SCRATCH/, { env: { PYCTL_HOME: home, NO_COLOR: '1' } });
}
