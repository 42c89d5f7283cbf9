/**
 * Issue 17's fault table, rows 5-8 and 10-13: hostile or unusual input, with a real venv, real
 * pip and the real git CLI. pip's options as pip's own parser reads them; secrets masked at
 * record time; homes that must be refused; foreign refs; hand-made commits; snapshot names that
 * shadow git's; requirements files with hashes and odd lines; OS errors and closed pipes. Every
 * test that needs the home starts from a state of it put back by HomeStates (helpers/states.ts),
 * so each passes alone or shuffled.
 */
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, pip, pyctl } from './helpers/cli.js';
import { hermeticEnv, removeDir, tempDir } from './helpers/env.js';
import { HomeStates } from './helpers/states.js';
import { buildWheels } from './helpers/wheels.js';
import { homeProblem } from '../src/operations/home-check.js';

let root: string;
let home: string;
let venv: string;
let wheels: string;
let states: HomeStates;

const lastMessage = () => git(home, ['log', '-1', '--format=%B']);
/** A user's HOME of its own for a test whose `doctor --fix` writes the shell start-up files there. */
const userHome = () => mkdtempSync(join(root, 'user-'));

beforeAll(async () => {
  root = tempDir();
  home = join(root, 'home');
  venv = join(home, 'venv');
  wheels = buildWheels(join(root, 'wheels'), [...['alpha', 'beta', 'gamma', 'delta', 'eps', 'zeta'].map((name) => ({ name, version: '1.0' })), { name: 'beta', version: '2.0' }]);
  states = new HomeStates(home, join(root, 'states'), [], { linkCache: true });
});
afterAll(() => removeDir(root));

// The states tests start from (helpers/states.ts), each built once.
const initialised = (read?: 'read') => {
  const build = async () => {
    removeDir(home);
    const r = await pyctl(home, ['init']);
    expect(r.exitCode, r.stderr).toBe(0);
  };
  return read ? states.givenToRead('init', build) : states.given('init', build);
};
/**
 * alpha installed, by the first row's own pip command: something for pip to uninstall. That row
 * checks what this run recorded (the state's last commit), so one pip run serves both.
 */
const ALPHA_BY = ['--keyring-provider', 'disabled', 'install', 'alpha'];
const alphaInstalled = () =>
  states.given('alpha', async () => {
    await initialised();
    const r = await pip(venv, ALPHA_BY, { wheels });
    expect(r.exitCode, r.stderr).toBe(0);
  });

/** Every text pyctl keeps or shows about the home: all commits and tags, and the runtime files. */
async function everythingRecorded(): Promise<string> {
  const log = await git(home, ['log', '--all', '-p', '--format=%B']);
  const tags = await git(home, ['for-each-ref', '--format=%(contents)', 'refs/tags']);
  const runtime = join(home, '.git', 'pyctl');
  const files = readdirSync(runtime)
    .map((f) => join(runtime, f))
    .filter((f) => statSync(f).isFile())
    .map((f) => readFileSync(f, 'latin1'))
    .join('\n');
  const history = (await pyctl(home, ['history', '--json'])).stdout;
  return [log, tags, files, history, readFileSync(join(home, '.git', 'config'), 'utf8')].join('\n');
}

describe("pip's options, read with pip's own parser (row 7)", () => {
  it.each([
    [ALPHA_BY, 'install'],
    [['--use-deprecated', 'legacy-resolver', 'install', 'gamma'], 'install'],
    [['--keyring-prov=disabled', '--log', 'LOG', 'uninstall', '-y', 'alpha'], 'uninstall'],
    [['--use-feature=no-binary-enable-wheel-cache', '--cache-dir', 'CACHE', 'install', 'alpha'], 'install'],
  ])('pip %j is recorded with kind %s', async (args, kind) => {
    const real = args.map((a) => (a === 'LOG' ? join(root, 'pip.log') : a === 'CACHE' ? join(root, 'cache') : a));
    if (args.join(' ') === ALPHA_BY.join(' ')) {
      await alphaInstalled(); // this very command, run from the init state (built once, then put back)
    } else {
      await (kind === 'uninstall' ? alphaInstalled() : initialised());
      const r = await pip(venv, real, { wheels });
      expect(r.exitCode, r.stderr).toBe(0);
    }
    const msg = await lastMessage();
    expect(msg.split('\n')[0]).toBe(['pip', ...real].join(' '));
    expect(msg).toContain(`Pyctl-Kind: ${kind}`);
  });

  it('takes the lock for `pip --log FILE install`: it waits while another change holds it', async () => {
    await initialised();
    const lock = join(home, '.git', 'pyctl', 'lock');
    // A live holder (this test process) on this host, as pyctl's own lock line.
    writeFileSync(lock, `${process.pid} ${hostname()} pyctl restore\n`);
    const child = spawn(join(venv, 'bin', 'pip'), ['--log', join(root, 'pip2.log'), 'install', 'delta'], {
      env: hermeticEnv({ PIP_NO_INDEX: '1', PIP_FIND_LINKS: wheels }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    const waited = new Promise<void>((resolve) =>
      child.stderr.on('data', (d) => {
        err += d;
        if (/waiting for another change to this venv to finish/.test(err)) resolve();
      }),
    );
    const exited = new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? -1)));
    // Without the lock pip would finish first: `exited` wins and the assertion below fails.
    const first = await Promise.race([waited.then(() => 'waited'), exited.then(() => 'exited')]);
    unlinkSync(lock);
    expect(first, err).toBe('waited');
    expect(await exited, err).toBe(0);
    expect(await lastMessage()).toContain('+ delta 1.0');
  });
});

describe('secrets are masked at record time (row 6)', () => {
  it('a short user@ token, an access_token query and --config-settings token= never reach the repo', async () => {
    await initialised();
    const r = await pip(
      venv,
      ['install', '--no-index', '-i', 'https://tok9x@127.0.0.1:9/simple', '--extra-index-url', 'https://127.0.0.1:9/s?access_token=qs7secret', '--config-settings', 'token=cs5secret', 'eps'],
      { wheels },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await lastMessage()).split('\n')[0]).toBe(
      "pip install --no-index -i https://****@127.0.0.1:9/simple --extra-index-url 'https://127.0.0.1:9/s?access_token=****' --config-settings token=**** eps",
    );
    const all = await everythingRecorded();
    for (const secret of ['tok9x', 'qs7secret', 'cs5secret']) expect(all).not.toContain(secret);
  });

  it('an ssh remote is stored without its password, and shown without it', async () => {
    await initialised();
    const r = await pyctl(home, ['remote', 'add', 'backup', 'ssh://deploy:pw4secret@127.0.0.1/srv/env.git']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe('added remote backup: ssh://deploy@127.0.0.1/srv/env.git');
    expect(r.stderr).toContain('password in the URL was not stored');
    expect(await git(home, ['config', 'remote.backup.url'])).toBe('ssh://deploy@127.0.0.1/srv/env.git');
    expect(await everythingRecorded()).not.toContain('pw4secret');
  });
});

describe('snapshot names git would read as something else are refused (row 13)', () => {
  it.each(['HEAD', 'main', 'refs/heads/main', 'origin/foo', 'now', 'heads/x', 'ORIG_HEAD'])('refuses %j and makes no tag', async (name) => {
    await initialised('read');
    const before = await git(home, ['tag']);
    const r = await pyctl(home, ['snapshot', name]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^error: '${name}' cannot be a snapshot name: .+\\nhint: `));
    expect(await git(home, ['tag'])).toBe(before);
  });

  it("refuses this repo's own branches and a remote's names; deletes an old tag that shadows a branch", async () => {
    await initialised();
    await git(home, ['branch', 'topic']);
    expect((await pyctl(home, ['snapshot', 'topic'])).stderr).toContain("'topic' is a branch name");
    await git(home, ['branch', '-D', 'topic']);
    expect((await pyctl(home, ['remote', 'add', 'up', 'https://127.0.0.1:9/env.git'])).exitCode).toBe(0);
    expect((await pyctl(home, ['snapshot', 'up/ml'])).stderr).toContain("'up/…' is how snapshots fetched from remote 'up' are named");
    await pyctl(home, ['remote', 'remove', 'up']);
    // Made before pyctl refused such names: it can still be deleted.
    await git(home, ['tag', 'master']);
    const r = await pyctl(home, ['snapshot', '--delete', 'master']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await git(home, ['tag', '-l', 'master'])).toBe('');
  });
});

describe('foreign and broken refs are skipped, history is never discarded for them (row 5)', () => {
  it('a tag of a blob: list-snapshots warns and lists the rest; doctor warns and --fix leaves the repo alone', async () => {
    await initialised();
    const blob = await git(home, ['hash-object', '-w', 'freeze.txt']);
    await git(home, ['tag', 'blobtag', blob]);
    const commits = await git(home, ['rev-list', '--count', 'HEAD']);
    const ls = await pyctl(home, ['list-snapshots']);
    expect(ls.exitCode, ls.stderr).toBe(0);
    expect(ls.stdout).toContain('baseline');
    expect(ls.stderr).toContain("skipped tag 'blobtag': it names a blob, not a recorded state");
    const user = { HOME: userHome() };
    const dr = await pyctl(home, ['doctor', '--json'], user);
    const checks = JSON.parse(dr.stdout) as { check: string; status: string; message: string }[];
    expect(checks.find((c) => c.check === 'state-repo')!.status).toBe('ok');
    expect(checks.find((c) => c.check === 'snapshots')).toMatchObject({ status: 'warning' });
    const fix = await pyctl(home, ['doctor', '--fix'], user);
    // Its shell fix wrote the test's HOME, never the machine's.
    expect(readFileSync(join(user.HOME, '.bashrc'), 'utf8')).toContain('# >>> pyctl >>>');
    expect(fix.stdout).not.toContain('new history');
    expect(readdirSync(home).filter((f) => f.startsWith('.git.corrupt'))).toEqual([]);
    expect(await git(home, ['rev-list', '--count', 'HEAD'])).toBe(commits);
    const restore = await pyctl(home, ['restore', 'blobtag']);
    expect(restore.exitCode).toBe(1);
    expect(restore.stderr).toContain("tag 'blobtag' is not a snapshot");
  });

  it('a tag whose object is missing: reported as a problem; --fix removes only that tag, noting it', async () => {
    await initialised();
    const missing = '1234567890abcdef1234567890abcdef12345678';
    writeFileSync(join(home, '.git', 'refs', 'tags', 'gone'), `${missing}\n`);
    const commits = await git(home, ['rev-list', '--count', 'HEAD']);
    const ls = await pyctl(home, ['list-snapshots']);
    expect(ls.exitCode, ls.stderr).toBe(0);
    expect(ls.stderr).toContain("skipped tag 'gone'");
    const user = { HOME: userHome() };
    const dr = await pyctl(home, ['doctor'], user);
    expect(dr.exitCode).toBe(1);
    expect(dr.stdout).toMatch(/PROBLEM\s+snapshots\s+1 snapshot\(s\) cannot be read: 'gone'/);
    const fix = await pyctl(home, ['doctor', '--fix'], user);
    // (its exit status also reflects checks about this machine's PATH, not the subject here)
    expect(fix.stdout).toMatch(/fixed: removed gone \(noted in /);
    expect(readdirSync(home).filter((f) => f.startsWith('.git.corrupt'))).toEqual([]);
    expect(await git(home, ['rev-list', '--count', 'HEAD'])).toBe(commits);
    expect(await git(home, ['tag'])).toContain('baseline');
    expect(readFileSync(join(home, '.git', 'pyctl', 'removed-tags'), 'utf8')).toContain(`${missing} gone removed`);
  });
});

describe('homes pyctl must not make or adopt are refused (row 8)', () => {
  it.each(['/', '/usr', '/etc', '/proc/pyctl', '/sys', '/tmp'])('refuses %s', (dir) => {
    expect(homeProblem(dir)).not.toBeNull();
  });

  it("refuses a home that is, or is inside, another project's git repo, leaving that repo as it was", async () => {
    const project = join(root, 'project');
    mkdirSync(project);
    await git(project, ['init', '-q']);
    writeFileSync(join(project, 'app.py'), 'print(1)\n');
    await git(project, ['add', 'app.py']);
    await git(project, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'first']);
    writeFileSync(join(project, 'app.py'), 'print(2)\n');
    await git(project, ['add', 'app.py']); // a staged change pyctl must not commit
    mkdirSync(join(project, 'venv'));
    for (const dir of [project, join(project, 'tools', 'py')]) {
      const r = await pyctl(dir, ['init']);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(/cannot be a pyctl home|is not a pyctl home/);
      expect(r.stderr).not.toContain('    at ');
    }
    expect(await git(project, ['status', '--porcelain'])).toBe('M  app.py');
    expect(await git(project, ['rev-list', '--count', 'HEAD'])).toBe('1');
    expect(existsSync(join(project, 'tools'))).toBe(false);
    // Every other command refuses it too (nothing is committed into it).
    const undo = await pyctl(project, ['undo']);
    expect(undo.exitCode).toBe(2);
    expect(await git(project, ['rev-list', '--count', 'HEAD'])).toBe('1');
  });

  it('refuses a home in /proc with one line, no stack trace', async () => {
    const r = await pyctl('/proc/pyctl-home', ['init']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('error: /proc/pyctl-home cannot be a pyctl home: it is inside /proc, a system file system');
  });
});
