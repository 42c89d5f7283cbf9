/**
 * The record started with pip (hooks/pyctl_hook.py `_start`, `_record --wait stdin`): while pip
 * runs it keeps each package pip finished in the store (operations/keep-early.ts), under pip's
 * lock as its helper; when pip ends the hook tells it pip's status on stdin and it records. The
 * hook's `pip-end` pause point holds pip after its work and before that word, so each test looks
 * at a known moment: real venv, real pip, real git, no timing.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, pyctl } from './helpers/cli.js';
import { fsck, head, sitePackages } from './helpers/probe.js';
import { removeDir, tempDir } from './helpers/env.js';
import { killGroup, startUntil, type Started } from './helpers/process.js';
import { buildWheels } from './helpers/wheels.js';
import { isFinalRecord } from '../src/operations/keep-early.js';
import { parsePipEnd } from '../src/commands/record.js';
import { isStoredInstall, readStored } from '../src/wheel/package-store.js';
import { readInstalled } from '../src/venv/freeze.js';

let root: string;
let wheels: string;

beforeAll(() => {
  root = tempDir('pyctl-early-');
  wheels = buildWheels(join(root, 'wheels'), [
    { name: 'ea', version: '1.0' },
    { name: 'eb', version: '1.0', requires: ['ea'] },
  ]);
});
afterAll(() => removeDir(root));

const packages = (home: string) => join(home, '.git', 'pyctl', 'packages');
const lock = (home: string) => join(home, '.git', 'pyctl', 'lock');
const stored = (home: string) => (existsSync(packages(home)) ? readdirSync(packages(home)).sort() : []);

/** Wait for `ok` (a state another process reaches), failing after a generous bound. */
async function until(ok: () => boolean, what: string): Promise<void> {
  for (const deadline = Date.now() + 60_000; !ok();) {
    if (Date.now() > deadline) throw new Error(`not reached within 60 s: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** pip's children (the record started with it among them), read from /proc. */
function children(pid: number): { pid: number; cmd: string }[] {
  const out: { pid: number; cmd: string }[] = [];
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    for (const c of readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(' ').filter(Boolean)) {
      out.push({ pid: Number(c), cmd: readFileSync(`/proc/${c}/cmdline`, 'utf8').split('\0').join(' ') });
    }
  }
  return out;
}

/** `pip install eb` (and ea with it), .pyc written as a user's pip does, held at the hook's pip-end point. */
async function pipHeld(home: string): Promise<Started> {
  return startUntil(join(home, 'venv', 'bin', 'pip'), ['install', 'eb'], /test pause at pip-end/, {
    env: { PIP_NO_INDEX: '1', PIP_FIND_LINKS: wheels, PYCTL_TEST_PAUSE_AT: 'pip-end', PYTHONDONTWRITEBYTECODE: undefined },
  });
}

/** A sitecustomize that holds pip at its first compileall.compile_file until SIGUSR2 (at most a minute). */
const HOLD_FIRST_COMPILE = `import compileall, signal, sys, time
_real = compileall.compile_file
def _first(*a, **k):
    compileall.compile_file = _real
    woke = []
    signal.signal(signal.SIGUSR2, lambda *_: woke.append(1))
    sys.stderr.write("test pause at pip-compile\\n")
    sys.stderr.flush()
    end = time.time() + 60
    while not woke and time.time() < end:
        time.sleep(0.02)
    return _real(*a, **k)
compileall.compile_file = _first
`;

async function freshHome(tag: string): Promise<string> {
  const home = join(root, tag);
  const r = await pyctl(home, ['init']);
  expect(r.exitCode, r.stderr).toBe(0);
  return home;
}

describe('the record started with pip', () => {
  it('keeps each package pip finished in the store while pip still runs; the record after pip only commits', async () => {
    const home = await freshHome('home-kept');
    const hd = await head(home);
    const run = await pipHeld(home);
    // pip has done its work and waits at pip-end: the record started with it keeps both packages.
    await until(() => stored(home).includes('ea==1.0.json') && stored(home).includes('eb==1.0.json'), 'ea and eb stored while pip runs');
    expect(await head(home)).toBe(hd); // nothing committed before pip ends
    expect(readFileSync(lock(home), 'utf8')).toMatch(new RegExp(`^${run.child.pid} \\S+ pip install\\n`));
    expect(readFileSync(`${lock(home)}.helper`, 'utf8')).toMatch(new RegExp(`record for pip ${run.child.pid}\\n`));
    const entry = (n: string) => statSync(join(packages(home), n));
    const before = ['ea==1.0.json', 'eb==1.0.json'].map((n) => [entry(n).ino, entry(n).mtimeMs]);
    process.kill(run.child.pid!, 'SIGUSR2'); // to pip alone: SIGUSR2 would end a Node process
    expect(await run.exit, run.stderr()).toBe(0);
    expect(await git(home, ['log', '-1', '--format=%s'])).toBe('pip install eb');
    expect(await git(home, ['log', '-1', '--format=%B'])).toMatch(/^\+ ea 1\.0$/m);
    // The record after pip found them stored: their index files were not written again.
    expect(['ea==1.0.json', 'eb==1.0.json'].map((n) => [entry(n).ino, entry(n).mtimeMs])).toEqual(before);
    const dirs = { files: join(home, '.git', 'pyctl', 'files'), packages: packages(home) };
    const venv = join(home, 'venv');
    for (const d of readInstalled(venv).filter((x) => x.key === 'ea' || x.key === 'eb')) {
      expect(isStoredInstall(dirs, d, venv)).toBe(true);
      // pip's final RECORD, every row (.pyc included), each file the venv's (files of equal content share one stored copy).
      const rows = readFileSync(join(d.infoPath, 'RECORD'), 'utf8').split('\n').filter(Boolean);
      expect(rows.some((r) => r.includes('.pyc,'))).toBe(true);
      const e = readStored(dirs, d.key, d.version)!;
      expect(e.files.map((f) => f[0]).sort()).toEqual(rows.map((r) => join(e.info, '..', r.split(',')[0])).sort());
      for (const f of e.files) expect(readFileSync(join(dirs.files, f[1]))).toEqual(readFileSync(join(venv, f[0])));
      expect(statSync(join(dirs.files, e.files.find((f) => f[0].endsWith('.pyc'))![1])).ino).toBe(statSync(join(venv, e.files.find((f) => f[0].endsWith('.pyc'))![0])).ino);
    }
    expect(existsSync(lock(home))).toBe(false);
    expect(existsSync(`${lock(home)}.helper`)).toBe(false);
    await fsck(home);
  });

  it("links a package's files into the store while pip compiles it, before its final RECORD; the record keeps those very links", async () => {
    const home = await freshHome('home-compiling');
    const venv = join(home, 'venv');
    // pip held before its first byte-compile by a sitecustomize on PYTHONPATH (this test's, not pyctl's).
    const custom = join(root, 'hold-compile');
    mkdirSync(custom, { recursive: true });
    writeFileSync(join(custom, 'sitecustomize.py'), HOLD_FIRST_COMPILE);
    const run = await startUntil(join(venv, 'bin', 'pip'), ['install', 'ea'], /test pause at pip-compile/, {
      env: { PIP_NO_INDEX: '1', PIP_FIND_LINKS: wheels, PYTHONPATH: custom, PYTHONDONTWRITEBYTECODE: undefined },
    });
    // pip has unpacked ea (the wheel's own RECORD last) and is about to compile it: ea's source
    // gets a second link, in the store, while ea is not stored yet (no index, no final RECORD).
    const source = statSync(join(sitePackages(venv), 'ea.py')).ino;
    const files = join(home, '.git', 'pyctl', 'files');
    const linkedEarly = () => existsSync(files) && readdirSync(files).some((n) => statSync(join(files, n)).ino === source);
    await until(linkedEarly, "ea's source linked into the store while pip is held before compiling");
    expect(stored(home)).not.toContain('ea==1.0.json');
    expect(readFileSync(join(sitePackages(venv), 'ea-1.0.dist-info', 'RECORD'), 'utf8')).not.toMatch(/INSTALLER/);
    process.kill(run.child.pid!, 'SIGUSR2');
    expect(await run.exit, run.stderr()).toBe(0);
    const dirs = { files, packages: packages(home) };
    const d = readInstalled(venv).find((x) => x.key === 'ea')!;
    expect(isStoredInstall(dirs, d, venv)).toBe(true);
    const e = readStored(dirs, 'ea', '1.0')!;
    const rows = readFileSync(join(d.infoPath, 'RECORD'), 'utf8').split('\n').filter(Boolean);
    expect(e.files.map((f) => f[0]).sort()).toEqual(rows.map((r) => join(e.info, '..', r.split(',')[0])).sort());
    // Every stored file is the venv's very file (the source linked early, the .pyc compiled after).
    for (const f of e.files) expect(statSync(join(files, f[1])).ino).toBe(statSync(join(venv, f[0])).ino);
    expect(e.files.some((f) => f[0].endsWith('.pyc'))).toBe(true);
    expect(await git(home, ['log', '-1', '--format=%s'])).toBe('pip install ea');
    await fsck(home);
  });

  it('when the record started with pip is gone, the hook records after pip as before', async () => {
    const home = await freshHome('home-gone');
    const run = await pipHeld(home);
    const early = children(run.child.pid!).filter((c) => / _record .*--wait stdin/.test(c.cmd));
    expect(early).toHaveLength(1);
    process.kill(early[0].pid, 'SIGKILL');
    process.kill(run.child.pid!, 'SIGUSR2');
    expect(await run.exit, run.stderr()).toBe(0);
    expect(await git(home, ['log', '-1', '--format=%s'])).toBe('pip install eb');
    expect(stored(home)).toEqual(expect.arrayContaining(['ea==1.0.json', 'eb==1.0.json']));
    expect(existsSync(lock(home))).toBe(false);
    await fsck(home);
  });

  it('pip killed while its record waits: that record ends, and the next command records the run, marked interrupted', async () => {
    const home = await freshHome('home-killed');
    const hd = await head(home);
    const run = await pipHeld(home);
    await until(() => stored(home).includes('eb==1.0.json'), 'eb stored while pip runs');
    const early = children(run.child.pid!).filter((c) => / _record .*--wait stdin/.test(c.cmd));
    expect(early).toHaveLength(1);
    process.kill(run.child.pid!, 'SIGKILL'); // pip alone: its record sees its stdin end
    await run.exit;
    await until(() => !existsSync(`/proc/${early[0].pid}`) || readFileSync(`/proc/${early[0].pid}/stat`, 'utf8').split(') ')[1].startsWith('Z'), 'the early record ended');
    expect(existsSync(`${lock(home)}.helper`)).toBe(false);
    expect(await head(home)).toBe(hd);
    const sync = await pyctl(home, ['sync']);
    expect(sync.exitCode, sync.stderr).toBe(0);
    expect(await git(home, ['log', '-1', '--format=%s'])).toBe('interrupted pip install (found after a crash)');
    expect(await git(home, ['log', '-1', '--format=%B'])).toMatch(/^\+ eb 1\.0$/m);
    expect(existsSync(lock(home))).toBe(false);
    await fsck(home);
    await killGroup(run.child);
  });

  it('pip uninstall is recorded through the record started with it', async () => {
    const home = await freshHome('home-uninstall');
    const env = { PIP_NO_INDEX: '1', PIP_FIND_LINKS: wheels };
    const i = await startUntil(join(home, 'venv', 'bin', 'pip'), ['install', 'eb'], /test pause at pip-end/, { env: { ...env, PYCTL_TEST_PAUSE_AT: 'pip-end' } });
    process.kill(i.child.pid!, 'SIGUSR2');
    expect(await i.exit).toBe(0);
    const u = await startUntil(join(home, 'venv', 'bin', 'pip'), ['uninstall', '-y', 'eb'], /test pause at pip-end/, { env: { ...env, PYCTL_TEST_PAUSE_AT: 'pip-end' } });
    expect(children(u.child.pid!).filter((c) => / _record .*--wait stdin/.test(c.cmd))).toHaveLength(1);
    process.kill(u.child.pid!, 'SIGUSR2');
    expect(await u.exit, u.stderr()).toBe(0);
    expect(await git(home, ['log', '-1', '--format=%s'])).toBe('pip uninstall -y eb');
    expect(readdirSync(sitePackages(join(home, 'venv'))).some((n) => n.startsWith('eb-'))).toBe(false);
  });
});

describe('the early record, pure parts', () => {
  it("knows pip's final RECORD by its INSTALLER row (the wheel's own RECORD has none)", () => {
    expect(isFinalRecord('ea/__init__.py,sha256=x,3\nea-1.0.dist-info/INSTALLER,sha256=y,4\nea-1.0.dist-info/RECORD,,\n', 'ea-1.0.dist-info')).toBe(true);
    expect(isFinalRecord('ea-1.0.dist-info/INSTALLER,sha256=y,4\n', 'ea-1.0.dist-info')).toBe(true);
    expect(isFinalRecord('ea/__init__.py,sha256=x,3\nea-1.0.dist-info/RECORD,,\n', 'ea-1.0.dist-info')).toBe(false);
    expect(isFinalRecord('xea-1.0.dist-info/INSTALLER,sha256=y,4\n', 'ea-1.0.dist-info')).toBe(false);
  });

  it("reads the hook's word: a status, '-', skip, or nothing (pip died)", () => {
    expect(parsePipEnd('0')).toEqual({ exit: '0' });
    expect(parsePipEnd('1\r')).toEqual({ exit: '1' });
    expect(parsePipEnd('-')).toEqual({ exit: undefined });
    expect(parsePipEnd('skip')).toBe('skip');
    expect(parsePipEnd(null)).toBeNull();
    expect(parsePipEnd('')).toBeNull();
  });
});
