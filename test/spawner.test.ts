/**
 * The tests' process starter (helpers/spawner.ts): what run() gives through it is what node's own
 * spawn gives (helpers/run.ts nodeRun), and the bytes come back exact.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { python3 } from './helpers/env.js';
import { nodeRun, run, runSync, runSyncOk } from './helpers/run.js';
import { spawnerRun } from './helpers/spawner.js';

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'pyctl-spawner-')));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' };

/** run() through the spawner and through node's spawn: the same, but for the pid. */
async function same(file: string, args: string[], e: Record<string, string> = env, cwd?: string) {
  const [a, b] = await Promise.all([run(file, args, e, { cwd }), nodeRun(file, args, e, { cwd })]);
  expect({ ...a, pid: undefined }).toEqual({ ...b, pid: undefined });
  expect(a.pid === undefined).toBe(b.pid === undefined);
  return a;
}

describe('the test spawner', () => {
  it('gives exit codes, -1 for a signal, and one final newline stripped', async () => {
    expect((await same('sh', ['-c', 'echo out; echo err >&2; exit 3'])).exitCode).toBe(3);
    expect(await same('sh', ['-c', 'printf "a\\n\\n"; printf "b\\r\\n" >&2'])).toMatchObject({ exitCode: 0, stdout: 'a\n', stderr: 'b' });
    expect(await same('sh', ['-c', 'echo before; kill -TERM $$'])).toMatchObject({ exitCode: -1, stdout: 'before' });
    expect((await same('sh', ['-c', 'kill -KILL $$'])).exitCode).toBe(-1);
  });

  it('returns the bytes exact, binary and over a megabyte on both streams at once', async () => {
    const py = 'import sys; b = bytes(range(256)) * 8192; sys.stdout.buffer.write(b[:2000000]); sys.stderr.buffer.write(b[1:1500001]); sys.stdout.buffer.write(b"\\xff\\n")';
    const r = await spawnerRun(python3(), ['-c', py], env);
    const b = Buffer.from(Array.from({ length: 8192 * 256 }, (_, i) => i % 256));
    expect(r.exitCode).toBe(0);
    expect(r.stdout.equals(Buffer.concat([b.subarray(0, 2000000), Buffer.from([0xff, 0x0a])]))).toBe(true);
    expect(r.stderr.equals(b.subarray(1, 1500001))).toBe(true);
    await same(python3(), ['-c', py]);
  });

  it('passes the args, env and cwd exactly as given, UTF-8 included', async () => {
    const e = { PATH: env.PATH, A: 'x', B: 'y=z', EMPTY: '', Ü: 'grüße ✓' };
    const r = await same('env', [], e);
    expect(r.stdout.split('\n').sort()).toEqual(
      Object.entries(e)
        .map(([k, v]) => `${k}=${v}`)
        .sort(),
    );
    expect((await same('printf', ['%s|', 'a b', '', 'ß ✓ \u{1F600}', '-x'])).stdout).toBe('a b||ß ✓ \u{1F600}|-x|');
    expect((await same('pwd', ['-P'], env, dir)).stdout).toBe(dir);
    expect((await same('pwd', ['-P'])).stdout).toBe(process.cwd());
  });

  it('looks the program up on the given PATH and runs a relative one from the given cwd', async () => {
    writeFileSync(join(dir, 'hello'), '#!/bin/sh\necho "hello $0"\n');
    chmodSync(join(dir, 'hello'), 0o755);
    expect((await same('hello', [], { PATH: dir })).stdout).toBe(`hello ${join(dir, 'hello')}`);
    expect((await same('./hello', [], env, dir)).stdout).toBe('hello ./hello');
  });

  it('says why a program did not start, as node words it', async () => {
    writeFileSync(join(dir, 'not-runnable'), '#!/bin/sh\n');
    chmodSync(join(dir, 'not-runnable'), 0o644);
    expect(await same(join(dir, 'missing'), [])).toMatchObject({ exitCode: -1, stdout: '', stderr: `spawn ${join(dir, 'missing')} ENOENT`, pid: undefined });
    expect(await same('no-such-program-anywhere', [])).toMatchObject({ exitCode: -1, stderr: 'spawn no-such-program-anywhere ENOENT' });
    expect((await same(join(dir, 'not-runnable'), [])).stderr).toBe(`spawn ${join(dir, 'not-runnable')} EACCES`);
    expect((await same('true', [], env, join(dir, 'no-such-folder'))).exitCode).toBe(-1);
  });

  it("gives an open stdin nobody writes to, and the process's pid", async () => {
    const py = 'import select; r, _, _ = select.select([0], [], [], 0.2); print("readable" if r else "open, empty")';
    expect((await same(python3(), ['-c', py])).stdout).toBe('open, empty');
    const r = await run('sh', ['-c', 'echo $$'], env);
    expect(r.stdout).toBe(String(r.pid));
  });

  it('waits for the output of what the child left running, as node does', async () => {
    expect((await same('sh', ['-c', '(sleep 0.3; echo late) & echo early'])).stdout).toBe('early\nlate');
  });

  it('runs many at once, each answer to its own caller', async () => {
    const runs = await Promise.all(Array.from({ length: 24 }, (_, i) => run('sh', ['-c', `sleep 0.0${i % 7}; echo ${i}; echo e${i} >&2; exit ${i}`], env)));
    runs.forEach((r, i) => expect(r).toMatchObject({ exitCode: i, stdout: String(i), stderr: `e${i}` }));
    expect(new Set(runs.map((r) => r.pid)).size).toBe(24);
  });

  it('is not used with PYCTL_TEST_SPAWNER=0', async () => {
    const before = process.env.PYCTL_TEST_SPAWNER;
    process.env.PYCTL_TEST_SPAWNER = '0';
    try {
      // node's spawn, child of this worker
      const r = await run('sh', ['-c', 'echo $PPID'], env);
      expect(r.stdout).toBe(String(process.pid));
    } finally {
      if (before === undefined) delete process.env.PYCTL_TEST_SPAWNER;
      else process.env.PYCTL_TEST_SPAWNER = before;
    }
    expect((await run('sh', ['-c', 'echo $PPID'], env)).stdout).not.toBe(String(process.pid));
  });
});

describe('the test spawner, for synchronous callers', () => {
  it('gives what spawnSync gives', () => {
    const r = runSync('sh', ['-c', 'printf "out\\n"; printf "err\\n" >&2; exit 5'], env, { cwd: dir });
    const n = spawnSync('sh', ['-c', 'printf "out\\n"; printf "err\\n" >&2; exit 5'], { env, cwd: dir, encoding: 'utf8' });
    expect(r).toMatchObject({ exitCode: n.status, stdout: n.stdout.trimEnd(), stderr: n.stderr.trimEnd() });
    expect(runSync('sh', ['-c', 'kill -TERM $$'], env).exitCode).toBe(-1);
    expect(runSync(join(dir, 'missing'), [], env)).toMatchObject({ exitCode: -1, stderr: `spawn ${join(dir, 'missing')} ENOENT` });
    expect(runSync('pwd', ['-P'], env, { cwd: dir }).stdout).toBe(dir);
    expect(() => runSyncOk('false', [], env)).toThrow(/exit code 1: false/);
    expect(runSync('sh', ['-c', 'echo "$HOME"']).stdout).toBe(process.env.HOME ?? '');
  });

  it('answers a synchronous run while asynchronous ones with big output finish meanwhile', async () => {
    const py = 'import sys, time; time.sleep(0.1); sys.stdout.buffer.write(b"x" * 3000000)';
    const big = Array.from({ length: 3 }, () => run(python3(), ['-c', py], env));
    // Blocks the worker for longer than the async runs take: their answers wait, unread.
    const r = runSync('sh', ['-c', 'sleep 0.5; head -c 1500000 /dev/zero | tr "\\0" y'], env);
    expect(r.stdout).toBe('y'.repeat(1500000));
    for (const b of await Promise.all(big)) expect(b).toMatchObject({ exitCode: 0, stdout: 'x'.repeat(3000000) });
  });
});

describe('the test spawner, with an input', () => {
  it('writes the input whole to the stdin, then ends it', async () => {
    const input = Buffer.from(Array.from({ length: 3 * 1024 * 1024 }, (_, i) => (i * 7) % 256));
    const r = await spawnerRun('sh', ['-c', 'cat; echo done >&2'], env, undefined, input);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.equals(input)).toBe(true);
    expect(r.stderr.toString()).toBe('done\n');
    expect((await spawnerRun('wc', ['-c'], env, undefined, Buffer.alloc(0))).stdout.toString().trim()).toBe('0');
    // It ends without reading it: that is its answer, as with node.
    expect((await spawnerRun('sh', ['-c', 'exit 4'], env, undefined, input)).exitCode).toBe(4);
  });
});
