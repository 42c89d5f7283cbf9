/**
 * pyctl init --from URL [--snapshot NAME]: a new machine in one step against a real
 * `git http-backend` (bare repos as `git init --bare` makes them), real pip, offline wheels.
 */
import { execa } from 'execa';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, installedSet, pip, pyctl as runPyctl } from './helpers/cli.js';
import { hermeticEnv, removeDir, tempDir } from './helpers/env.js';
import { startGitServer, type GitServer } from './helpers/git-server.js';
import { buildWheels } from './helpers/wheels.js';

const isolated = { GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', PYCTL_GIT_TOKEN: undefined, GIT_TOKEN: undefined };
let root: string;
let wheels: string;
let srv: GitServer;
let url: string;
let privateUrl: string;
const TOKEN = 'tok-4f9a2c77e1';
const offline = () => ({ PIP_FIND_LINKS: wheels, PIP_NO_INDEX: '1' });
const pyctl = (home: string, args: string[], env: Record<string, string | undefined> = {}) => runPyctl(home, args, { ...isolated, ...env });
/** The installed set but pip, setuptools and wheel, read without starting pip (helpers/cli.ts installedSet). */
const freezeOf = async (home: string) =>
  (await installedSet(join(home, 'venv')))
    .split('\n')
    .filter((l) => l && !/^(pip|setuptools|wheel)==/i.test(l))
    .join('\n');
const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('error:'));

beforeAll(async () => {
  root = tempDir('pyctl-initfrom-');
  wheels = buildWheels(join(root, 'wheels'), [
    { name: 'alpha', version: '1.0' },
    { name: 'beta', version: '2.0' },
  ]);
  srv = await startGitServer();
  url = srv.createRepo('env.git'); // HEAD -> master, unborn: as `git init --bare` makes it
  // The first machine: alpha, snapshot ml, then beta too; pushed.
  const src = join(root, 'src');
  expect((await pyctl(src, ['init'])).exitCode).toBe(0);
  expect((await pip(join(src, 'venv'), ['install', 'alpha'], { wheels })).exitCode).toBe(0);
  expect((await pyctl(src, ['snapshot', 'ml'])).exitCode).toBe(0);
  expect((await pip(join(src, 'venv'), ['install', 'beta'], { wheels })).exitCode).toBe(0);
  await pyctl(src, ['remote', 'add', 'origin', url]);
  const p = await pyctl(src, ['push']);
  expect(p.exitCode, p.stderr).toBe(0);
  // The same history behind basic auth.
  const auth = await startGitServer();
  privateUrl = auth.createRepo('private.git');
  await execa('git', ['-C', src, 'push', '-q', join(auth.root, 'private.git'), 'main', 'ml'], { env: hermeticEnv(isolated), extendEnv: false });
  auth.requireToken(TOKEN);
  authSrv = auth;
});
let authSrv: GitServer;
afterAll(async () => {
  await srv?.close();
  await authSrv?.close();
  removeDir(root);
});

describe('pyctl init --from', () => {
  it("makes a new home matching the remote's main, as one operation on top of init", async () => {
    const home = join(root, 'new-main');
    const r = await pyctl(home, ['init', '--from', url], offline());
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/remote: {2}origin .*env\.git \(1 snapshot: origin\/ml\)/);
    expect(await freezeOf(home)).toBe('alpha==1.0\nbeta==2.0');
    // Operation 0 is the local init, operation 1 the restore; origin saved; objects all there.
    const subjects = (await git(home, ['log', '--format=%s', 'main'])).split('\n');
    expect(subjects).toHaveLength(2);
    expect(subjects[0]).toMatch(/^pyctl init --from http:\/\/127\.0\.0\.1:\d+\/env\.git/);
    expect(subjects[1]).toMatch(/^pyctl init \(Python/);
    expect(await git(home, ['config', 'remote.origin.url'])).toBe(url);
    await git(home, ['fsck']);
    expect(await git(home, ['cat-file', '-t', 'refs/remotes/origin/tags/ml'])).toBe('tag');
    const status = await pyctl(home, ['status']);
    expect(status.exitCode, status.stderr).toBe(0);
    // The next pip run records on top.
    expect((await pip(join(home, 'venv'), ['uninstall', '-y', 'beta'])).exitCode).toBe(0);
    expect((await pyctl(home, ['history', '--json'])).stdout).toMatch(/uninstall/);
  });

  it('--snapshot NAME makes the venv match that snapshot', async () => {
    const home = join(root, 'new-ml');
    const r = await pyctl(home, ['init', '--from', url, '--snapshot', 'ml'], offline());
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await freezeOf(home)).toBe('alpha==1.0');
    expect(await git(home, ['log', '-1', '--format=%B', 'main'])).toMatch(/Pyctl-Target: origin\/ml/);
  });

  it('refuses an existing home, saying what to do instead, and changes nothing', async () => {
    const home = join(root, 'existing');
    const i = await pyctl(home, ['init']);
    expect(i.exitCode, i.stderr).toBe(0);
    const before = await git(home, ['rev-parse', 'main']);
    const r = await pyctl(home, ['init', '--from', url], offline());
    expect(r.exitCode).toBe(1);
    expect(errorLines(r.stderr)).toEqual([expect.stringMatching(/is already a pyctl home; init --from only makes a new home$/)]);
    expect(r.stderr).toMatch(/^hint: .*pyctl remote add origin .* && pyctl fetch && pyctl restore origin\//m);
    expect(await git(home, ['rev-parse', 'main'])).toBe(before);
    expect(await git(home, ['remote'])).toBe('');
  });

  it('fails in one line and leaves no home: wrong URL, unknown snapshot, empty remote', async () => {
    const cases: [string[], RegExp][] = [
      [['--from', `${srv.base}/nope.git`], /no git repository at .*nope\.git \(HTTP 404\)/],
      [['--from', url, '--snapshot', 'gpu'], /has no snapshot named 'gpu'; nothing was made/],
      [['--from', srv.createRepo('empty.git')], /empty\.git is empty/],
      [['--from', 'http://127.0.0.1:1/x.git'], /cannot reach .*connection refused/],
    ];
    for (const [args, msg] of cases) {
      const home = join(root, `fail-${readdirSync(root).length}`);
      const r = await pyctl(home, ['init', ...args], offline());
      expect(r.exitCode, r.stdout).toBe(1);
      expect(errorLines(r.stderr)).toEqual([expect.stringMatching(msg)]);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(home)).toBe(false);
    }
    // An existing empty folder is used, and left empty on failure.
    const empty = join(root, 'empty-home');
    mkdirSync(empty);
    const r = await pyctl(empty, ['init', '--from', url, '--snapshot', 'nope'], offline());
    expect(r.exitCode).toBe(1);
    expect(readdirSync(empty)).toEqual([]);
  });

  it('removes the half-made home when the venv cannot be made to match (no wheels at hand)', async () => {
    const home = join(root, 'no-wheels');
    const r = await pyctl(home, ['init', '--from', url], { PIP_NO_INDEX: '1', PIP_FIND_LINKS: join(root, 'nothing-here') });
    expect(r.exitCode).toBe(1);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(existsSync(home)).toBe(false);
  });

  it('works over basic auth with a token or credentials in the URL (not stored), and says so when refused', async () => {
    const denied = join(root, 'auth-denied');
    const no = await pyctl(denied, ['init', '--from', privateUrl], offline());
    expect(no.exitCode).toBe(1);
    expect(errorLines(no.stderr)).toEqual([expect.stringMatching(/private\.git needs authentication \(HTTP 401\)/)]);
    expect(existsSync(denied)).toBe(false);
    const wrong = await pyctl(denied, ['init', '--from', privateUrl], { ...offline(), PYCTL_GIT_TOKEN: 'wrong-token-123' });
    expect(errorLines(wrong.stderr)).toEqual([expect.stringMatching(/refused the token in \$PYCTL_GIT_TOKEN \(HTTP 401\)/)]);
    expect(wrong.stderr).not.toMatch(/wrong-token-123/);
    expect(existsSync(denied)).toBe(false);

    const withToken = join(root, 'auth-token');
    const t = await pyctl(withToken, ['init', '--from', privateUrl, '--snapshot', 'ml'], { ...offline(), PYCTL_GIT_TOKEN: TOKEN });
    expect(t.exitCode, t.stderr).toBe(0);
    expect(await freezeOf(withToken)).toBe('alpha==1.0');

    const inUrl = join(root, 'auth-url');
    const u = await pyctl(inUrl, ['init', '--from', privateUrl.replace('//', `//alice:${TOKEN}@`)], offline());
    expect(u.exitCode, u.stderr).toBe(0);
    expect(u.stdout + u.stderr).not.toContain(TOKEN);
    expect(await git(inUrl, ['config', 'remote.origin.url'])).toBe(privateUrl);
    expect(await freezeOf(inUrl)).toBe('alpha==1.0\nbeta==2.0');
  });
});
