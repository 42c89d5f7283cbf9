/**
 * Provenance, end to end: real pip installing from a real index on 127.0.0.1 (PEP 503 pages with
 * sha256 fragments, PEP 691 JSON) records where each file came from in provenance.txt; export
 * --hashes pins those hashes, and pip installs the export with --require-hashes against that
 * index alone. Every test starts from a state of one home put back by HomeStates
 * (helpers/states.ts), so each passes alone or shuffled.
 */
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, installedSet, pip, pyctl } from './helpers/cli.js';
import { hermeticEnv, removeDir, tempDir } from './helpers/env.js';
import { startIndexServer, type IndexServer } from './helpers/index-server.js';
import { HomeStates } from './helpers/states.js';
import { buildWheel, buildWheels, wheelFileName } from './helpers/wheels.js';

let root: string;
let home: string;
let index: IndexServer;
let served: string;
let states: HomeStates;
const sha256Of = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const fromIndex = () => ({ env: { PIP_INDEX_URL: index.url, PIP_NO_INDEX: undefined } });

beforeAll(async () => {
  root = tempDir('pyctl-prov-');
  home = join(root, 'home');
  served = buildWheels(join(root, 'served'), [
    { name: 'alpha', version: '1.0' },
    { name: 'beta', version: '2.0', requires: ['alpha'] },
    { name: 'gamma', version: '3.0' },
    { name: 'delta', version: '1.0' },
    { name: 'eps', version: '1.0' },
  ]);
  index = await startIndexServer(served);
  states = new HomeStates(home, join(root, 'states'), [], { linkCache: true });
});
afterAll(async () => {
  await index?.close();
  removeDir(root);
});

// The states tests start from (helpers/states.ts), each built once.
const initialised = () =>
  states.given('init', async () => {
    removeDir(home);
    const r = await pyctl(home, ['init']);
    expect(r.exitCode, r.stderr).toBe(0);
  });
/** pip install beta (and alpha, its requirement) from the index. */
const betaInstalled = (read?: 'read') => {
  const build = async () => {
    await initialised();
    const r = await pip(join(home, 'venv'), ['install', 'beta'], fromIndex());
    expect(r.exitCode, r.stderr).toBe(0);
  };
  return read ? states.givenToRead('beta', build) : states.given('beta', build);
};

describe('provenance.txt', () => {
  it("records each installed file's name, URL and sha256 from pip's report, in the state repo", async () => {
    await betaInstalled('read');
    const text = readFileSync(join(home, 'provenance.txt'), 'utf8');
    for (const [name, version] of [
      ['alpha', '1.0'],
      ['beta', '2.0'],
    ]) {
      const file = wheelFileName(name, version);
      expect(text).toContain(`${name}==${version} sha256:${index.sha256(file)} ${file} ${index.url.replace('/simple/', '/files/')}${file}\n`);
    }
    // Committed beside freeze.txt, readable by git diff; pyctl's own report file is gone.
    expect(await git(home, ['show', 'HEAD:provenance.txt'])).toBe(text.trimEnd());
    expect(await git(home, ['diff', 'HEAD~1', 'HEAD', '--', 'provenance.txt'])).toMatch(/^\+alpha==1\.0 sha256:/m);
    expect(existsSync(join(home, '.git', 'pyctl')) && (await execa('ls', [join(home, '.git', 'pyctl')])).stdout).not.toMatch(/report-/);
  });

  it("leaves the user's own --report alone: a file is written and read, '-' still prints", async () => {
    await initialised();
    const own = join(root, 'my-report.json');
    const r = await pip(join(home, 'venv'), ['install', '--report', own, 'gamma'], fromIndex());
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(own, 'utf8')).install[0].metadata.name).toBe('gamma');
    expect(readFileSync(join(home, 'provenance.txt'), 'utf8')).toMatch(/^gamma==3\.0 sha256:/m);

    const dash = await pip(join(home, 'venv'), ['install', '--quiet', '--report', '-', 'delta'], fromIndex());
    expect(dash.exitCode, dash.stderr).toBe(0);
    expect(JSON.parse(dash.stdout).install[0].metadata.name).toBe('delta');
  });

  it('export --hashes pins the index files, and pip installs it with --require-hashes from that index alone', async () => {
    // Beta and alpha recorded with their origin, gamma without (its report went to stdout), so
    // export asks the index for gamma's hash.
    await betaInstalled();
    const h = home;
    expect((await pip(join(h, 'venv'), ['install', '--report', '-', 'gamma'], fromIndex())).exitCode).toBe(0);
    expect(readFileSync(join(h, 'provenance.txt'), 'utf8')).not.toMatch(/gamma/);
    const out = join(root, 'req.txt');
    const e = await pyctl(h, ['export', '--hashes', '-o', out], { PIP_INDEX_URL: index.url });
    expect(e.exitCode, e.stderr).toBe(0);
    const req = readFileSync(out, 'utf8');
    for (const [name, version] of [
      ['alpha', '1.0'],
      ['beta', '2.0'],
      ['gamma', '3.0'],
    ]) {
      expect(req).toContain(`${name}==${version} \\\n    --hash=sha256:${index.sha256(wheelFileName(name, version))}`);
    }
    expect(req).not.toMatch(/kept/);
    // A fresh venv without pip of its own (ensurepip costs seconds): the home's pip installs into it.
    const fresh = join(root, 'fresh');
    removeDir(fresh);
    await execa(join(process.env.HOME!, '.pyenv/versions/3.12.1/bin/python'), ['-m', 'venv', '--without-pip', fresh]).catch(async () => execa('python3', ['-m', 'venv', '--without-pip', fresh]));
    const before = index.requests.length;
    const r = await execa(join(h, 'venv', 'bin', 'python'), ['-m', 'pip', '--python', join(fresh, 'bin', 'python'), 'install', '--require-hashes', '-r', out, '--index-url', index.url], {
      env: hermeticEnv({ PYCTL_NO_RECORD: '1' }),
      extendEnv: false,
      reject: false,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(index.requests.slice(before)).toContain(`/files/${wheelFileName('gamma', '3.0')}`);
  }, 300_000); // a home and a venv made, three pip runs: minutes on a loaded machine
});

describe('restore checks what it installs', () => {
  const venvOf = (h: string) => join(h, 'venv');
  const fingerprint = async (h: string) => [await git(h, ['rev-parse', 'HEAD']), await installedSet(venvOf(h)), (await git(h, ['tag'])).split('\n').sort().join(' ')];
  const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('error:'));
  /**
   * delta and eps installed from the index (operation 1), then taken out again (operation 2, an
   * undo: no second pip run), for undo to bring back.
   */
  const bothUninstalled = () =>
    states.given('delta-eps-gone', async () => {
      await initialised();
      expect((await pip(venvOf(home), ['install', 'delta', 'eps'], fromIndex())).exitCode).toBe(0);
      const u = await pyctl(home, ['undo'], { PIP_NO_INDEX: '1' });
      expect(u.exitCode, u.stderr).toBe(0);
      expect(await installedSet(venvOf(home))).not.toMatch(/^(delta|eps)==/m);
    });
  /** Change one stored file of a recorded version (as an edit through a venv link would): the store then refuses that version. */
  const editStoredFile = (h: string, pin: string, path: string): string => {
    const entry = JSON.parse(readFileSync(join(h, '.git', 'pyctl', 'packages', `${pin}.json`), 'utf8')) as { files: [string, string][] };
    const stored = entry.files.find(([p]) => p.endsWith(`/${path}`) || p === path);
    expect(stored, `${path} in ${pin}'s stored files`).toBeDefined();
    writeFileSync(join(h, '.git', 'pyctl', 'files', stored![1]), 'edited = True\n');
    return stored![0];
  };

  it('a kept original whose bytes are not the recorded ones is never used: offline, nothing changes; with the index, the recorded file is fetched, checked and kept instead', async () => {
    // The last operation took delta and eps out; eps comes back from the store, untouched.
    await bothUninstalled();
    const h = home;
    const file = wheelFileName('delta', '1.0');
    const kept = join(h, 'wheelhouse', file);
    // Recording kept pip's files in the store, not a wheel; and a stored file edited since
    // (its content no longer RECORD's) makes the store refuse the version, so undo looks for a wheel.
    expect(existsSync(kept)).toBe(false);
    const edited = editStoredFile(h, 'delta==1.0', 'delta.py');
    // Keep the original download instead, as pyctl does for files from local folders; then change it.
    const other = buildWheel(join(root, 'tampered'), { name: 'delta', version: '1.0', files: { 'delta.py': 'tampered = True\n' } });
    copyFileSync(other, kept);
    const changed = `not using the kept ${file}: its sha256 ${sha256Of(kept).slice(0, 16)}… is not the recorded ${index.sha256(file).slice(0, 16)}…`;
    const before = await fingerprint(h);
    // No index: the version cannot be had another way, so nothing changes.
    const r = await pyctl(h, ['undo'], { PIP_NO_INDEX: '1' });
    expect(r.exitCode).toBe(1);
    const storeNote = `not using the stored copy of delta 1.0: ${edited}: edited (its content no longer matches RECORD's sha256)`;
    expect(r.stderr.split(storeNote)).toHaveLength(2); // said once
    expect(r.stderr).toContain(changed);
    expect(errorLines(r.stderr)).toEqual([expect.stringMatching(/^error: cannot get delta==1\.0 for /)]);
    expect(r.stderr).toMatch(/^hint: nothing was changed/m);
    expect(await fingerprint(h)).toEqual(before);
    // With the index: the recorded file is fetched (its hash checked), installed, and kept in place of the changed one.
    const ok = await pyctl(h, ['undo'], { PIP_INDEX_URL: index.url });
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.stderr).toContain(changed);
    expect(await installedSet(venvOf(h))).toMatch(/^delta==1\.0$/m);
    const lib = join(venvOf(h), 'lib');
    expect(readFileSync(join(lib, readdirSync(lib)[0], 'site-packages', 'delta.py'), 'utf8')).not.toMatch(/tampered/);
    expect(sha256Of(kept)).toBe(index.sha256(file));
  });

  it("a download that is not the recorded file (the index's file was replaced) is refused and not kept", async () => {
    // The last operation took delta and eps out; delta comes back from the store, untouched.
    await bothUninstalled();
    const h = home;
    const file = wheelFileName('eps', '1.0');
    // Nothing kept that undo could link or install: no wheel, and the stored package's index gone.
    expect(existsSync(join(h, 'wheelhouse', file))).toBe(false);
    rmSync(join(h, '.git', 'pyctl', 'packages', 'eps==1.0.json'));
    // Same name, other bytes: the index now serves (and lists the hash of) another file.
    const original = join(root, `orig-${file}`);
    copyFileSync(join(served, file), original);
    buildWheel(served, { name: 'eps', version: '1.0', files: { 'eps.py': 'replaced = True\n' } });
    try {
      const before = await fingerprint(h);
      const r = await pyctl(h, ['undo'], { PIP_INDEX_URL: index.url });
      expect(r.exitCode).toBe(1);
      expect(errorLines(r.stderr)).toEqual([
        `error: refusing to install a file whose hash is not the original's: ${file} (just downloaded) has sha256 ${index.sha256(file).slice(0, 16)}…, not the recorded ${sha256Of(original).slice(0, 16)}…`,
      ]);
      expect(await fingerprint(h)).toEqual(before);
      expect(readdirSync(join(h, 'wheelhouse'))).not.toContain(file);
    } finally {
      copyFileSync(original, join(served, file));
    }
    // The index serves the recorded file again: the same undo now works.
    const ok = await pyctl(h, ['undo'], { PIP_INDEX_URL: index.url });
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(await installedSet(venvOf(h))).toMatch(/^eps==1\.0$/m);
  });
});
