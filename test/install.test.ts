/**
 * install.sh end to end: the real script run against a temporary HOME (never the real ~), the
 * installed launcher, the shell block read by a real bash, re-runs, uninstall and the node check.
 * The tests of an installed HOME each start from it as install.sh left it, put back by HomeStates
 * (helpers/states.ts), so each passes alone or shuffled.
 */
import { execa } from 'execa';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git } from './helpers/cli.js';
import { hermeticEnv, removeDir, tempDir } from './helpers/env.js';
import { HomeStates } from './helpers/states.js';

const REPO = resolve(__dirname, '..');
const INSTALL = join(REPO, 'install.sh');
const BEGIN = '# >>> pyctl >>>';
const END = '# <<< pyctl <<<';

let root: string;

/** The env install.sh and the shells it configures run with: only HOME (and PATH) differ. */
function envFor(home: string, extra: Record<string, string | undefined> = {}) {
  return hermeticEnv({
    HOME: home,
    SHELL: '/bin/bash',
    PYCTL_HOME: undefined,
    XDG_DATA_HOME: undefined,
    XDG_CONFIG_HOME: undefined,
    ZDOTDIR: undefined,
    NO_COLOR: '1',
    PYCTL_SKIP_BUILD: '1',
    // As on a machine with bash-completion (the test below drops it); this one may have none.
    PYCTL_BASH_COMPLETION_LOADER: join(root, 'bash_completion'),
    ...extra,
  });
}

async function install(home: string, args: string[] = [], extra: Record<string, string | undefined> = {}) {
  const r = await execa(INSTALL, args, { env: envFor(home, extra), extendEnv: false, reject: false, cwd: root });
  return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const countBlocks = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l === BEGIN).length;

beforeAll(async () => {
  root = tempDir('pyctl-install-');
  writeFileSync(join(root, 'bash_completion'), '# a stand-in for the bash-completion package\n');
  // `npm test` builds first (pretest); a rebuild here would pull dist/ from under the tests
  // running beside this file. install.sh itself is told to skip the build (PYCTL_SKIP_BUILD=1).
  if (!existsSync(join(REPO, 'dist', 'pyctl.js'))) await execa('npm', ['run', '--silent', 'build'], { cwd: REPO });
});
afterAll(() => removeDir(root));

describe('portable shell', () => {
  const scripts = ['install.sh', 'hooks/shell-blocks.sh', '.ci/run'];
  // GNU-only forms that break on macOS/BSD: in-place sed, readlink -f, GNU stat's -c.
  const GNU_ONLY = [/\bsed\s+(-[a-zA-Z]*\s+)*-i\b/, /\breadlink\s+-f\b/, /\bstat\s+-c\b/, /\bgrep\s+-P\b/];
  it("install.sh, the shell blocks and the docs' shell examples use no GNU-only forms", () => {
    const docs = ['README.md', ...readdirSync(join(REPO, 'docs')).map((f) => `docs/${f}`)].filter((f) => f.endsWith('.md'));
    const texts = [
      ...scripts.map((f) => [f, readFileSync(join(REPO, f), 'utf8')] as const),
      ...docs.map((f) => [f, [...readFileSync(join(REPO, f), 'utf8').matchAll(/```(?:bash|sh|shell)\n([\s\S]*?)```/g)].map((m) => m[1]).join('\n')] as const),
    ];
    for (const [file, text] of texts) for (const line of text.split('\n').filter((l) => !/^\s*#/.test(l))) for (const re of GNU_ONLY) expect(re.test(line), `${file}: ${line}`).toBe(false);
  });
  it.skipIf(spawnSync('shellcheck', ['--version']).status !== 0)('shellcheck finds nothing in install.sh and the shell blocks', () => {
    const r = spawnSync('shellcheck', ['-x', ...scripts], { cwd: REPO, encoding: 'utf8' });
    expect(r.status, r.stdout).toBe(0);
  });
});

describe('./install.sh where bash-completion is not installed', () => {
  it('puts a source line in the bash block instead of a file nothing reads, says so, and TAB works', async () => {
    const home = join(root, 'home-no-bash-completion');
    mkdirSync(home);
    const r = await install(home, [], { PYCTL_BASH_COMPLETION_LOADER: '' });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/bash: a 'source <\(pyctl completion bash\)' line in the PATH block of .*\.bashrc \(bash-completion is not installed\)/);
    expect(existsSync(join(home, '.local', 'share', 'bash-completion'))).toBe(false);
    expect(readFileSync(join(home, '.bashrc'), 'utf8')).toContain('source <(pyctl completion bash)');
    const env = envFor(home, { PYCTL_BASH_COMPLETION_LOADER: '' });
    const c = await execa('bash', ['-ic', 'complete -p pyctl'], { env, extendEnv: false, reject: false });
    expect(c.stdout).toBe('complete -F _pyctl pyctl');
    expect((await install(home, ['--uninstall', '--purge'], { PYCTL_BASH_COMPLETION_LOADER: '' })).exitCode).toBe(0);
    expect(readFileSync(join(home, '.bashrc'), 'utf8')).not.toContain('pyctl');
  });
});

describe('./install.sh on a fresh HOME', () => {
  let home: string;
  let pyhome: string;
  let states: HomeStates;
  const launcher = () => join(home, '.local', 'bin', 'pyctl');
  const bashrc = () => join(home, '.bashrc');

  beforeAll(() => {
    home = join(root, 'home');
    pyhome = join(home, '.local', 'python-packages');
    states = new HomeStates(home, join(root, 'states'), [], { linkCache: true });
  });
  /** A HOME with a ~/.bashrc of its own, after ./install.sh. */
  const installed = (read?: 'read') => {
    const build = async () => {
      removeDir(home);
      mkdirSync(home);
      writeFileSync(join(home, '.bashrc'), 'alias ll="ls -l"\n');
      const r = await install(home);
      expect(r.exitCode, r.stderr + r.stdout).toBe(0);
      expect(r.stdout).toMatch(/open a new shell/i);
      expect(r.stdout).toMatch(/pip install <pkg>/);
    };
    return read ? states.givenToRead('installed', build) : states.given('installed', build);
  };

  it('installs the program and a launcher that runs it', async () => {
    await installed('read');
    expect(existsSync(join(home, '.local', 'share', 'pyctl', 'dist', 'pyctl.js'))).toBe(true);
    expect(existsSync(join(home, '.local', 'share', 'pyctl', 'hooks', 'pyctl_hook.py'))).toBe(true);
    expect(statSync(launcher()).mode & 0o111).toBeTruthy();
    const r = await execa(launcher(), ['status'], { env: envFor(home), extendEnv: false, reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain(pyhome);
    expect(r.stdout).toMatch(/last op:\s+0\s+pyctl init/);
  });

  it('adds exactly one marked PATH block to ~/.bashrc and keeps what was there', async () => {
    await installed('read');
    const text = readFileSync(bashrc(), 'utf8');
    expect(text.startsWith('alias ll="ls -l"\n')).toBe(true);
    expect(countBlocks(bashrc())).toBe(1);
    expect(text).toContain('export PATH="$HOME/.local/python-packages/venv/bin:$HOME/.local/bin:$PATH"');
    expect(text.indexOf(END)).toBeGreaterThan(text.indexOf(BEGIN));
    // zsh is neither the shell nor configured here.
    expect(existsSync(join(home, '.zshrc'))).toBe(false);
  });

  it('installs bash completion where bash-completion looks for it', async () => {
    await installed('read');
    const file = join(home, '.local', 'share', 'bash-completion', 'completions', 'pyctl');
    expect(readFileSync(file, 'utf8')).toMatch(/^# bash completion for pyctl .*\n[\s\S]*complete -F _pyctl pyctl\n$/);
  });

  it('makes a new interactive bash find the venv pip and the launcher first', async () => {
    await installed('read');
    const r = await execa('bash', ['-ic', 'command -v pip; command -v python3; command -v pyctl'], {
      env: envFor(home),
      extendEnv: false,
      reject: false,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.split('\n')).toEqual([join(pyhome, 'venv', 'bin', 'pip'), join(pyhome, 'venv', 'bin', 'python3'), launcher()]);
  });

  it('changes nothing on a second run: one block, same HEAD, same venv', async () => {
    await installed();
    const head = await git(pyhome, ['rev-parse', 'HEAD']);
    const marker = join(pyhome, 'venv', 'kept-marker');
    writeFileSync(marker, 'x');
    const inode = statSync(join(pyhome, 'venv', 'bin', 'python')).ino;
    const rc = readFileSync(bashrc(), 'utf8');
    const r = await install(home);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/already set up/);
    expect(readFileSync(bashrc(), 'utf8')).toBe(rc);
    expect(countBlocks(bashrc())).toBe(1);
    expect(await git(pyhome, ['rev-parse', 'HEAD'])).toBe(head);
    expect(existsSync(marker)).toBe(true);
    expect(statSync(join(pyhome, 'venv', 'bin', 'python')).ino).toBe(inode);
    // No leftovers of the program swap.
    expect(readdirSync(join(home, '.local', 'share'))).toEqual(['bash-completion', 'pyctl']);
  });

  it('rewrites an outdated block in place instead of adding another', async () => {
    await installed();
    const text = readFileSync(bashrc(), 'utf8').replace(/^export PATH=.*$/m, 'export PATH="/old/path:$PATH"');
    writeFileSync(bashrc(), text + 'echo after\n');
    const r = await install(home);
    expect(r.exitCode, r.stderr).toBe(0);
    const now = readFileSync(bashrc(), 'utf8');
    expect(countBlocks(bashrc())).toBe(1);
    expect(now).not.toContain('/old/path');
    expect(now).toContain('$HOME/.local/python-packages/venv/bin');
    expect(now.endsWith('echo after\n')).toBe(true);
  });

  it('--uninstall removes the launcher, program and block, keeps the venv and what follows the block; it is idempotent', async () => {
    await installed();
    writeFileSync(bashrc(), readFileSync(bashrc(), 'utf8') + 'echo after\n');
    const r = await install(home, ['--uninstall']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(existsSync(launcher())).toBe(false);
    expect(existsSync(join(home, '.local', 'share', 'pyctl'))).toBe(false);
    expect(existsSync(join(home, '.local', 'share', 'bash-completion'))).toBe(false);
    // Exactly what the user had, before the block and after it.
    expect(readFileSync(bashrc(), 'utf8')).toBe('alias ll="ls -l"\necho after\n');
    expect(existsSync(join(pyhome, 'venv', 'bin', 'pip'))).toBe(true);
    expect(await git(pyhome, ['rev-parse', 'HEAD'])).toMatch(/^[0-9a-f]{40}$/);
    const again = await install(home, ['--uninstall']);
    expect(again.exitCode, again.stderr).toBe(0);
    // The kept venv's pip: says once that it is not recorded any more when it changes packages.
    const pip = join(pyhome, 'venv', 'bin', 'pip');
    const change = await execa(pip, ['uninstall', '-y', 'not-installed-here'], { env: envFor(home), extendEnv: false, reject: false });
    expect(change.stderr.split('\n').filter((l) => l.startsWith('pyctl:'))).toEqual([expect.stringMatching(/^pyctl: not recording this pip run: pyctl is no longer installed/)]);
    const read = await execa(pip, ['list'], { env: envFor(home), extendEnv: false, reject: false });
    expect(read.exitCode).toBe(0);
    expect(read.stderr).not.toMatch(/pyctl/);
  });

  it('--uninstall --purge removes the pyctl home too', async () => {
    await installed();
    const r = await install(home, ['--uninstall', '--purge']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(existsSync(pyhome)).toBe(false);
    const again = await install(home, ['--uninstall', '--purge']);
    expect(again.exitCode, again.stderr).toBe(0);
  });
});

describe('./install.sh refusing to start', () => {
  it('stops with one line and creates nothing when the node on PATH is too old', async () => {
    const home = join(root, 'old-node-home');
    const fake = join(root, 'old-node-bin');
    mkdirSync(home);
    mkdirSync(fake);
    writeFileSync(join(fake, 'node'), '#!/bin/sh\necho v18.18.2\n'); // one minor short of 18.19
    chmodSync(join(fake, 'node'), 0o755);
    const r = await install(home, [], { PATH: fake + delimiter + process.env.PATH, PYCTL_SKIP_BUILD: undefined });
    expect(r.exitCode).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/Node\.js 18\.19 or newer \(found v18\.18\.2 at .*\): without root: /);
    expect(readdirSync(home)).toEqual([]);
  });

  const realPyenv = join(process.env.PYENV_ROOT || join(process.env.HOME || '', '.pyenv'), 'versions');
  const py312 = existsSync(realPyenv) ? readdirSync(realPyenv).find((v) => v.startsWith('3.12.')) : undefined;
  it.skipIf(!py312)("--python 3.12 finds a Python as pyctl does: a pyenv shim that would fail is passed over for pyenv's own 3.12", async () => {
    const home = join(root, 'pyenv-home');
    const pyenv = join(root, 'fake-pyenv');
    mkdirSync(home);
    mkdirSync(join(pyenv, 'shims'), { recursive: true });
    symlinkSync(realPyenv, join(pyenv, 'versions'));
    writeFileSync(join(pyenv, 'version'), '3.11.7\n'); // the global version has no python3.12: the shim fails
    writeFileSync(join(pyenv, 'shims', 'python3.12'), '#!/bin/sh\necho "pyenv: python3.12: command not found" >&2\nexit 127\n');
    chmodSync(join(pyenv, 'shims', 'python3.12'), 0o755);
    const PATH = [join(pyenv, 'shims'), ...(process.env.PATH ?? '').split(delimiter).filter((d) => !d.includes('.pyenv'))].join(delimiter);
    const r = await install(home, ['--python', '3.12'], { PATH, PYENV_ROOT: pyenv });
    expect(r.exitCode, r.stderr).toBe(0);
    const cfg = readFileSync(join(home, '.local', 'python-packages', 'venv', 'pyvenv.cfg'), 'utf8');
    expect(cfg).toMatch(/^version\w* = 3\.12\./m);
    expect(cfg).toMatch(/^home = .*\/versions\/3\.12\.\d+\/bin$/m);
  });

  it('rejects an unknown option, and system-only options without --system, with exit 2', async () => {
    const home = join(root, 'usage-home');
    mkdirSync(home);
    const r = await install(home, ['--frobnicate']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/unknown option '--frobnicate'/);
    // (--system itself is tested in system.test.ts, against temporary prefixes.)
    const s = await install(home, ['--prefix', join(root, 'nowhere')]);
    expect(s.exitCode).toBe(2);
    expect(s.stderr).toMatch(/--prefix only goes with --system/);
    expect(existsSync(join(root, 'nowhere'))).toBe(false);
    const h = await install(home, ['--help']);
    expect(h.exitCode).toBe(0);
    expect(h.stdout).toMatch(/--uninstall/);
    expect(readdirSync(home)).toEqual([]);
  });
});
