/**
 * A Python without ensurepip (Debian/Ubuntu without python3-venv, simulated by a wrapper whose
 * PYTHONPATH shim makes `import ensurepip` fail): pyctl init still makes a venv with a working
 * pip, from --pip-wheel, the distro folder, the wheelhouse, or the index pip is configured with
 * (a real PEP 503 index served here on 127.0.0.1 with sha256 fragments, named in a pip.conf in
 * the test HOME). Wrong or missing hashes and no source at all are refused, nothing written.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVenv, findPython } from '../src/venv/create.js';
import { pyctl } from './helpers/cli.js';
import { hermeticEnv, removeDir, tempDir } from './helpers/env.js';

let work: string;
let pipWheel: string; // a real pip wheel (pyenv 3.12's ensurepip bundle)
let noEnsurepip: string; // /usr/bin/python3-like wrapper without ensurepip
let noVenv: string; // ... without ensurepip and without the venv module
let server: Server;
let base: string;
let proxy: Server;
let proxied: string[] = [];
const served: string[] = [];
/** How the index publishes the hash: 'right', 'wrong', 'none'; and whether it answers JSON. */
const index = { hash: 'right' as 'right' | 'wrong' | 'none', json: false, auth: '' };

function wrapper(dir: string, hide: string[]): string {
  const shim = join(dir, 'shim');
  mkdirSync(shim, { recursive: true });
  for (const m of hide) writeFileSync(join(shim, `${m}.py`), `raise ImportError("${m} hidden by the test")\n`);
  const py = join(dir, 'python3');
  const real = findPython('3.11');
  writeFileSync(py, `#!/bin/sh\nPYTHONPATH='${shim}' exec '${real}' "$@"\n`, { mode: 0o755 });
  return py;
}

function serve(req: IncomingMessage, res: ServerResponse): void {
  served.push(req.url ?? '');
  if (index.auth && req.headers.authorization !== `Basic ${Buffer.from(index.auth).toString('base64')}`) {
    res.writeHead(401, { 'www-authenticate': 'Basic realm="test"' }).end();
    return;
  }
  const name = basename(pipWheel);
  if (req.url === '/simple/pip/') {
    const sha = createHash('sha256').update(readFileSync(pipWheel)).digest('hex');
    const hash = index.hash === 'right' ? sha : index.hash === 'wrong' ? '0'.repeat(64) : undefined;
    if (index.json && /json/.test(String(req.headers.accept))) {
      const doc = { meta: { 'api-version': '1.0' }, name: 'pip', files: [{ filename: name, url: `../../files/${name}`, hashes: hash ? { sha256: hash } : {}, 'requires-python': '>=3.7' }] };
      res.writeHead(200, { 'content-type': 'application/vnd.pypi.simple.v1+json' }).end(JSON.stringify(doc));
      return;
    }
    // A newer pip this Python cannot run and a yanked one must both be passed over.
    const html = [
      '<!DOCTYPE html><html><body>',
      `<a href="../../files/pip-99.0-py3-none-any.whl#sha256=${'1'.repeat(64)}" data-requires-python="&gt;=3.99">pip-99.0-py3-none-any.whl</a>`,
      `<a href="../../files/pip-98.0-py3-none-any.whl#sha256=${'2'.repeat(64)}" data-yanked="">pip-98.0-py3-none-any.whl</a>`,
      `<a href="../../files/pip-1.0.tar.gz#sha256=${'3'.repeat(64)}">pip-1.0.tar.gz</a>`,
      `<a href="../../files/${name}${hash ? `#sha256=${hash}` : ''}" data-requires-python="&gt;=3.7">${name}</a>`,
      '</body></html>',
    ].join('\n');
    res.writeHead(200, { 'content-type': 'text/html' }).end(html);
    return;
  }
  if (req.url === `/files/${name}`) {
    res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(readFileSync(pipWheel));
    return;
  }
  res.writeHead(404).end();
}

/** A forwarding HTTP proxy (absolute-URI requests), as http_proxy points at. */
function forward(req: IncomingMessage, res: ServerResponse): void {
  proxied.push(req.url ?? '');
  const up = request(req.url!, { method: req.method, headers: req.headers }, (r) => {
    res.writeHead(r.statusCode ?? 502, r.headers);
    r.pipe(res);
  });
  up.on('error', () => res.writeHead(502).end());
  req.pipe(up);
}

const listen = (s: Server) => new Promise<number>((ok) => s.listen(0, '127.0.0.1', () => ok((s.address() as AddressInfo).port)));

beforeAll(async () => {
  work = tempDir('pyctl-noensurepip-');
  const bundled = join(findPython('3.12'), '..', '..', 'lib', 'python3.12', 'ensurepip', '_bundled');
  const whl = readdirSync(bundled).find((f) => f.startsWith('pip-'))!;
  pipWheel = join(work, whl);
  copyFileSync(join(bundled, whl), pipWheel);
  noEnsurepip = wrapper(join(work, 'py-noensurepip'), ['ensurepip']);
  noVenv = wrapper(join(work, 'py-novenv'), ['ensurepip', 'venv']);
  server = createServer(serve);
  base = `http://127.0.0.1:${await listen(server)}`;
  proxy = createServer(forward);
  await listen(proxy);
});
afterAll(async () => {
  await new Promise((ok) => server.close(ok));
  await new Promise((ok) => proxy.close(ok));
  removeDir(work);
});

let n = 0;
/** A fresh user: HOME (with a pip.conf naming `indexUrl` if given), its pyctl home not yet made. */
function user(indexUrl?: string): { home: string; env: Record<string, string | undefined> } {
  const dir = join(work, `user-${++n}`);
  const HOME = join(dir, 'home');
  mkdirSync(HOME, { recursive: true });
  if (indexUrl) {
    mkdirSync(join(HOME, '.config', 'pip'), { recursive: true });
    writeFileSync(join(HOME, '.config', 'pip', 'pip.conf'), `[global]\ntimeout = 5\n\n[install]\nindex-url = ${indexUrl}\n`);
  }
  const env = {
    HOME,
    PIP_CONFIG_FILE: undefined, // pip.conf in HOME is read, as pip reads it
    XDG_CONFIG_DIRS: join(dir, 'no-global-config'), // not the machine's /etc/xdg/pip/pip.conf
    XDG_CONFIG_HOME: undefined,
    PYCTL_DISTRO_WHEELS: join(dir, 'no-distro-wheels'),
    http_proxy: undefined,
    HTTP_PROXY: undefined,
    https_proxy: undefined,
    HTTPS_PROXY: undefined,
  };
  return { home: join(HOME, '.local', 'python-packages'), env };
}

const pipVersion = (venv: string) => execFileSync(join(venv, 'bin', 'pip'), ['--version'], { env: hermeticEnv(), encoding: 'utf8' });

describe('a Python without ensurepip', () => {
  it('gets pip from the index named in ~/.config/pip/pip.conf, checked, and keeps the wheel', async () => {
    index.hash = 'right';
    const { home, env } = user(`${base}/simple/`);
    const r = await pyctl(home, ['init', '--python', noEnsurepip], env);
    expect(r.stderr).toContain(`pip for the venv came from ${base}/simple/`);
    expect(r.exitCode).toBe(0);
    expect(pipVersion(join(home, 'venv'))).toMatch(/^pip 23\.2\.1 from .*venv/);
    expect(existsSync(join(home, 'wheelhouse', basename(pipWheel)))).toBe(true);
    const hist = await pyctl(home, ['history'], env);
    expect(hist.stdout).toContain('pyctl init');
  });

  it("takes pip from the home's wheelhouse before any index", async () => {
    const wheelhouse = join(work, 'wheelhouse');
    mkdirSync(wheelhouse, { recursive: true });
    copyFileSync(pipWheel, join(wheelhouse, basename(pipWheel)));
    const before = served.length;
    const venv = join(work, 'from-wheelhouse');
    const env = { ...hermeticEnv({ PIP_INDEX_URL: `${base}/simple/` }), PYCTL_DISTRO_WHEELS: join(work, 'none') };
    const r = await createVenv(venv, noEnsurepip, { wheelhouse, env, pycCache: false });
    expect(r.seededFrom).toBe(wheelhouse);
    expect(served.length).toBe(before);
    expect(pipVersion(venv)).toMatch(/^pip 23\.2\.1/);
  });

  it('reads PEP 691 JSON, and PIP_INDEX_URL over pip.conf', async () => {
    index.hash = 'right';
    index.json = true;
    try {
      const { home, env } = user('http://127.0.0.1:9/nothing-here/');
      const r = await pyctl(home, ['init', '--python', noEnsurepip], { ...env, PIP_INDEX_URL: `${base}/simple` });
      expect(r.stderr + r.stdout).toMatch(/came from/);
      expect(r.exitCode).toBe(0);
      expect(pipVersion(join(home, 'venv'))).toMatch(/^pip 23\.2\.1/);
    } finally {
      index.json = false;
    }
  });

  it('refuses a download whose sha256 differs from the index, writing nothing', async () => {
    index.hash = 'wrong';
    const { home, env } = user(`${base}/simple/`);
    const r = await pyctl(home, ['init', '--python', noEnsurepip], env);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^error: refusing pip-23\.2\.1-py3-none-any\.whl from http:\/\/127\.0\.0\.1:\d+\/simple\/: its sha256 is [0-9a-f]{64}, the index says 0{64}$/m);
    expect(r.stderr).toMatch(/^hint: .*--pip-wheel FILE/m);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(existsSync(join(home, '..'))).toBe(false); // not even ~/.local
  });

  it('refuses an index that publishes no sha256, writing nothing', async () => {
    index.hash = 'none';
    const { home, env } = user(`${base}/simple/`);
    const r = await pyctl(home, ['init', '--python', noEnsurepip], env);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^error: refusing pip-23\.2\.1-py3-none-any\.whl from .*: the index publishes no sha256 for it/m);
    expect(existsSync(home)).toBe(false);
  });

  it('offline with no source says what is missing and how to get it without root', async () => {
    const { home, env } = user('http://127.0.0.1:9/simple/'); // port 9: nothing listens
    const r = await pyctl(home, ['init', '--python', noEnsurepip], env);
    expect(r.exitCode).toBe(1);
    const lines = r.stderr
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('pyctl: creating'));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /^error: no pip to put in the venv: this Python has no ensurepip, .* hold no pip wheel, and the index http:\/\/127\.0\.0\.1:9\/simple\/ failed: cannot reach 127\.0\.0\.1:9/,
    );
    expect(lines[1]).toMatch(/^hint: without root: .*--pip-wheel FILE/);
    expect(existsSync(home)).toBe(false);

    const noIndex = await pyctl(home, ['init', '--python', noEnsurepip], { ...env, PIP_NO_INDEX: '1' });
    expect(noIndex.stderr).toMatch(/pip is configured with no-index/);
    expect(noIndex.exitCode).toBe(1);
  });

  it('--pip-wheel FILE works offline; a file that is no pip wheel is a usage error', async () => {
    const { home, env } = user('http://127.0.0.1:9/simple/');
    const bad = await pyctl(home, ['init', '--python', noEnsurepip, '--pip-wheel', join(work, 'nope.whl')], env);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/^error: --pip-wheel .*nope\.whl is not a pip wheel/m);
    const r = await pyctl(home, ['init', '--python', noEnsurepip, '--pip-wheel', pipWheel], env);
    expect(r.exitCode).toBe(0);
    expect(pipVersion(join(home, 'venv'))).toMatch(/^pip 23\.2\.1/);
  });

  it('takes the distro wheel folder before any index', async () => {
    const { home, env } = user('http://127.0.0.1:9/simple/');
    const distro = join(work, 'distro-wheels');
    mkdirSync(distro, { recursive: true });
    copyFileSync(pipWheel, join(distro, basename(pipWheel)));
    const r = await pyctl(home, ['init', '--python', noEnsurepip], { ...env, PYCTL_DISTRO_WHEELS: distro });
    expect(r.stderr).toContain(`pip for the venv came from ${distro}`);
    expect(r.exitCode).toBe(0);
  });

  it('sends the index credentials from the URL and goes through http_proxy', async () => {
    index.hash = 'right';
    index.auth = 'ann:s3cr@t';
    proxied = [];
    try {
      const { home, env } = user();
      const noCreds = await pyctl(home, ['init', '--python', noEnsurepip], { ...env, PIP_INDEX_URL: `${base}/simple/` });
      expect(noCreds.stderr).toMatch(/HTTP 401 \(credentials missing or refused\)/);
      const url = `http://ann:${encodeURIComponent('s3cr@t')}@${base.slice('http://'.length)}/simple/`;
      const r = await pyctl(home, ['init', '--python', noEnsurepip], { ...env, PIP_INDEX_URL: url, http_proxy: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, no_proxy: '' });
      expect(r.exitCode).toBe(0);
      expect(r.stderr).not.toContain('s3cr'); // the password is never printed
      expect(proxied).toContain(`${base}/simple/pip/`);
      expect(proxied).toContain(`${base}/files/${basename(pipWheel)}`);
    } finally {
      index.auth = '';
    }
  });

  it('without the venv module either, writes the venv itself', async () => {
    const { home, env } = user();
    const r = await pyctl(home, ['init', '--python', noVenv, '--pip-wheel', pipWheel], env);
    expect(r.exitCode).toBe(0);
    const venv = join(home, 'venv');
    const cfg = readFileSync(join(venv, 'pyvenv.cfg'), 'utf8');
    expect(cfg).toMatch(/^include-system-site-packages = false$/m);
    const prefix = execFileSync(join(venv, 'bin', 'python'), ['-c', 'import sys; print(sys.prefix != sys.base_prefix, sys.prefix)'], { env: hermeticEnv(), encoding: 'utf8' });
    expect(prefix.trim()).toBe(`True ${venv}`);
    expect(pipVersion(venv)).toMatch(/^pip 23\.2\.1/);
    const doctor = await pyctl(home, ['doctor'], env);
    expect(doctor.stdout).toMatch(/^\s+ok\s+venv\s/m);
    // Only the test's PATH (not the venv's bin first) is a problem.
    expect(doctor.stdout.split('\n').filter((l) => /PROBLEM/.test(l) && !/PROBLEM\s+path\s/.test(l))).toEqual([]);
  });
});
