/**
 * PEP 751 lock files, end to end against a real index on 127.0.0.1 (PEP 503/691 with sha256):
 * export --format pylock writes a valid pylock.toml that restore --file reads back on another
 * machine, fetching from the lock's own URLs with every hash checked; a pylock.toml written by
 * pip's own `pip lock` (pip 26 from the machine's local index); one in uv's shape; and the
 * refusals, each one line with nothing changed.
 */
import { execa } from 'execa';
import { existsSync, lstatSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, installedSet, pip, pyctl } from './helpers/cli.js';
import { hermeticEnv, python3, removeDir, tempDir } from './helpers/env.js';
import { startIndexServer, type IndexServer } from './helpers/index-server.js';
import { HomeStates } from './helpers/states.js';
import { buildWheels, wheelFileName } from './helpers/wheels.js';
import { sitePackagesDir } from '../src/venv/syspath.js';

let root: string;
let index: IndexServer;
let served: string;
let files: string;
const fromIndex = () => ({ env: { PIP_INDEX_URL: index.url, PIP_NO_INDEX: undefined } });
// A machine with no index at all: whatever restore installs must come from the lock's URLs.
const noIndex = { PIP_NO_INDEX: '1' };
const venvOf = (h: string) => join(h, 'venv');
// The installed set without starting pip (helpers/cli.ts); userFreeze leaves out what plain
// `pip freeze` leaves out.
const userFreeze = async (h: string) =>
  (await installedSet(venvOf(h)))
    .split('\n')
    .filter((l) => !/^(pip|setuptools|wheel|distribute)==/i.test(l))
    .join('\n');
/**
 * What a refused restore must leave as it was: HEAD, and every entry of the venv's site-packages and
 * bin with its size and mtime (any install, uninstall or rewrite shows; the installed set's
 * dist-info folders are among them), read here without starting Python.
 */
const fingerprint = async (h: string) => [await git(h, ['rev-parse', 'HEAD']), ...[sitePackagesDir(venvOf(h)), join(venvOf(h), 'bin')].map(listing)];
const listing = (dir: string) =>
  readdirSync(dir)
    .sort()
    .map((n) => {
      const st = lstatSync(join(dir, n));
      return `${n} ${st.size} ${st.mtimeMs}`;
    })
    .join('\n');
const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('error:'));
/**
 * Two homes, each put back to a fresh `pyctl init` for the test that uses it (helpers/states.ts):
 * init runs once per home, not once per test. The first is the home a test changes; the second is
 * the other machine of the first test, and the home the refusals (and the bad lock) leave as it was,
 * each checking it is left so.
 */
let first: HomeStates;
let second: HomeStates;
const fresh = async (states: HomeStates, name: string, read?: 'read') => {
  const h = join(root, name);
  const build = async () => {
    removeDir(h);
    const r = await pyctl(h, ['init']);
    expect(r.exitCode, r.stderr).toBe(0);
  };
  await (read ? states.givenToRead('init', build) : states.given('init', build));
  return h;
};
const newHome = () => fresh(first, 'home');
const otherHome = () => fresh(second, 'other');
const untouchedHome = () => fresh(second, 'other', 'read');
const tomllib = async (file: string) => JSON.parse((await execa(python3(), ['-c', 'import json, sys, tomllib; print(json.dumps(tomllib.load(open(sys.argv[1], "rb")), default=str))', file])).stdout);

beforeAll(async () => {
  root = tempDir('pyctl-pylock-');
  served = buildWheels(join(root, 'served'), [
    { name: 'alpha', version: '1.0' },
    { name: 'beta', version: '2.0', requires: ['alpha'] },
    { name: 'winonly', version: '1.0' },
  ]);
  index = await startIndexServer(served);
  files = index.url.replace('/simple/', '/files/');
  // No test writes pip's or setuptools' files in place: the cache's files are linked, not copied.
  first = new HomeStates(join(root, 'home'), join(root, 'states-1'), [], { linkCache: true });
  second = new HomeStates(join(root, 'other'), join(root, 'states-2'), [], { linkCache: true });
});
afterAll(async () => {
  await index?.close();
  removeDir(root);
});

describe('export --format pylock', () => {
  it('writes a valid PEP 751 pylock.toml from the provenance, and another machine restores it from the lock alone', async () => {
    const a = await newHome();
    expect((await pip(venvOf(a), ['install', 'beta'], fromIndex())).exitCode).toBe(0);
    const lock = join(root, 'pylock.toml');
    const e = await pyctl(a, ['export', '--format', 'pylock', '-o', lock], { PIP_INDEX_URL: index.url });
    expect(e.exitCode, e.stderr).toBe(0);
    expect(e.stdout).toBe(`wrote 2 package(s) of the current state to ${lock}`);
    const doc = await tomllib(lock);
    // The venv's Python X.Y, as the venv module wrote it in pyvenv.cfg (no Python started to ask).
    const py = /^version(?:_info)? = (\d+\.\d+)/m.exec(readFileSync(join(venvOf(a), 'pyvenv.cfg'), 'utf8'))![1];
    expect(doc).toMatchObject({ 'lock-version': '1.0', 'created-by': 'pyctl', 'requires-python': `>=${py}` });
    const entry = (name: string, version: string) => {
      const f = wheelFileName(name, version);
      return { name, version, index: index.url, wheels: [{ name: f, url: `${files}${f}`, size: statSync(join(served, f)).size, hashes: { sha256: index.sha256(f) } }] };
    };
    expect(doc.packages).toEqual([entry('alpha', '1.0'), entry('beta', '2.0')]);
    expect(readFileSync(lock, 'utf8')).toMatch(
      /^# pyctl export of the current state \(operation \d+, .*\n# PEP 751 lock file; restore with: pyctl restore --file .*pylock\.toml\n# left out \(the venv's own seed copies, from no index\): pip==/,
    );

    const b = await otherHome();
    const before = index.requests.length;
    const r = await pyctl(b, ['restore', '--file', lock], noIndex);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^pyctl restore --file pylock\.toml: recorded as operation 1 \(\+2\)/);
    expect(await userFreeze(b)).toBe('alpha==1.0\nbeta==2.0');
    // Fetched from the lock's URLs, the pages of the index never asked.
    const asked = index.requests.slice(before);
    expect(asked.sort()).toEqual([`/files/${wheelFileName('alpha', '1.0')}`, `/files/${wheelFileName('beta', '2.0')}`]);
    // The restore recorded where they came from: B's own export pins the same hashes as A's.
    const hashesA = await pyctl(a, ['export', '--hashes'], noIndex);
    const hashesB = await pyctl(b, ['export', '--hashes'], noIndex);
    expect(hashesB.exitCode, hashesB.stderr).toBe(0);
    const pins = (t: string) => t.split('\n').filter((l) => !l.startsWith('#'));
    expect(pins(hashesB.stdout)).toEqual(pins(hashesA.stdout));
    expect(await git(b, ['log', '-1', '--format=%B'])).toMatch(/Pyctl-Target: pylock\.toml/);
    // And it is undoable like any restore.
    expect((await pyctl(b, ['undo'])).exitCode).toBe(0);
    expect(await userFreeze(b)).toBe('');
  });

  it('asks the index for a version with no recorded origin, and refuses a version that has no file anywhere', async () => {
    const h = await newHome();
    // Installed with the report going to stdout: no provenance for alpha.
    expect((await pip(venvOf(h), ['install', '--report', '-', 'alpha'], fromIndex())).exitCode).toBe(0);
    const r = await pyctl(h, ['export', '--format', 'pylock'], { PIP_INDEX_URL: index.url });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain(`[[packages]]\nname = "alpha"\nversion = "1.0"\nindex = "${index.url}"\n`);
    expect(r.stdout).toContain(`sha256 = "${index.sha256(wheelFileName('alpha', '1.0'))}"`);
    const none = await pyctl(h, ['export', '--format', 'pylock'], noIndex);
    expect(none.exitCode).toBe(1);
    expect(errorLines(none.stderr)).toEqual(['error: cannot lock alpha==1.0: no recorded origin and not on the index, so there is no file to name']);
    const both = await pyctl(h, ['export', '--format', 'pylock', '--hashes']);
    expect(both.exitCode).toBe(2);
    const fmt = await pyctl(h, ['export', '--format', 'poetry']);
    expect(errorLines(fmt.stderr)).toEqual(["error: unknown --format 'poetry'"]);
  });
});

/** A pip >= 26 wheel on the machine's local index (/opt/pypi), for `pip lock`. */
const pipLockWheel = (() => {
  const page = '/opt/pypi/simple/pip/index.html';
  const href = existsSync(page) ? /href="([^"#]*pip-2[6-9]\.[^"#]*\.whl)/.exec(readFileSync(page, 'utf8')) : null;
  return href ? resolve('/opt/pypi/simple/pip', href[1]) : undefined;
})();

describe('restore --file pylock.toml', () => {
  // pip lock needs pip >= 25.1: the machine's local index has pip 26 (CI's too); skipped without it.
  it.skipIf(!pipLockWheel)(
    'reads the pylock.toml that pip lock writes (pip 26 from the local index)',
    async () => {
      // pip run straight from its wheel, as pip's docs allow (python pip.whl/pip): no venv to make for it.
      const pipWheel = pipLockWheel!;
      const work = join(root, 'pip-lock');
      await execa('mkdir', ['-p', work]);
      const l = await execa(python3(), [join(pipWheel, 'pip'), 'lock', '--index-url', index.url, 'beta', '-o', 'pylock.toml'], { cwd: work, env: hermeticEnv(), extendEnv: false, reject: false });
      expect(l.exitCode, l.stderr).toBe(0);
      const lock = join(work, 'pylock.toml');
      expect(readFileSync(lock, 'utf8')).toMatch(/^created-by = "pip"$/m);
      const h = await newHome();
      const r = await pyctl(h, ['restore', '--file', lock], noIndex);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(await userFreeze(h)).toBe('alpha==1.0\nbeta==2.0');
      expect(readFileSync(join(h, 'provenance.txt'), 'utf8')).toContain(
        `beta==2.0 sha256:${index.sha256(wheelFileName('beta', '2.0'))} ${wheelFileName('beta', '2.0')} ${files}${wheelFileName('beta', '2.0')}`,
      );

      // The same lock with one hash changed: pip refuses the download, nothing changes.
      const bad = join(work, 'pylock.bad.toml');
      writeFileSync(bad, readFileSync(lock, 'utf8').replace(index.sha256(wheelFileName('alpha', '1.0')), '0'.repeat(64)));
      const h2 = await untouchedHome();
      const before = await fingerprint(h2);
      const no = await pyctl(h2, ['restore', '--file', bad], noIndex);
      expect(no.exitCode).toBe(1);
      expect(errorLines(no.stderr)).toEqual([
        expect.stringMatching(/^error: cannot get alpha==1\.0 for CPython [\d.]+ \(not in the wheelhouse, and pip could not get one: THESE PACKAGES DO NOT MATCH THE HASHES/),
      ]);
      expect(await fingerprint(h2)).toEqual(before);
    },
    180_000,
  );

  it("reads uv's shape (hand-written: no uv here), skipping packages whose marker does not apply", async () => {
    // As `uv export --no-emit-project --format pylock.toml` writes it (uv 0.8 docs): inline
    // tables, wheels without a name, upload-time datetimes, a marker, requires-python.
    const f = (n: string, v: string) => wheelFileName(n, v);
    const wheel = (n: string, v: string) =>
      `{ url = "${files}${f(n, v)}", upload-time = 2025-03-17T00:02:52Z, size = ${statSync(join(served, f(n, v))).size}, hashes = { sha256 = "${index.sha256(f(n, v))}" } }`;
    const lock = join(root, 'uv', 'pylock.toml');
    await execa('mkdir', ['-p', join(root, 'uv')]);
    writeFileSync(
      lock,
      `# This file was autogenerated by uv via the following command:
#    uv export --no-emit-project --format pylock.toml
lock-version = "1.0"
created-by = "uv"
requires-python = ">=3.8"

[[packages]]
name = "alpha"
version = "1.0"
index = "${index.url}"
wheels = [${wheel('alpha', '1.0')}]

[[packages]]
name = "winonly"
version = "1.0"
marker = "sys_platform == 'win32'"
index = "${index.url}"
wheels = [${wheel('winonly', '1.0')}]
`,
    );
    const h = await newHome();
    const r = await pyctl(h, ['restore', '--file', lock], noIndex);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/1 package\(s\) not for this environment, skipped: winonly 1\.0 \(sys_platform == 'win32'\)/);
    expect(await userFreeze(h)).toBe('alpha==1.0');
  });

  const lockOf = (body: string) => `lock-version = "1.0"\ncreated-by = "test"\n${body}`;
  const good = () =>
    `[[packages]]\nname = "alpha"\nversion = "1.0"\nwheels = [{ url = "${files}${wheelFileName('alpha', '1.0')}", hashes = { sha256 = "${index.sha256(wheelFileName('alpha', '1.0'))}" } }]\n`;
  it.each([
    ['a newer major lock-version', () => `lock-version = "2.0"\ncreated-by = "x"\n[[packages]]\nname = "a"\n`, /lock-version 2\.0 is not supported/],
    ['no environment applies', () => lockOf(`environments = ["sys_platform == 'win32'"]\n${good()}`), /none of its environments applies to this venv/],
    ['requires-python', () => lockOf(`requires-python = "<3"\n${good()}`), /requires-python <3 does not admit this venv's Python 3\./],
    ['a marker on dependency groups', () => lockOf(`${good()}marker = "'dev' in dependency_groups"\n`), /package alpha: marker ''dev' in dependency_groups' is not supported/],
    ['a package without a source', () => lockOf(`[[packages]]\nname = "alpha"\nversion = "1.0"\n`), /package alpha has no source/],
    ['sha512 only', () => lockOf(good().replace('sha256 = "', 'sha512 = "')), /package alpha: only sha256 hashes are supported \(found sha512\)/],
    ['no hashes', () => lockOf(`[[packages]]\nname = "alpha"\nversion = "1.0"\nwheels = [{ url = "${files}x.whl" }]\n`), /package alpha wheels\[0\] has no hashes/],
    ['a name twice', () => lockOf(good() + good()), /alpha is listed more than once/],
    ['broken TOML', () => 'lock-version = "1.0"\n[[packages]\n', /pylock\.toml:2:\d+: /],
    ['not a lock', () => 'name = "x"\n', /no lock-version: not a PEP 751 lock file/],
  ])('refuses %s in one line and changes nothing', async (_what, text, msg) => {
    const h = await untouchedHome();
    const dir = tempDir('pyctl-pylock-bad-');
    const lock = join(dir, 'pylock.toml');
    writeFileSync(lock, text());
    const before = await fingerprint(h);
    const r = await pyctl(h, ['restore', '--file', lock], noIndex);
    expect(r.exitCode).toBe(1);
    expect(errorLines(r.stderr)).toEqual([expect.stringMatching(msg)]);
    expect(r.stderr).toMatch(/^hint: /m);
    expect(await fingerprint(h)).toEqual(before);
    removeDir(dir);
  });
});
