/**
 * src/code-cache.ts: dist/cli.cjs runs with V8's code cache in $XDG_CACHE_HOME/pyctl/v8. A
 * command's first run writes or extends it, a later run of the same command leaves it as it
 * is (V8 took it), and a file that is damaged, rejected by V8, or not the user's own alone is
 * never trusted: the command runs as without it and writes a good one.
 */
import { chmodSync, chownSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, pyctl } from './helpers/cli.js';
import { hermeticEnv, removeDir } from './helpers/env.js';
import { run } from './helpers/run.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'pyctl-code-cache-'));
});
afterAll(() => removeDir(root));

/** A cache file: its JSON header line, and V8's data after it. */
function readCacheFile(path: string) {
  const raw = readFileSync(path);
  const nl = raw.indexOf(10);
  return { header: JSON.parse(raw.subarray(0, nl).toString()) as { v: number; cmds: string[]; sum: string }, data: raw.subarray(nl + 1) };
}

/** A fresh cache folder per test: none depends on another's file. */
function fresh(name: string) {
  const xdg = join(root, name);
  const dir = join(xdg, 'pyctl', 'v8');
  const run = (args: string[]) => pyctl(join(root, `${name}-home`), args, { XDG_CACHE_HOME: xdg });
  const file = () => {
    const names = readdirSync(dir);
    expect(names).toHaveLength(1);
    return join(dir, names[0]);
  };
  const read = () => readCacheFile(file());
  return { run, file, read };
}

const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');

describe('V8 code cache of the CLI', () => {
  it('a first run writes it, a new command adds to it, a repeated command leaves it', async () => {
    const c = fresh('grow');
    const v = await c.run(['--version']);
    expect(v.exitCode).toBe(0);
    expect(v.stdout).toMatch(/^\d+\.\d+\.\d+$/);
    const first = c.read();
    expect(first.header.cmds).toEqual(['']);
    expect(first.header.sum).toBe(sha1(first.data));
    expect(statSync(c.file()).mode & 0o777).toBe(0o600);

    const h = await c.run(['help']);
    expect(h.exitCode).toBe(0);
    expect(h.stdout).toMatch(/^Usage: pyctl/);
    expect(c.read().header.cmds).toEqual(['', 'help']);

    // Taken by V8 (a rejected one would be written again): the same file, untouched.
    const before = statSync(c.file());
    const again = await c.run(['help']);
    expect(again.stdout).toBe(h.stdout);
    const after = statSync(c.file());
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
  });

  it('a damaged file is not used: same output, and a good file replaces it', async () => {
    const c = fresh('damaged');
    const ok = await c.run(['help']);
    const raw = readFileSync(c.file());
    raw[raw.length - 100] ^= 0xff; // one flipped byte in V8's data: the sum no longer matches
    writeFileSync(c.file(), raw);
    const r = await c.run(['help']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(ok.stdout);
    const now = c.read();
    expect(now.header.sum).toBe(sha1(now.data));
  });

  it('data V8 rejects (a whole, well-summed file of something else) is not used and is written again', async () => {
    const c = fresh('rejected');
    const ok = await c.run(['help']);
    const junk = Buffer.alloc(4096, 7);
    writeFileSync(c.file(), Buffer.concat([Buffer.from(`${JSON.stringify({ v: 1, cmds: ['', 'help'], sum: sha1(junk) })}\n`), junk]));
    const r = await c.run(['help']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(ok.stdout);
    expect(c.read().data.equals(junk)).toBe(false);
  });

  it("a file others can write, or another user's, is not trusted and is replaced by the user's own", async () => {
    const c = fresh('owner');
    const ok = await c.run(['help']);
    chmodSync(c.file(), 0o666);
    expect((await c.run(['help'])).stdout).toBe(ok.stdout);
    expect(statSync(c.file()).mode & 0o777).toBe(0o600);
    if (process.geteuid?.() === 0) {
      chownSync(c.file(), 65534, 65534); // nobody's
      expect((await c.run(['help'])).stdout).toBe(ok.stdout);
      expect(statSync(c.file()).uid).toBe(0);
    }
  });

  it('a vendor bundle a command imports (isomorphic-git for remote) gets its own file, read and grown the same way; a damaged one is not used', async () => {
    const c = fresh('vendor');
    expect((await c.run(['init'])).exitCode).toBe(0);
    const vendorFile = () => readdirSync(join(root, 'vendor', 'pyctl', 'v8')).filter((n) => n.startsWith('vendor-isomorphic-git-'));
    expect(vendorFile()).toEqual([]); // init needs no isomorphic-git
    const add = await c.run(['remote', 'add', 'origin', 'https://example.com/env.git']);
    expect(add.exitCode, add.stderr).toBe(0);
    expect(vendorFile()).toHaveLength(1);
    const path = join(root, 'vendor', 'pyctl', 'v8', vendorFile()[0]);
    expect(readCacheFile(path).header.cmds).toEqual(['remote']);
    const raw = readFileSync(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    raw[raw.length - 100] ^= 0xff; // damaged: the sum no longer matches
    writeFileSync(path, raw);
    const list = await c.run(['remote', 'list']);
    expect(list.exitCode, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^origin\s+https:\/\/example\.com\/env\.git$/m);
    const now = readCacheFile(path);
    expect(now.header.sum).toBe(sha1(now.data));
  });

  it("the pip hook's record lane runs from dist/record.cjs with its own file, grown by each pip subcommand's first record", async () => {
    const xdg = join(root, 'record');
    const dir = join(xdg, 'pyctl', 'v8');
    // The hook's fixed form; no home there, so it records nothing (and says nothing): only the lane runs.
    const record = (sub: string) =>
      pyctl(join(root, 'record-home'), ['_record', '--home', join(root, 'record-home'), '--phase', 'post', '--pid', '1', '--sub', sub, '--exit', '0', '--', sub, 'x'], { XDG_CACHE_HOME: xdg });
    const header = () => {
      const names = readdirSync(dir);
      expect(names).toHaveLength(1);
      expect(names[0]).toMatch(/^record-[0-9a-f]{24}\.bin$/);
      const { header: h, data } = readCacheFile(join(dir, names[0]));
      expect(h.sum).toBe(sha1(data));
      return { h, st: statSync(join(dir, names[0])) };
    };
    expect((await record('install')).exitCode).toBe(0);
    expect(header().h.cmds).toEqual(['_record install']);
    expect((await record('uninstall')).exitCode).toBe(0);
    const { h, st } = header();
    expect(h.cmds).toEqual(['_record install', '_record uninstall']);
    expect(st.mode & 0o777).toBe(0o600);
    expect((await record('install')).exitCode).toBe(0);
    expect(header().st.mtimeMs).toBe(st.mtimeMs); // taken by V8, left as it is
  });

  it("status's fast lane runs from dist/status.cjs with its own file", async () => {
    const xdg = join(root, 'status');
    const home = join(root, 'status-home');
    expect((await pyctl(home, ['init'], { XDG_CACHE_HOME: xdg })).exitCode).toBe(0);
    const names = () => readdirSync(join(xdg, 'pyctl', 'v8')).filter((n) => n.startsWith('status-'));
    expect(names()).toEqual([]); // init ran through the CLI
    const first = await pyctl(home, ['status'], { XDG_CACHE_HOME: xdg });
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^in sync:\s+yes$/m);
    expect(names()).toHaveLength(1);
    const path = join(xdg, 'pyctl', 'v8', names()[0]);
    expect(readCacheFile(path).header.cmds).toEqual(['status']);
    const before = statSync(path);
    const again = await pyctl(home, ['status'], { XDG_CACHE_HOME: xdg });
    expect(again.stdout).toBe(first.stdout);
    expect(statSync(path).mtimeMs).toBe(before.mtimeMs); // taken by V8, left as it is
  });

  // node:crypto too, but the code cache's own sha1 check still loads it at every start.
  it("a command loads Node's child_process and zlib only when it uses them (help uses neither)", async () => {
    const xdg = join(root, 'lazy');
    const probe = join(root, 'loaded.cjs');
    writeFileSync(probe, "process.on('exit', () => require('node:fs').writeSync(2, `\\nLOADED ${process.moduleLoadList.join(',')}\\n`));\n");
    const loaded = async (args: string[]) => {
      const r = await run(process.execPath, ['--require', probe, CLI, ...args], hermeticEnv({ XDG_CACHE_HOME: xdg, PYCTL_HOME: join(root, 'lazy-home') }));
      expect(r.exitCode, r.stderr).toBe(0);
      return /^LOADED (.*)$/m.exec(r.stderr)?.[1].split(',') ?? [];
    };
    await loaded(['help']); // the first run writes the cache (and compiles what it needs)
    const help = await loaded(['help']);
    expect(help).toContain('NativeModule vm'); // the probe works
    for (const m of ['child_process', 'zlib']) expect(help).not.toContain(`NativeModule ${m}`);
  });
});
