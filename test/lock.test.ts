/**
 * The lock protocol itself, in real processes: Node (src/gitstore/lock.ts) and Python
 * (hooks/pyctl_hook.py) writers and holders that die holding the lock, all at once.
 * Mutual exclusion holds (a read-modify-write counter loses no increment), dead holders are taken
 * over, and one that was changing the venv leaves the crash marker.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { python3, removeDir, tempDir } from './helpers/env.js';

let dir: string;
let lockJs: string;
const HOOK = resolve(__dirname, '../hooks/pyctl_hook.py');

beforeAll(() => {
  dir = tempDir();
  // The state folder a lock lives in exists, as in a real home's .git/pyctl: the hook's writer does
  // not make it (a missing one means no recording) and must not depend on a Node writer's mkdir.
  mkdirSync(join(dir, 'pyctl'));
  lockJs = join(dir, 'lock.mjs');
  buildSync({ entryPoints: [resolve(__dirname, '../src/gitstore/lock.ts')], bundle: true, platform: 'node', format: 'esm', outfile: lockJs, logLevel: 'warning' });
});
afterAll(() => removeDir(dir));

const run = (cmd: string, args: string[]) =>
  new Promise<{ code: number | null; signal: string | null; err: string }>((res) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (code, signal) => res({ code, signal, err }));
  });

const nodeWorker = (lock: string, counter: string, n: number, die: boolean) => `
import { withLock } from ${JSON.stringify(lockJs)};
import { readFileSync, writeFileSync } from 'node:fs';
for (let i = 0; i < ${n}; i++) {
  await withLock(${JSON.stringify(lock)}, ${JSON.stringify(die ? 'pyctl undo' : 'pyctl snapshot')}, async () => {
    const v = Number(readFileSync(${JSON.stringify(counter)}, 'utf8'));
    await new Promise((r) => setTimeout(r, 2));
    ${die ? 'process.kill(process.pid, "SIGKILL");' : ''}
    writeFileSync(${JSON.stringify(counter)}, String(v + 1));
  });
}`;

const pyWorker = (lock: string, counter: string, n: number, die: boolean) => `
import os, sys, time
src = open(${JSON.stringify(HOOK)}).read().replace('CONFIG = {}', 'CONFIG = ' + repr({'lock': ${JSON.stringify(lock)}}))
src = src.replace('    _install()', '    pass')
ns = {}
exec(compile(src, 'hook', 'exec'), ns)
for i in range(${n}):
    path = ns['_lock']('install')
    assert path, 'no lock'
    v = int(open(${JSON.stringify(counter)}).read())
    time.sleep(0.002)
    ${die ? 'os.kill(os.getpid(), 9)' : 'pass'}
    open(${JSON.stringify(counter)}, 'w').write(str(v + 1))
    os.unlink(path)
`;

it('Node and Python writers exclude each other, and take over dead holders', async () => {
  const lock = join(dir, 'pyctl', 'lock');
  const counter = join(dir, 'counter');
  writeFileSync(counter, '0');
  const jobs: Promise<{ code: number | null; signal: string | null; err: string }>[] = [];
  for (let i = 0; i < 4; i++) jobs.push(run(process.execPath, ['--input-type=module', '-e', nodeWorker(lock, counter, 10, false)]));
  for (let i = 0; i < 3; i++) jobs.push(run(python3(), ['-c', pyWorker(lock, counter, 10, false)]));
  for (let i = 0; i < 2; i++) jobs.push(run(process.execPath, ['--input-type=module', '-e', nodeWorker(lock, counter, 1, true)]));
  jobs.push(run(python3(), ['-c', pyWorker(lock, counter, 1, true)]));
  const results = await Promise.all(jobs);
  const ok = results.slice(0, 7);
  for (const r of ok) expect(r.code, r.err).toBe(0);
  for (const r of results.slice(7)) expect(r.signal).toBe('SIGKILL');
  expect(Number(readFileSync(counter, 'utf8'))).toBe(70);
  // The last dead holder's lock may still be there (nobody needed it since): it is stale.
  const { takeOverStale, readLock } = await import(lockJs);
  if (existsSync(lock)) expect(takeOverStale(lock)).not.toBeNull();
  expect(existsSync(lock)).toBe(false);
  // Dead holders that were changing the venv ('pyctl undo', 'pip install') left the marker.
  expect(readLock(join(dir, 'pyctl', 'interrupted'))?.what).toMatch(/^(pyctl undo|pip install)$/);
  expect(existsSync(`${lock}.takeover`)).toBe(false);
});
