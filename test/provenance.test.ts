/**
 * Provenance, end to end: real pip installing from a real index on 127.0.0.1 (PEP 503 pages with
 * sha256 fragments, PEP 691 JSON) records where each file came from in provenance.txt; export
 * --hashes pins those hashes, and pip installs the export with --require-hashes against that
 * index alone.
 */
import { execa } from 'execa';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, pip, pyctl } from './helpers/cli.js';
import { hermeticEnv, removeDir, tempDir } from './helpers/env.js';
import { startIndexServer, type IndexServer } from './helpers/index-server.js';
import { buildWheels, wheelFileName } from './helpers/wheels.js';

let root: string;
let home: string;
let index: IndexServer;
let served: string;
const fromIndex = () => ({ env: { PIP_INDEX_URL: index.url, PIP_NO_INDEX: undefined } });

beforeAll(async () => {
  root = tempDir('pyctl-prov-');
  home = join(root, 'home');
  served = buildWheels(join(root, 'served'), [
    { name: 'alpha', version: '1.0' },
    { name: 'beta', version: '2.0', requires: ['alpha'] },
    { name: 'gamma', version: '3.0' },
  ]);
  index = await startIndexServer(served);
  const r = await pyctl(home, ['init']);
  expect(r.exitCode, r.stderr).toBe(0);
});
afterAll(async () => {
  await index?.close();
  removeDir(root);
});

describe('provenance.txt', () => {
  it("records each installed file's name, URL and sha256 from pip's report, in the state repo", async () => {
    const r = await pip(join(home, 'venv'), ['install', 'beta'], fromIndex());
    expect(r.exitCode, r.stderr).toBe(0);
    const text = readFileSync(join(home, 'provenance.txt'), 'utf8');
    for (const [name, version] of [['alpha', '1.0'], ['beta', '2.0']]) {
      const file = wheelFileName(name, version);
      expect(text).toContain(`${name}==${version} sha256:${index.sha256(file)} ${file} ${index.url.replace('/simple/', '/files/')}${file}\n`);
    }
    // Committed beside freeze.txt, readable by git diff; pyctl's own report file is gone.
    expect(await git(home, ['show', 'HEAD:provenance.txt'])).toBe(text.trimEnd());
    expect(await git(home, ['diff', 'HEAD~1', 'HEAD', '--', 'provenance.txt'])).toMatch(/^\+alpha==1\.0 sha256:/m);
    expect(existsSync(join(home, '.git', 'pyctl')) && (await execa('ls', [join(home, '.git', 'pyctl')])).stdout).not.toMatch(/report-/);
  });

  it("leaves the user's own --report alone: a file is written and read, '-' still prints", async () => {
    const own = join(root, 'my-report.json');
    const r = await pip(join(home, 'venv'), ['install', '--report', own, 'gamma'], fromIndex());
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(own, 'utf8')).install[0].metadata.name).toBe('gamma');
    expect(readFileSync(join(home, 'provenance.txt'), 'utf8')).toMatch(/^gamma==3\.0 sha256:/m);

    expect((await pip(join(home, 'venv'), ['uninstall', '-y', 'gamma'])).exitCode).toBe(0);
    const dash = await pip(join(home, 'venv'), ['install', '--quiet', '--report', '-', 'gamma'], fromIndex());
    expect(dash.exitCode, dash.stderr).toBe(0);
    expect(JSON.parse(dash.stdout).install[0].metadata.name).toBe('gamma');
  });

  it('export --hashes pins the index files, and pip installs it with --require-hashes from that index alone', async () => {
    // Its own machine: beta and alpha recorded with their origin, gamma without (its report went
    // to stdout), so export asks the index for gamma's hash.
    const h = join(root, 'export-home');
    expect((await pyctl(h, ['init'])).exitCode).toBe(0);
    expect((await pip(join(h, 'venv'), ['install', 'beta'], fromIndex())).exitCode).toBe(0);
    expect((await pip(join(h, 'venv'), ['install', '--report', '-', 'gamma'], fromIndex())).exitCode).toBe(0);
    expect(readFileSync(join(h, 'provenance.txt'), 'utf8')).not.toMatch(/gamma/);
    const out = join(root, 'req.txt');
    const e = await pyctl(h, ['export', '--hashes', '-o', out], { PIP_INDEX_URL: index.url });
    expect(e.exitCode, e.stderr).toBe(0);
    const req = readFileSync(out, 'utf8');
    for (const [name, version] of [['alpha', '1.0'], ['beta', '2.0'], ['gamma', '3.0']]) {
      expect(req).toContain(`${name}==${version} \\\n    --hash=sha256:${index.sha256(wheelFileName(name, version))}`);
    }
    expect(req).not.toMatch(/kept/);
    const fresh = join(root, 'fresh');
    await execa(join(process.env.HOME!, '.pyenv/versions/3.12.1/bin/python'), ['-m', 'venv', fresh]).catch(async () => execa('python3', ['-m', 'venv', fresh]));
    const before = index.requests.length;
    const r = await execa(join(fresh, 'bin', 'pip'), ['install', '--require-hashes', '-r', out, '--index-url', index.url], { env: hermeticEnv({}), extendEnv: false, reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(index.requests.slice(before)).toContain(`/files/${wheelFileName('gamma', '3.0')}`);
  });
});
