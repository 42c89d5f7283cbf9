/**
 * src/venv/swap.ts, the one "move the venv aside, build another, keep it or put the old one back"
 * (clean, the rebuild of init --python / doctor --fix): on real folders, and after a real crash
 * (a process SIGKILLed with the old venv aside and a half-made one in its place).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { moveAside, putBackLeftover, recoverSwap } from '../src/venv/swap.js';
import { HOOK_MODULE, HOOK_PTH } from '../src/pip/hook.js';
import { sitePackagesDir } from '../src/venv/syspath.js';
import { pyctl } from './helpers/cli.js';
import { removeDir, tempDir } from './helpers/env.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

let home: string;
let venv: string;
/** A venv stand-in: a folder with a file saying which one it is. */
const makeVenv = (which: string) => {
  mkdirSync(join(venv, 'bin'), { recursive: true });
  writeFileSync(join(venv, 'which'), which);
};
const which = () => readFileSync(join(venv, 'which'), 'utf8');
const beside = () =>
  readdirSync(home)
    .filter((n) => n !== 'venv')
    .sort();

beforeEach(() => {
  home = tempDir();
  dirs.push(home);
  venv = join(home, 'venv');
  makeVenv('old');
});

describe('a swap in one process', () => {
  it('putBack: the half-built venv goes, the old one comes back as it was', () => {
    const swap = moveAside(venv);
    expect(swap.moved).toBe(true);
    expect(beside()).toEqual([`venv.old-${process.pid}`]);
    makeVenv('half');
    swap.putBack();
    expect(which()).toBe('old');
    expect(beside()).toEqual([]);
  });

  it('commit: the new venv stays and the old one is deleted', () => {
    const swap = moveAside(venv);
    makeVenv('new');
    swap.commit();
    expect(which()).toBe('new');
    expect(beside()).toEqual([]);
  });

  it('commit in the background: the old one leaves its aside name at once (a trash name only)', () => {
    const swap = moveAside(venv);
    makeVenv('new');
    swap.commit({ background: true });
    expect(which()).toBe('new');
    expect(beside().every((n) => n === `venv.trash-${process.pid}`)).toBe(true);
  });

  it('with no venv to move: nothing is moved, and putBack deletes what was built', () => {
    removeDir(venv);
    const swap = moveAside(venv);
    expect(swap.moved).toBe(false);
    makeVenv('half');
    swap.putBack();
    expect(existsSync(venv)).toBe(false);
    expect(beside()).toEqual([]);
  });

  it('after commit, putBack does nothing (a failure after the commit keeps the new venv)', () => {
    const swap = moveAside(venv);
    makeVenv('new');
    swap.commit();
    swap.putBack();
    expect(which()).toBe('new');
  });
});

describe('recovery after a crash', () => {
  let built = '';
  /** swap.ts as the module a real process loads (built once). */
  const swapJs = () => {
    if (built) return built;
    const dir = tempDir();
    dirs.push(dir);
    built = join(dir, 'swap.mjs');
    buildSync({ entryPoints: [resolve(__dirname, '../src/venv/swap.ts')], bundle: true, platform: 'node', format: 'esm', outfile: built, logLevel: 'warning' });
    return built;
  };
  /** A process that sets the venv aside, half builds another, and is killed there. Returns its pid. */
  const killedMidSwap = (): number => {
    const script = `
import { moveAside } from ${JSON.stringify(swapJs())};
import { mkdirSync, writeFileSync } from 'node:fs';
moveAside(${JSON.stringify(venv)});
mkdirSync(${JSON.stringify(join(venv, 'bin'))}, { recursive: true });
writeFileSync(${JSON.stringify(join(venv, 'which'))}, 'half');
process.stdout.write(String(process.pid));
process.kill(process.pid, 'SIGKILL');`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.signal).toBe('SIGKILL');
    return Number(r.stdout);
  };

  it('the next command puts the old venv back when the one in its place is unfinished', () => {
    const pid = killedMidSwap();
    expect(which()).toBe('half');
    expect(beside()).toContain(`venv.old-${pid}`);
    expect(recoverSwap(venv, pid, () => true)).toBe(true);
    expect(which()).toBe('old');
    expect(beside().filter((n) => n.startsWith('venv.'))).toEqual([]);
  });

  it('a finished venv stays (the old one is left for doctor); another pid finds nothing to do', () => {
    const pid = killedMidSwap();
    let asked = 0;
    expect(recoverSwap(venv, pid + 1, () => ++asked > 0)).toBe(false);
    expect(asked).toBe(0); // no aside of that pid: the venv is not even looked at
    expect(recoverSwap(venv, pid, () => false)).toBe(false);
    expect(which()).toBe('half');
    expect(beside()).toContain(`venv.old-${pid}`);
  });

  it("doctor's repair puts any leftover back, also over a venv that is missing", () => {
    const pid = killedMidSwap();
    removeDir(venv);
    putBackLeftover(venv, join(home, `venv.old-${pid}`));
    expect(which()).toBe('old');
    expect(beside().filter((n) => n.startsWith('venv.'))).toEqual([]);
  });
});

describe('recovery through pyctl', () => {
  it('after an init --python killed mid-swap, the next command puts the old venv back', async () => {
    const h = tempDir();
    dirs.push(h);
    expect((await pyctl(h, ['init'])).exitCode).toBe(0);
    const v = join(h, 'venv');
    // What the kill left: the old venv aside under the dead process's pid, a new venv without
    // its recording hook yet, and the lock line of `pyctl init --python` as the crash marker.
    const dead = spawnSync('true').pid;
    cpSync(v, `${v}.old-${dead}`, { recursive: true, verbatimSymlinks: true });
    writeFileSync(join(`${v}.old-${dead}`, 'the-old-one'), '');
    for (const f of [HOOK_MODULE, HOOK_PTH]) rmSync(join(sitePackagesDir(v), f));
    writeFileSync(join(h, '.git', 'pyctl', 'interrupted'), `${dead} ${hostname()} pyctl init --python 3.12\n`);
    const r = await pyctl(h, ['sync']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(existsSync(join(v, 'the-old-one'))).toBe(true);
    expect(existsSync(join(sitePackagesDir(v), HOOK_MODULE))).toBe(true);
    expect(readdirSync(h).filter((n) => n.startsWith('venv.'))).toEqual([]);
  });
});
