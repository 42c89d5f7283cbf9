/**
 * Sharing through git remotes, end to end: two homes as two machines (`pyctl init` each), a real
 * `git http-backend` behind a Node http server, real pip, and the real git CLI to check what the
 * server and the homes hold. The servers are shared by the file; the two homes and the server's
 * repos are put back at the start of every test (helpers/states.ts), so each passes alone or
 * shuffled.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, installedSet, pip, pyctl as runPyctl } from './helpers/cli.js';
import { hermeticEnv, removeDir, tempDir } from './helpers/env.js';
import { startGitServer, type GitServer } from './helpers/git-server.js';
import { runOk } from './helpers/run.js';
import { HomeStates } from './helpers/states.js';
import { buildWheels } from './helpers/wheels.js';
import { pythonMismatch } from '../src/operations/history.js';

let root: string;
let homeA: string;
let homeB: string;
let wheels: string;
let srv: GitServer;
let authSrv: GitServer;
let states: HomeStates;

// No machine git config: no credential helpers, no identity, no url rewrites.
const isolated = { GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', PYCTL_GIT_TOKEN: undefined, GIT_TOKEN: undefined };
const pyctl = (home: string, args: string[], env: Record<string, string | undefined> = {}) => runPyctl(home, args, { ...isolated, ...env });
const gitEnv = hermeticEnv({ ...isolated, GIT_TERMINAL_PROMPT: '0' });
// Async: the git server runs in this process, a sync child would block it.
const rawGit = async (args: string[]) => (await runOk('git', args, gitEnv)).stdout.trim();
const tagA = (home: string, name: string, msg: string) => git(home, ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'tag', '-a', name, '-m', msg]);
const lsRemote = async (url: string) =>
  Object.fromEntries(
    (await rawGit(['ls-remote', url]))
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('\t').reverse()),
  ) as Record<string, string>;

beforeAll(async () => {
  root = tempDir('pyctl-remote-');
  homeA = join(root, 'a');
  homeB = join(root, 'b');
  wheels = buildWheels(join(root, 'wheels'), [
    { name: 'alpha', version: '1.0' },
    { name: 'beta', version: '2.0' },
  ]);
  [srv, authSrv] = await Promise.all([startGitServer(), startGitServer()]);
  // The server's repos belong to a state too: a test's pushes do not reach the next test.
  states = new HomeStates(homeA, join(root, 'states'), [homeB, srv.root], { linkCache: true });
});
afterAll(async () => {
  await srv?.close();
  await authSrv?.close();
  removeDir(root);
});

// The states tests start from (helpers/states.ts), each built once from the one before.
/** Machine A: alpha installed, snapshot `ml`. Machine B: beta installed, its own `ml`. No remotes, an empty server. */
const machines = () =>
  states.given('machines', async () => {
    for (const h of [homeA, homeB]) removeDir(h);
    const [a, b] = await Promise.all([pyctl(homeA, ['init']), pyctl(homeB, ['init'])]);
    expect(a.exitCode, a.stderr).toBe(0);
    expect(b.exitCode, b.stderr).toBe(0);
    const [pa, pb] = await Promise.all([pip(join(homeA, 'venv'), ['install', 'alpha'], { wheels }), pip(join(homeB, 'venv'), ['install', 'beta'], { wheels })]);
    expect(pa.exitCode, pa.stderr).toBe(0);
    expect(pb.exitCode, pb.stderr).toBe(0);
    await tagA(homeA, 'ml', 'ml stack');
    await tagA(homeB, 'ml', 'my own ml');
  });
/** The server's env.git, what A pushed as its remote origin. */
const envUrl = () => `${srv.base}/env.git`;
const pushed = () =>
  states.given('pushed', async () => {
    await machines();
    srv.createRepo('env.git');
    expect((await pyctl(homeA, ['remote', 'add', 'origin', envUrl()])).exitCode).toBe(0);
    expect((await pyctl(homeA, ['push'])).exitCode).toBe(0);
  });
/** ...and B has origin too, and fetched A's snapshot as origin/ml. */
const fetched = (read?: 'read') => {
  const build = async () => {
    await pushed();
    expect((await pyctl(homeB, ['remote', 'add', 'origin', envUrl()])).exitCode).toBe(0);
    expect((await pyctl(homeB, ['fetch'])).exitCode).toBe(0);
  };
  return read ? states.givenToRead('fetched', build) : states.given('fetched', build);
};

describe('pyctl remote', () => {
  it('adds, lists and removes remotes', async () => {
    await machines();
    const add = await pyctl(homeA, ['remote', 'add', 'tmp', 'https://example.com/env.git']);
    expect(add.exitCode, add.stderr).toBe(0);
    const list = await pyctl(homeA, ['remote', 'list']);
    expect(list.stdout).toMatch(/^tmp\s+https:\/\/example\.com\/env\.git$/m);
    const dup = await pyctl(homeA, ['remote', 'add', 'tmp', 'https://example.com/other.git']);
    expect(dup.exitCode).toBe(1);
    expect(dup.stderr).toMatch(/already exists/);
    expect((await pyctl(homeA, ['remote', 'remove', 'tmp'])).exitCode).toBe(0);
    expect((await pyctl(homeA, ['remote', 'list'])).stdout).toMatch(/no remotes/);
    // How pyctl reaches each one, told truly: plain http is not https.
    const plain = await pyctl(homeA, ['remote', 'add', 'plainhttp', 'http://example.com/env.git']);
    expect(plain.exitCode, plain.stderr).toBe(0);
    expect(plain.stderr).toMatch(/^pyctl: warning: this is plain http:\/\/: the history, and any token sent to it, travel unencrypted/m);
    expect((await pyctl(homeA, ['remote', 'add', 'tls', 'https://example.com/env.git'])).stderr).toBe('');
    expect((await pyctl(homeA, ['remote', 'add', 'bydisk', join(root, 'nowhere.git')])).exitCode).toBe(0);
    expect((await pyctl(homeA, ['remote', 'list'])).stdout).toMatch(/^plainhttp\s+http:\/\/example\.com\/env\.git {2}\(plain http, unencrypted\)$/m);
    const json = JSON.parse((await pyctl(homeA, ['--json', 'remote', 'list'])).stdout) as { name: string; transport: string }[];
    expect(Object.fromEntries(json.map((r) => [r.name, r.transport]))).toEqual({ plainhttp: 'http', tls: 'https', bydisk: 'git-cli' });
    for (const n of ['plainhttp', 'tls', 'bydisk']) expect((await pyctl(homeA, ['remote', 'remove', n])).exitCode).toBe(0);
    const gone = await pyctl(homeA, ['remote', 'remove', 'tmp']);
    expect(gone.exitCode).toBe(1);
    expect(gone.stderr).toMatch(/no remote named 'tmp'/);
  });

  it('never stores credentials given in the URL', async () => {
    await machines();
    const r = await pyctl(homeA, ['remote', 'add', 'creds', 'https://bob:hunter2@example.com/env.git']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/PYCTL_GIT_TOKEN/);
    expect(r.stdout + r.stderr).not.toMatch(/hunter2/);
    const config = readFileSync(join(homeA, '.git', 'config'), 'utf8');
    expect(config).toMatch(/url = https:\/\/example\.com\/env\.git/);
    expect(config).not.toMatch(/hunter2|bob/);
    expect(readFileSync(join(homeA, 'config.toml'), 'utf8')).not.toMatch(/hunter2/);
  });
});

describe('push and fetch over HTTP', () => {
  it('pushes main and the snapshots; a real git clone sees them', async () => {
    await machines();
    const url = srv.createRepo('env.git');
    expect((await pyctl(homeA, ['remote', 'add', 'origin', url])).exitCode).toBe(0);
    const r = await pyctl(homeA, ['push']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/history \(main\): pushed/);
    expect(r.stdout).toMatch(/snapshot ml: pushed/);
    expect(r.stdout).not.toMatch(/baseline/); // each machine's own init state stays home

    const clone = join(root, 'clone');
    removeDir(clone);
    // The server's HEAD names master (unborn), as `git init --bare` made it: clone main by name.
    await rawGit(['clone', '-q', '-b', 'main', url, clone]);
    expect(await rawGit(['-C', clone, 'tag'])).toBe('ml');
    expect(await rawGit(['-C', clone, 'rev-parse', 'HEAD'])).toBe(await git(homeA, ['rev-parse', 'main']));
    expect(await rawGit(['-C', clone, 'rev-parse', 'ml'])).toBe(await git(homeA, ['rev-parse', 'ml']));
    expect(await rawGit(['-C', clone, 'log', '--format=%s'])).toBe(await git(homeA, ['log', '--format=%s']));
    expect(await rawGit(['-C', clone, 'cat-file', '-t', 'ml'])).toBe('tag');

    const again = await pyctl(homeA, ['push', '--json']);
    expect(again.exitCode, again.stderr).toBe(0);
    const json = JSON.parse(again.stdout);
    expect(json.main).toBe('up-to-date');
    expect(json.tags).toEqual([{ name: 'ml', status: 'up-to-date' }]);
  });

  it('fetches into refs/remotes/origin/tags, keeping a local snapshot of the same name', async () => {
    await pushed();
    expect((await pyctl(homeB, ['remote', 'add', 'origin', envUrl()])).exitCode).toBe(0);
    const ownMl = await git(homeB, ['rev-parse', 'refs/tags/ml']);
    const r = await pyctl(homeB, ['fetch']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/origin\/ml: new\s+\(your own 'ml' differs and was kept\)/);
    expect(await git(homeB, ['rev-parse', 'refs/remotes/origin/tags/ml'])).toBe(await git(homeA, ['rev-parse', 'refs/tags/ml']));
    expect(await git(homeB, ['rev-parse', 'refs/remotes/origin/main'])).toBe(await git(homeA, ['rev-parse', 'main']));
    expect(await git(homeB, ['rev-parse', 'refs/tags/ml'])).toBe(ownMl);
    expect((await git(homeB, ['tag'])).split('\n').sort()).toEqual(['baseline', 'ml']);
    expect(await git(homeB, ['fsck', '--no-dangling'])).toBe('');

    const again = await pyctl(homeB, ['fetch', 'origin']);
    expect(again.stdout).toMatch(/origin\/ml: unchanged/);
  });

  it('lists fetched snapshots with --remote [NAME] and --all, your own without', async () => {
    await fetched();
    const own = await pyctl(homeB, ['list-snapshots']);
    expect(own.stdout).toMatch(/^ml\s.*my own ml$/m);
    expect(own.stdout).not.toMatch(/origin\//);
    for (const args of [['--remote'], ['--remote', 'origin'], ['-r', 'origin']]) {
      const r = await pyctl(homeB, ['list-snapshots', ...args]);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^origin\/ml\s.*\s\d+ pkgs\s.*ml stack$/m);
      expect(r.stdout).not.toMatch(/^ml\s|my own ml/m);
    }
    const all = await pyctl(homeB, ['list-snapshots', '--all']);
    expect(all.stdout).toMatch(/^ml\s.*my own ml$/m);
    expect(all.stdout).toMatch(/^origin\/ml\s.*ml stack$/m);
    const rows = JSON.parse((await pyctl(homeB, ['list-snapshots', '--remote', '--json'])).stdout) as { name: string; remote?: string; commit: string }[];
    expect(rows).toEqual([expect.objectContaining({ name: 'origin/ml', remote: 'origin', commit: await git(homeA, ['rev-parse', 'ml^{commit}']) })]);
    // TAB offers it where a state goes (restore, diff, export), not where your own snapshot names go.
    const states = (await pyctl(homeB, ['_complete', 'states'])).stdout.split('\n');
    expect(states).toEqual(expect.arrayContaining(['ml', 'origin/ml']));
    expect((await pyctl(homeB, ['_complete', 'snapshots'])).stdout.split('\n')).not.toContain('origin/ml');
    // The fetched snapshot restores by that name (dry run: nothing changes).
    expect((await pyctl(homeB, ['restore', 'origin/ml', '--dry-run'])).stdout).toMatch(/\+ alpha 1\.0/);
    const unknown = await pyctl(homeB, ['list-snapshots', '--remote', 'upstream']);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toMatch(/^error: no remote named 'upstream'$/m);
    expect(unknown.stderr).toMatch(/^hint: known remotes: origin$/m);
    expect((await pyctl(homeB, ['remote', 'add', 'later', 'https://example.com/later.git'])).exitCode).toBe(0);
    const none = await pyctl(homeB, ['list-snapshots', '--remote', 'later']);
    expect(none.exitCode, none.stderr).toBe(0);
    expect(none.stdout).toBe("no snapshots fetched from later: bring them in with 'pyctl fetch later'");
    expect((await pyctl(homeB, ['remote', 'remove', 'later'])).exitCode).toBe(0);
  });

  it('resolves origin/NAME in diff', async () => {
    await fetched('read');
    const d = await pyctl(homeB, ['diff', 'origin/ml', 'now']);
    expect(d.exitCode, d.stderr).toBe(0);
    expect(d.stdout).toMatch(/snapshot origin\/ml -> now/);
    expect(d.stdout).toMatch(/- alpha 1\.0/);
    expect(d.stdout).toMatch(/\+ beta 2\.0/);
    const own = await pyctl(homeB, ['diff', 'ml', 'origin/ml', '--json']);
    expect(own.exitCode, own.stderr).toBe(0);
    const unknown = await pyctl(homeB, ['diff', 'origin/nope', 'now']);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toMatch(/no snapshot or operation named 'origin\/nope'/);
  });

  it('refuses to replace a remote snapshot with other content unless --force', async () => {
    await fetched();
    const url = envUrl();
    const before = await lsRemote(url);
    const r = await pyctl(homeB, ['push', 'origin', 'ml']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^error: snapshot 'ml' already exists on origin with other content; nothing was pushed$/m);
    expect(r.stderr).toMatch(/^hint: .*--force/m);
    expect(await lsRemote(url)).toEqual(before);

    const forced = await pyctl(homeB, ['push', 'origin', 'ml', '--force']);
    expect(forced.exitCode, forced.stderr).toBe(0);
    expect(forced.stdout).toMatch(/snapshot ml: replaced/);
    expect((await lsRemote(url))['refs/tags/ml']).toBe(await git(homeB, ['rev-parse', 'refs/tags/ml']));
  });

  it("leaves the remote's main alone when another machine's history is there", async () => {
    await fetched();
    await tagA(homeB, 'web', 'web stack');
    const r = await pyctl(homeB, ['push', 'origin', 'web']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/history \(main\): not pushed/);
    expect(r.stdout).toMatch(/snapshot web: pushed/);
    const refs = await lsRemote(envUrl());
    expect(refs['refs/heads/main']).toBe(await git(homeA, ['rev-parse', 'main']));
    expect(refs['refs/tags/web']).toBe(await git(homeB, ['rev-parse', 'refs/tags/web']));
    // A fetches B's snapshot with its history; the hint names what just arrived.
    const f = await pyctl(homeA, ['fetch']);
    expect(f.exitCode, f.stderr).toBe(0);
    expect(f.stdout).toMatch(/origin\/web: new/);
    expect(f.stdout).toMatch(/^compare with: pyctl diff origin\/web now$/m);
    expect((await pyctl(homeA, ['diff', 'origin/web', 'now'])).stdout).toMatch(/- beta 2\.0/);
  });

  it("--force replaces a named snapshot only; the remote's main needs --force-main, with a warning", async () => {
    await machines();
    const url2 = srv.createRepo('force.git');
    expect((await pyctl(homeA, ['remote', 'add', 'forced', url2])).exitCode).toBe(0);
    expect((await pyctl(homeB, ['remote', 'add', 'forced', url2])).exitCode).toBe(0);
    expect((await pyctl(homeA, ['push', 'forced', 'ml'])).exitCode).toBe(0);
    const aMain = await git(homeA, ['rev-parse', 'main']);

    const snap = await pyctl(homeB, ['push', 'forced', 'ml', '--force']);
    expect(snap.exitCode, snap.stderr).toBe(0);
    expect(snap.stdout).toMatch(/snapshot ml: replaced/);
    expect(snap.stdout).toMatch(/history \(main\): not pushed.*--force-main replaces it/);
    expect(snap.stderr).not.toMatch(/replacing/);
    let refs = await lsRemote(url2);
    expect(refs['refs/heads/main']).toBe(aMain);
    expect(refs['refs/tags/ml']).toBe(await git(homeB, ['rev-parse', 'refs/tags/ml']));

    const main = await pyctl(homeB, ['push', 'forced', '--force-main', '--json']);
    expect(main.exitCode, main.stderr).toBe(0);
    expect(JSON.parse(main.stdout).main).toBe('replaced');
    expect(main.stderr).toMatch(/^pyctl: warning: replacing forced's main \(--force-main\): the history another machine pushed there, which this home does not have, is dropped from it/m);
    refs = await lsRemote(url2);
    expect(refs['refs/heads/main']).toBe(await git(homeB, ['rev-parse', 'main']));
  });
});

describe('errors', () => {
  it('asks for a token on 401, refuses a wrong one (masked), works with the right one', async () => {
    await machines();
    const token = 's3cret-T0ken-value';
    const url = authSrv.createRepo('private.git');
    authSrv.requireToken(token);
    expect((await pyctl(homeA, ['remote', 'add', 'private', url])).exitCode).toBe(0);

    const none = await pyctl(homeA, ['push', 'private']);
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toMatch(/^error: .*private\.git needs authentication \(HTTP 401\)$/m);
    expect(none.stderr).toMatch(/^hint: set PYCTL_GIT_TOKEN/m);

    const wrong = await pyctl(homeA, ['push', 'private'], { PYCTL_GIT_TOKEN: 'wrong-Secret-123' });
    expect(wrong.exitCode).toBe(1);
    expect(wrong.stderr).toMatch(/refused the token in \$PYCTL_GIT_TOKEN \(HTTP 401\)/);
    expect(wrong.stderr).not.toMatch(/wrong-Secret-123/);
    // One warning (the token went over plain http://), then the one error line and its hint.
    expect(wrong.stderr.split('\n').filter(Boolean)).toHaveLength(3);
    expect(wrong.stderr).toMatch(
      /^pyctl: warning: sending the token in \$PYCTL_GIT_TOKEN to 127\.0\.0\.1:\d+ over plain http:\/\/, unencrypted: anyone on the network between can read it; use an https:\/\/ URL$/m,
    );
    expect(await lsRemote(url.replace('//', `//x:${token}@`))).toEqual({});

    const before = authSrv.unauthorized;
    const ok = await pyctl(homeA, ['push', 'private'], { PYCTL_GIT_TOKEN: token });
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.stdout + ok.stderr).not.toMatch(new RegExp(token));
    expect(ok.stderr.match(/^pyctl: warning: sending the token in \$PYCTL_GIT_TOKEN .* over plain http:\/\//gm)).toHaveLength(1); // once per run
    expect(authSrv.unauthorized).toBeGreaterThan(before); // 401 first, then the token
    expect(readFileSync(join(homeA, '.git', 'config'), 'utf8')).not.toMatch(new RegExp(token));

    const f = await pyctl(homeB, ['remote', 'add', 'private', url]);
    expect(f.exitCode).toBe(0);
    const tagsBefore = await git(homeB, ['show-ref']);
    const denied = await pyctl(homeB, ['fetch', 'private']);
    expect(denied.exitCode).toBe(1);
    expect(denied.stderr).toMatch(/needs authentication \(HTTP 401\)/);
    expect(await git(homeB, ['show-ref'])).toBe(tagsBefore);
    const fetched = await pyctl(homeB, ['fetch', 'private'], { GIT_TOKEN: token });
    expect(fetched.exitCode, fetched.stderr).toBe(0);
    expect(await git(homeB, ['rev-parse', 'refs/remotes/private/tags/ml'])).toBe(await git(homeA, ['rev-parse', 'refs/tags/ml']));
  });

  it('uses credentials in a URL added with plain git remote add, and masks them', async () => {
    await machines();
    const token = 's3cret-T0ken-value';
    const url = authSrv.createRepo('plain.git');
    authSrv.requireToken(token);
    await git(homeA, ['remote', 'add', 'plain', url.replace('//', `//alice:${token}@`)]);
    const list = await pyctl(homeA, ['remote', 'list']);
    expect(list.stdout).toMatch(/plain\s+http:\/\/alice:\*\*\*\*@127\.0\.0\.1/);
    expect(list.stdout).not.toMatch(new RegExp(token));
    const ok = await pyctl(homeA, ['push', 'plain', 'ml']);
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/alice:\*\*\*\*@/);
    expect(ok.stderr).toMatch(/^pyctl: warning: sending the credentials in the remote's URL to 127\.0\.0\.1:\d+ over plain http:\/\//m);
    expect(ok.stdout + ok.stderr).not.toMatch(new RegExp(token));
  });

  it('says clearly when the server is down, and changes nothing', async () => {
    await machines();
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    await pyctl(homeA, ['remote', 'add', 'down', `http://127.0.0.1:${port}/env.git`]);
    const refsBefore = await git(homeA, ['show-ref']);
    for (const cmd of ['push', 'fetch']) {
      const r = await pyctl(homeA, [cmd, 'down']);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^error: cannot reach http://127\\.0\\.0\\.1:${port}/env\\.git: connection refused$`, 'm'));
      expect(r.stderr).toMatch(/^hint: /m);
    }
    expect(await git(homeA, ['show-ref'])).toBe(refsBefore);
  });

  it('says in words when an https:// URL reaches a server that speaks plain http (no OpenSSL dump)', async () => {
    await machines();
    const tlsUrl = srv.createRepo('tls.git').replace(/^http:/, 'https:');
    expect((await pyctl(homeA, ['remote', 'add', 'tlsless', tlsUrl])).exitCode).toBe(0);
    const refsBefore = await git(homeA, ['show-ref']);
    for (const cmd of ['push', 'fetch']) {
      const r = await pyctl(homeA, [cmd, 'tlsless']);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toBe(
        `error: cannot reach ${tlsUrl}: the server did not answer in TLS (an https:// URL for a server that speaks plain http?)\nhint: check the URL's scheme and port: use http:// if the server has no TLS`,
      );
    }
    expect(await git(homeA, ['show-ref'])).toBe(refsBefore);
  });

  it('says clearly when there is no repository, or no pyctl history, at the URL', async () => {
    await machines();
    await pyctl(homeA, ['remote', 'add', 'missing', `${srv.base}/nope.git`]);
    const r = await pyctl(homeA, ['push', 'missing']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^error: no git repository at .*nope\.git \(HTTP 404\)$/m);

    const empty = srv.createRepo('empty.git');
    await pyctl(homeB, ['remote', 'add', 'empty', empty]);
    const e = await pyctl(homeB, ['fetch', 'empty']);
    expect(e.exitCode).toBe(1);
    expect(e.stderr).toMatch(/^error: .*empty\.git is empty/m);

    // Only a tag and another branch: not pyctl's.
    const other = srv.createRepo('other.git');
    const work = join(root, 'other');
    removeDir(work);
    await rawGit(['init', '-q', '-b', 'trunk', work]);
    await rawGit(['-C', work, '-c', 'user.name=t', '-c', 'user.email=t@e', 'commit', '-q', '--allow-empty', '-m', 'x']);
    await rawGit(['-C', work, 'push', '-q', other, 'trunk']);
    await pyctl(homeB, ['remote', 'add', 'other', other]);
    const o = await pyctl(homeB, ['fetch', 'other']);
    expect(o.exitCode).toBe(1);
    expect(o.stderr).toMatch(/holds no pyctl history \(it has no 'main' branch\)/);
    expect(await git(homeB, ['show-ref', '--', 'refs/remotes/other']).catch(() => '')).toBe('');
  });

  it('reports a push the server rejects, and points out a snapshot given as the remote', async () => {
    await machines();
    const url = srv.createRepo('guarded.git');
    writeFileSync(join(srv.repoPath('guarded.git'), 'hooks', 'pre-receive'), '#!/bin/sh\necho "main is protected" >&2\nexit 1\n', { mode: 0o755 });
    await pyctl(homeA, ['remote', 'add', 'guarded', url]);
    const r = await pyctl(homeA, ['push', 'guarded']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^error: .*guarded\.git rejected the push: .*refs\/heads\/main/m);
    expect(r.stderr).toMatch(/^hint: /m);
    expect(await lsRemote(url)).toEqual({});

    const swapped = await pyctl(homeA, ['push', 'ml']);
    expect(swapped.exitCode).toBe(1);
    expect(swapped.stderr).toMatch(/hint: the remote comes first: pyctl push origin ml/);
  });

  it('refuses to push a credential in freeze.txt unless --allow-secrets', async () => {
    await machines();
    const url = srv.createRepo('secret.git');
    await pyctl(homeA, ['remote', 'add', 'sec', url]);
    const freeze = readFileSync(join(homeA, 'freeze.txt'), 'utf8');
    const lines = (freeze.trimEnd() + '\nprivpkg @ https://bob:hunter2@pypi.example.com/privpkg-1.0.tar.gz\n').split('\n');
    const lineNo = lines.findIndex((l) => l.startsWith('privpkg')) + 1;
    writeFileSync(join(homeA, 'freeze.txt'), lines.join('\n'));
    await git(homeA, ['add', 'freeze.txt']);
    await git(homeA, ['-c', 'user.name=t', '-c', 'user.email=t@e', 'commit', '-q', '-m', 'hand edit']);
    const commit = (await git(homeA, ['rev-parse', '--short=7', 'HEAD'])).trim();
    const r = await pyctl(homeA, ['push', 'sec']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^error: refusing to push what looks like a credential: commit ${commit} freeze\\.txt line ${lineNo}: privpkg @ https://bob:\\*\\*\\*\\*@`, 'm'));
    expect(r.stderr).not.toMatch(/hunter2/);
    expect(r.stderr).toMatch(/--allow-secrets/);
    expect(await lsRemote(url)).toEqual({});

    const ok = await pyctl(homeA, ['push', 'sec', '--allow-secrets']);
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.stderr).not.toMatch(/hunter2/);
    expect((await lsRemote(url))['refs/heads/main']).toBe(await git(homeA, ['rev-parse', 'main']));
  });
});

describe('any smart-HTTP server, set up as git init --bare makes it', () => {
  const kinds = [
    { label: 'HEAD -> master, unborn (plain git init --bare)', repo: 'plain.git', head: undefined, other: false },
    { label: 'HEAD -> main', repo: 'main-head.git', head: 'main', other: false },
    { label: 'HEAD -> trunk, a branch with other history', repo: 'trunk-head.git', head: 'trunk', other: true },
  ];
  // The source is machine A; the new machine C is a home just made by init.
  let homeC: string;
  let statesC: HomeStates;
  beforeAll(() => {
    homeC = join(root, 'c');
    statesC = new HomeStates(homeC, join(root, 'states-c'), [], { linkCache: true });
  });
  const newMachine = () =>
    statesC.given('init', async () => {
      removeDir(homeC);
      expect((await pyctl(homeC, ['init'])).exitCode).toBe(0);
    });
  for (const k of kinds) {
    it(`pushes, and a new machine fetches every object: ${k.label}`, async () => {
      await Promise.all([machines(), newMachine()]);
      const url = srv.createRepo(k.repo, k.head);
      expect(await rawGit(['-C', srv.repoPath(k.repo), 'symbolic-ref', 'HEAD'])).toBe(`refs/heads/${k.head ?? 'master'}`);
      let otherTip = '';
      if (k.other) {
        const work = join(root, `work-${k.repo}`);
        removeDir(work);
        await rawGit(['init', '-q', '-b', 'trunk', work]);
        await rawGit(['-C', work, '-c', 'user.name=t', '-c', 'user.email=t@e', 'commit', '-q', '--allow-empty', '-m', 'unrelated']);
        await rawGit(['-C', work, 'push', '-q', url, 'trunk']);
        otherTip = await rawGit(['-C', work, 'rev-parse', 'HEAD']);
      }
      const remote = k.repo.replace('.git', '');
      await pyctl(homeA, ['remote', 'add', remote, url]);
      const p = await pyctl(homeA, ['push', remote, 'ml']);
      expect(p.exitCode, p.stderr).toBe(0);

      await pyctl(homeC, ['remote', 'add', 'origin', url]);
      const f = await pyctl(homeC, ['fetch']);
      expect(f.exitCode, f.stderr).toBe(0);
      expect(f.stdout).toMatch(/origin\/ml: new/);
      // The objects really arrived: plain git checks the home.
      await git(homeC, ['fsck']);
      const mainA = await git(homeA, ['rev-parse', 'main']);
      expect(await git(homeC, ['rev-parse', 'refs/remotes/origin/main'])).toBe(mainA);
      expect(await git(homeC, ['cat-file', '-t', 'refs/remotes/origin/tags/ml'])).toBe('tag');
      expect(await git(homeC, ['cat-file', '-p', 'refs/remotes/origin/tags/ml^{commit}:freeze.txt'])).toBe(await git(homeA, ['cat-file', '-p', 'ml^{commit}:freeze.txt']));
      expect(await git(homeC, ['cat-file', '-p', `${mainA}:freeze.txt`])).toBe(await git(homeA, ['cat-file', '-p', `${mainA}:freeze.txt`]));
      // Local snapshot names untouched; the server's other branch neither mirrored nor downloaded.
      expect(await git(homeC, ['tag'])).toBe('baseline');
      if (otherTip) {
        expect(
          await git(homeC, ['cat-file', '-e', otherTip]).then(
            () => 'there',
            () => 'absent',
          ),
        ).toBe('absent');
        expect(await git(homeC, ['for-each-ref', '--format=%(refname)', `refs/remotes/origin`])).not.toMatch(/trunk/);
      }
      const again = await pyctl(homeC, ['fetch']);
      expect(again.exitCode, again.stderr).toBe(0);
      expect(again.stdout).toMatch(/origin\/ml: unchanged/);
      if (!k.head) {
        const r = await pyctl(homeC, ['restore', 'origin/ml'], { PIP_FIND_LINKS: wheels, PIP_NO_INDEX: '1' });
        expect(r.exitCode, r.stderr).toBe(0);
        expect(await installedSet(join(homeC, 'venv'))).toMatch(/^alpha==1\.0$/m);
      }
    });
  }
});

describe('ssh and file URLs go through the git CLI', () => {
  it('pushes to and fetches from a bare repo path', async () => {
    await machines();
    await tagA(homeB, 'web', 'web stack');
    const bare = join(root, 'bare.git');
    removeDir(bare);
    await rawGit(['init', '-q', '--bare', '-b', 'main', bare]);
    expect((await pyctl(homeB, ['remote', 'add', 'disk', bare])).exitCode).toBe(0);
    expect((await pyctl(homeB, ['remote', 'list'])).stdout).toMatch(/disk\s+\S*bare\.git\s+\(via git\)/);
    const p = await pyctl(homeB, ['push', 'disk']);
    expect(p.exitCode, p.stderr).toBe(0);
    expect((await rawGit(['-C', bare, 'tag'])).split('\n').sort()).toEqual(['ml', 'web']);
    const conflict = await pyctl(homeA, ['remote', 'add', 'disk', `file://${bare}`]);
    expect(conflict.exitCode).toBe(0);
    const f = await pyctl(homeA, ['fetch', 'disk']);
    expect(f.exitCode, f.stderr).toBe(0);
    expect(await git(homeA, ['rev-parse', 'refs/remotes/disk/tags/ml'])).toBe(await git(homeB, ['rev-parse', 'refs/tags/ml']));
    expect(await git(homeA, ['rev-parse', 'refs/tags/ml'])).not.toBe(await git(homeB, ['rev-parse', 'refs/tags/ml']));
    const refused = await pyctl(homeA, ['push', 'disk', 'ml']);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/already exists on disk/);
  });
});

describe('python version check', () => {
  it('warns only when major.minor differ', () => {
    expect(pythonMismatch('3.11.4', '3.11.9', 'snapshot origin/ml')).toBeUndefined();
    expect(pythonMismatch(undefined, '3.11.9', 'x')).toBeUndefined();
    expect(pythonMismatch('3.12.1', '3.11.9', 'snapshot origin/ml')).toMatch(/^snapshot origin\/ml was recorded with Python 3\.12\.1, this venv has Python 3\.11\.9/);
  });
});
