/**
 * Fitting the ecosystem, against a real venv, real pip and real git: shell completion,
 * --json shapes, colour, --verbose, help examples, export (with hashes, installed for real),
 * restore --file, autoremove and why on real metadata, and the docs covering every option.
 */
import { execa } from 'execa';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CLI, git, installedSet, pip, pyctl } from './helpers/cli.js';
import { hermeticEnv, python3, removeDir, tempDir } from './helpers/env.js';
import { head, sitePackages } from './helpers/probe.js';
import { HomeStates } from './helpers/states.js';
import { buildWheels, wheelFileName } from './helpers/wheels.js';

let root: string;
let home: string;
let venv: string;
let wheels: string;
let bin: string;
let states: HomeStates;

const sha256Of = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
// The installed set as pip freeze --all prints it, without starting pip (helpers/cli.ts).
const freeze = () => installedSet(venv);
const lastMsg = () => git(home, ['log', '-1', '--format=%B']);
const ok = async (args: string[], env: Record<string, string | undefined> = {}) => {
  const r = await pyctl(home, args, env);
  expect(r.exitCode, `pyctl ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r;
};

beforeAll(async () => {
  root = tempDir();
  home = join(root, 'home');
  venv = join(home, 'venv');
  wheels = buildWheels(join(root, 'wheels'), [
    // app pulls Foo_Bar (which requires app back: a cycle) and lib[fast]; oldonly only on Python 2.
    { name: 'app', version: '1.0', requires: ['Foo_Bar>=1', 'lib[fast]', 'oldonly; python_version < "3"'] },
    { name: 'Foo_Bar', version: '1.0', requires: ['app'] },
    { name: 'lib', version: '1.0', requires: ['speedy; extra == "fast"'], metadata: ['Provides-Extra: fast'] },
    { name: 'speedy', version: '1.0' },
    { name: 'other', version: '1.0', requires: ['lib2'] },
    { name: 'lib2', version: '1.0', requires: ['speedy2; extra == "fast"'], metadata: ['Provides-Extra: fast'] },
    { name: 'speedy2', version: '1.0' },
    { name: 'oldonly', version: '1.0' },
    { name: 'leaf', version: '1.0', requires: ['speedy2', 'oldonly'] },
    { name: 'black', version: '1.0', requires: ['click>=1'] },
    { name: 'click', version: '1.0' },
    // tester's dev extra needs netlib; fmt's d extra needs aio.
    { name: 'tester', version: '1.0', requires: ['netlib; extra == "dev"'], metadata: ['Provides-Extra: dev'] },
    { name: 'netlib', version: '1.0' },
    { name: 'fmt', version: '1.0', requires: ['aio; extra == "d"'], metadata: ['Provides-Extra: d'] },
    { name: 'aio', version: '1.0' },
  ]);
  // A `pyctl` on PATH for the completion script to call back.
  bin = join(root, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'pyctl'), `#!/bin/sh\nexec '${process.execPath}' '${CLI}' "$@"\n`, { mode: 0o755 });
  states = new HomeStates(home, join(root, 'states'), [], { linkCache: true });
});
afterAll(() => removeDir(root));

// The home every test here starts from (helpers/states.ts): built by the first test that asks,
// put back for each test that changes it, so any test passes alone or in any order.
const buildBase = async () => {
  removeDir(home);
  expect((await pyctl(home, ['init'])).exitCode).toBe(0);
  // leaf with the rest (one pip run less): uninstalled after, it leaves speedy2 and oldonly behind.
  expect((await pip(venv, ['install', 'app', 'other', 'leaf'], { wheels })).exitCode).toBe(0);
  expect((await pip(venv, ['uninstall', '-y', 'leaf'])).exitCode).toBe(0);
  expect((await pip(venv, ['install', 'black'], { wheels })).exitCode).toBe(0);
  await ok(['snapshot', 'dev-tools', '-m', 'my tools']);
};
/** For a test that changes the home. */
const base = () => states.given('base', buildBase);
/** For a test that only reads it (or checks that it changed nothing). */
const baseToRead = () => states.givenToRead('base', buildBase);
// The test that builds the base (the first to ask, or one run alone) runs init and three pip runs
// before its own: over a minute on a loaded 2-core machine.
vi.setConfig({ testTimeout: 240_000 });

describe('shell completion', () => {
  // The bash script, printed once and sourced from a file by each completion asked below.
  let bashScript: string | undefined;
  const complete = async (words: string[]) => {
    if (!bashScript) {
      bashScript = join(root, 'pyctl.bash');
      writeFileSync(bashScript, (await ok(['completion', 'bash'])).stdout);
    }
    const script = `source '${bashScript}'
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}
_pyctl; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const r = await execa('bash', ['-c', script], { env: hermeticEnv({ PYCTL_HOME: home, PATH: `${bin}:${process.env.PATH}` }), extendEnv: false });
    return r.stdout.split('\n').filter(Boolean);
  };

  it('bash: registers, completes commands, options, snapshot names and operation numbers', async () => {
    await baseToRead();
    const r = await execa('bash', ['-c', 'source <(pyctl completion bash); complete -p pyctl'], { env: hermeticEnv({ PATH: `${bin}:${process.env.PATH}` }), extendEnv: false });
    expect(r.stdout).toBe('complete -F _pyctl pyctl');
    expect(await complete(['pyctl', 'res'])).toEqual(['restore']);
    expect(await complete(['pyctl', 'a'])).toEqual(['autoremove']);
    const states = await complete(['pyctl', 'restore', '']);
    expect(states).toContain('dev-tools');
    expect(states).toContain('baseline');
    expect(states).toContain('0');
    expect(states.some((s) => s.startsWith('auto/'))).toBe(false);
    expect(await complete(['pyctl', 'restore', 'dev'])).toEqual(['dev-tools']);
    expect(await complete(['pyctl', 'restore', '--d'])).toEqual(['--dry-run']);
    expect(await complete(['pyctl', '--json', 'diff', 'bas'])).toEqual(['baseline']);
    expect(await complete(['pyctl', 'completion', 'f'])).toEqual(['fish']);
    expect(await complete(['pyctl', 'help', 'list'])).toEqual(['list-snapshots']);
  });

  it('_complete ops lists operation numbers newest first', async () => {
    await baseToRead();
    const r = await ok(['_complete', 'ops']);
    const ops = r.stdout.split('\n');
    const newest = Number((await git(home, ['log', '-1', '--format=%(trailers:key=Pyctl-Op,valueonly)'])).trim());
    expect(ops[0]).toBe(String(newest));
    expect(ops.at(-1)).toBe('0');
  });

  const has = (shell: string) => spawnSync('sh', ['-c', `command -v ${shell}`]).status === 0;
  const shellEnv = () => hermeticEnv({ PYCTL_HOME: home, PATH: `${bin}:${process.env.PATH}` });

  // CI installs zsh and fish (.ci/run); elsewhere these run where the shells exist.
  it.skipIf(!has('fish'))('fish: completes commands, options and snapshot names', async () => {
    await baseToRead();
    const complete = async (line: string) => {
      const r = await execa('fish', ['--no-config', '-c', `pyctl completion fish | source; complete -C '${line}'`], { env: shellEnv(), extendEnv: false });
      return r.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t')[0]);
    };
    expect(await complete('pyctl res')).toEqual(['restore']);
    expect(await complete('pyctl restore dev')).toEqual(['dev-tools']);
    expect(await complete('pyctl restore --d')).toEqual(['--dry-run']);
    expect(await complete('pyctl completion f')).toEqual(['fish']);
  });

  it.skipIf(!has('zsh'))('zsh: the script loads under compinit and registers _pyctl for pyctl', async () => {
    const script = 'autoload -Uz compinit && compinit -u -D && source <(pyctl completion zsh) && print -r -- $_comps[pyctl] && whence -w _pyctl _pyctl_states';
    const r = await execa('zsh', ['-f', '-c', script], { env: shellEnv(), extendEnv: false });
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')).toEqual(['_pyctl', '_pyctl: function', '_pyctl_states: function']);
    const n = await execa('zsh', ['-n', '-f', '-c', (await ok(['completion', 'zsh'])).stdout], { reject: false });
    expect(n.exitCode, n.stderr).toBe(0);
  });

  it('zsh and fish scripts name every command; an unknown shell is a usage error', async () => {
    const zsh = (await ok(['completion', 'zsh'])).stdout;
    const fish = (await ok(['completion', 'fish'])).stdout;
    expect(zsh.startsWith('#compdef pyctl')).toBe(true);
    for (const c of ['restore', 'export', 'autoremove', 'why', 'list-snapshots']) {
      expect(zsh).toContain(`'${c}:`);
      expect(fish).toContain(`-a ${c} `);
    }
    expect((await pyctl(home, ['completion', 'tcsh'])).exitCode).toBe(2);
  });
});

describe('--json', () => {
  const parse = async (args: string[]) => {
    const r = await ok(['--json', ...args]);
    return JSON.parse(r.stdout);
  };
  it('status, history, diff and list-snapshots print the documented keys, and only JSON', async () => {
    await baseToRead();
    const doc = readFileSync(resolve(__dirname, '../docs/json.md'), 'utf8');
    const status = await parse(['status']);
    expect(Object.keys(status).sort()).toEqual(['autoSnapshots', 'home', 'inSync', 'lastOperation', 'packages', 'path', 'python', 'snapshots', 'system', 'tier', 'venv']);
    expect(Object.keys(status.path).sort()).toEqual(['pip', 'projectVenv', 'python3', 'userVenvFirst']);
    expect(Object.keys(status.lastOperation).sort()).toEqual(['op', 'subject', 'time']);
    const history = await parse(['history', '--limit', '3']);
    expect(Array.isArray(history)).toBe(true);
    expect(Object.keys(history[0]).sort()).toEqual(['commit', 'counts', 'exit', 'kind', 'op', 'python', 'status', 'subject', 'time']);
    const diff = await parse(['diff', 'baseline', 'dev-tools']);
    expect(Object.keys(diff).sort()).toEqual(['changes', 'from', 'title', 'to']);
    expect(diff.changes.find((c: { key: string }) => c.key === 'app')).toMatchObject({ kind: 'added', name: 'app', to: '1.0' });
    const snaps = await parse(['list-snapshots']);
    expect(Object.keys(snaps[0]).sort()).toEqual(['commit', 'current', 'message', 'name', 'packages', 'time']);
    // Every key is documented in docs/json.md.
    for (const k of [...Object.keys(status), ...Object.keys(status.path), ...Object.keys(history[0]), ...Object.keys(diff), ...Object.keys(snaps[0])]) {
      expect(doc, `docs/json.md documents ${k}`).toContain(`\`${k}\``);
    }
  });

  it('every command but completion answers --json with one JSON document (docs/json.md says so)', async () => {
    await base();
    const reads = [
      ['status'],
      ['history'],
      ['diff'],
      ['list-snapshots'],
      ['remote', 'list'],
      ['doctor'],
      ['export'],
      ['why', 'click'],
      ['wheelhouse'],
      ['init'],
      ['undo', '--dry-run'],
      ['redo', '--dry-run'],
      ['restore', 'dev-tools', '--dry-run'],
      ['clean', '--dry-run'],
      ['autoremove', '--dry-run'],
    ];
    for (const args of reads) {
      const r = await pyctl(home, ['--json', ...args]);
      if (r.exitCode !== 0 && r.stdout === '') {
        // A refusal (redo with no undo before it) is an error line on stderr, nothing on stdout.
        expect(r.stdout, args.join(' ')).toBe('');
        expect(r.stderr, args.join(' ')).toMatch(/^error: /);
      } else expect(() => JSON.parse(r.stdout), `${args.join(' ')}: ${r.stdout}`).not.toThrow(); // doctor: findings exit 1
    }
  });
});

describe('colour and --verbose', () => {
  it('FORCE_COLOR gives ANSI colour in history and diff; NO_COLOR none; piped output none by default', async () => {
    await baseToRead();
    for (const args of [['history'], ['diff', 'baseline', 'dev-tools']]) {
      const forced = await ok(args, { NO_COLOR: undefined, FORCE_COLOR: '1' });
      expect(forced.stdout).toMatch(/\x1b\[\d+m/);
      const none = await ok(args, { NO_COLOR: '1', FORCE_COLOR: '1' });
      expect(none.stdout).not.toMatch(/\x1b\[/);
      const piped = await ok(args, { NO_COLOR: undefined, FORCE_COLOR: undefined });
      expect(piped.stdout).not.toMatch(/\x1b\[/);
    }
  });

  it('--verbose shows the pip and git steps on stderr only', async () => {
    await base();
    await pip(venv, ['install', 'speedy2'], { wheels }); // nothing changes: already there
    const r = await ok(['--verbose', '--json', 'undo', '--dry-run']);
    JSON.parse(r.stdout);
    const undo = await ok(['--verbose', 'undo']);
    expect(undo.stderr).toMatch(/git: committed freeze\.txt as [0-9a-f]{12}/);
    expect(undo.stderr).toMatch(/uninstall black 1\.0|link black 1\.0 back from the store/);
    expect(undo.stdout).not.toMatch(/git: committed/);
    const redo = await ok(['-v', 'undo']);
    expect(redo.stderr).toMatch(/link black 1\.0 back from the store \(\d+ files, no pip, no unpacking\)/);
    expect(redo.stderr).toMatch(/git: tagged the state left behind as auto\/before-\d+/);
  });
});

describe('help', () => {
  // `pyctl help X` of every command, asked once for both tests (a pyctl start per command).
  const helps = new Map<string, Promise<string>>();
  const helpOf = (c: string) => {
    if (!helps.has(c))
      helps.set(
        c,
        ok(['help', c]).then((r) => r.stdout),
      );
    return helps.get(c)!;
  };

  it('every command has an Examples section, in pyctl help X and X --help', async () => {
    const top = (await ok(['--help'])).stdout;
    const commands = [...top.matchAll(/^ {2}([a-z][a-z-]*)\b/gm)].map((m) => m[1]).filter((c) => c !== 'help');
    expect(commands).toEqual(expect.arrayContaining(['init', 'status', 'export', 'autoremove', 'why', 'completion', 'restore']));
    for (const c of commands) {
      const h = await helpOf(c);
      expect(h, c).toMatch(/\nExamples:\n {2}\$ \S/);
      expect((await ok([c, '--help'])).stdout).toBe(h);
    }
  });

  it('docs/commands.md names every command and option', async () => {
    const doc = readFileSync(resolve(__dirname, '../docs/commands.md'), 'utf8');
    const top = (await ok(['--help'])).stdout;
    const optionsOf = (help: string) => [...help.matchAll(/^ {2}(-\w, )?(--[a-z-]+)/gm)].map((m) => m[2]).filter((o) => o !== '--help');
    for (const o of optionsOf(top)) expect(doc, `global ${o}`).toContain(o);
    const commands = [...top.matchAll(/^ {2}([a-z][a-z-]*)\b/gm)].map((m) => m[1]).filter((c) => c !== 'help');
    for (const c of commands) {
      expect(doc, c).toMatch(new RegExp(`^## \`pyctl ${c}\\b`, 'm'));
      const section = doc.split(new RegExp(`^## \`pyctl ${c}\\b`, 'm'))[1].split(/^## /m)[0];
      for (const o of optionsOf(await helpOf(c))) expect(section, `${c} ${o}`).toContain(o);
    }
  });
});

describe('autoremove and why', () => {
  it('why shows chains from what you asked for, across name spellings and cycles', async () => {
    await base();
    expect((await ok(['why', 'speedy'])).stdout).toContain('app -> lib -> speedy');
    expect((await ok(['why', 'foo-bar'])).stdout).toContain('app -> Foo_Bar');
    expect((await ok(['why', 'FOO.BAR'])).stdout).toContain('app -> Foo_Bar');
    expect((await ok(['why', 'click'])).stdout).toContain('black -> click');
    expect((await ok(['why', 'app'])).stdout).toContain('you asked for it');
    expect((await ok(['why', 'oldonly'])).stdout).toMatch(/nothing you asked for needs it/);
    const j = JSON.parse((await ok(['--json', 'why', 'speedy2'])).stdout);
    expect(j).toMatchObject({ package: 'speedy2', requested: false, chains: [], orphan: true });
    // Extras count only when a recorded command asked for them.
    expect((await pip(venv, ['install', 'tester', 'netlib', 'fmt[d]'], { wheels })).exitCode).toBe(0);
    const netlib = (await ok(['why', 'netlib'])).stdout;
    expect(netlib).toContain('you asked for it (pip install tester netlib');
    expect(netlib).not.toContain('tester -> netlib');
    expect((await ok(['why', 'aio'])).stdout).toContain('fmt -> aio');
    const pipWhy = (await ok(['why', 'pip'])).stdout;
    expect(pipWhy).toMatch(/part of the venv/);
    expect(pipWhy).not.toMatch(/you asked for it|-> pip/);
    expect((await ok(['why', 'setuptools'])).stdout).not.toMatch(/you asked for it/);
    const missing = await pyctl(home, ['why', 'nope']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(/^error: nope is not installed/);
  });

  it('a dry run lists the orphans and changes nothing', async () => {
    await baseToRead();
    const before = await freeze();
    const r = await ok(['autoremove', '--dry-run']);
    expect(r.stdout).toMatch(/- oldonly 1\.0/);
    expect(r.stdout).toMatch(/- speedy2 1\.0/);
    expect(r.stdout).not.toMatch(/speedy 1|lib2|Foo_Bar|click/);
    expect(await freeze()).toBe(before);
  });

  it('keeps REQUESTED across undo, removes only orphans, and is undoable', async () => {
    await base();
    // Uninstall what you asked for, then undo: app comes back from the wheelhouse, still marked as asked for.
    await pip(venv, ['uninstall', '-y', 'app']);
    await ok(['undo']);
    const requested = readdirSync(join(venv, 'lib')).flatMap((py) => {
      const site = join(venv, 'lib', py, 'site-packages');
      return readdirSync(site).filter((d) => d.endsWith('.dist-info') && existsSync(join(site, d, 'REQUESTED')));
    });
    expect(requested.some((d) => d.startsWith('app-'))).toBe(true);
    expect(requested.some((d) => d.startsWith('lib-'))).toBe(false);
    const before = await freeze();
    await pip(venv, ['uninstall', '-y', 'black']);
    const afterUninstall = await freeze();
    const r = await ok(['autoremove']);
    expect(r.stdout).toMatch(/pyctl autoremove: recorded as operation \d+ \(-3\)/);
    const after = await freeze();
    for (const gone of ['click', 'oldonly', 'speedy2']) expect(after).not.toMatch(new RegExp(`^${gone}==`, 'm'));
    for (const kept of ['app', 'Foo_Bar', 'lib', 'speedy', 'other', 'lib2', 'pip', 'setuptools']) expect(after).toMatch(new RegExp(`^${kept}==`, 'm'));
    expect(await lastMsg()).toMatch(/Pyctl-Kind: autoremove/);
    expect((await ok(['autoremove'])).stdout).toMatch(/nothing to remove/);
    await ok(['undo']); // the autoremove
    expect(await freeze()).toBe(afterUninstall);
    await ok(['undo', '3']); // back before the black uninstall
    expect(await freeze()).toBe(before);
  });
});

describe('export', () => {
  const freshVenv = async (name: string) => {
    const dir = join(root, name);
    await execa(python3(), ['-m', 'venv', '--without-pip', dir], { env: hermeticEnv() });
    return dir;
  };

  it('prints a requirements file of the state with a header; pip install -r accepts it', async () => {
    await baseToRead();
    const r = await ok(['export', 'dev-tools']);
    expect(r.stdout).toMatch(/^# pyctl export of snapshot dev-tools \(operation \d+, \d{4}-\d\d-\d\d \d\d:\d\d\)\n/);
    expect(r.stdout).toMatch(/^app==1\.0$/m);
    expect(r.stdout).toMatch(/^Foo_Bar==1\.0$/m);
    const file = join(root, 'req.txt');
    await ok(['export', '-o', file]);
    expect(readFileSync(file, 'utf8')).toMatch(/^# pyctl export of the current state/);
    const target = join(root, 'plain-target');
    // Not into the venv: nothing to record (PYCTL_NO_RECORD spares the hook's pyctl run).
    const res = await pip(venv, ['install', '--no-deps', '--find-links', join(home, 'wheelhouse'), '--target', target, '-r', file], { wheels, env: { PYCTL_NO_RECORD: '1' } });
    expect(res.exitCode, res.stderr).toBe(0);
  });

  // The machine has only the test's wheel folder (PIP_NO_INDEX): nothing to ask an index.
  const offline = { PIP_NO_INDEX: '1' };
  const withoutSeed = (text: string) =>
    text
      .split('\n')
      .filter((l) => !/^(pip|setuptools|wheel)==/.test(l))
      .sort();

  it('--hashes pins the sha256 of the files pip installed; pip install --require-hashes of those files reproduces the venv offline', async () => {
    await base();
    const file = join(root, 'locked.txt');
    await ok(['export', '--hashes', '-o', file], offline);
    const text = readFileSync(file, 'utf8');
    // The original file's hash (what an index serves), not the wheel pyctl rebuilt and kept.
    expect(text).toContain(`app==1.0 \\\n    --hash=sha256:${sha256Of(join(wheels, wheelFileName('app', '1.0')))}\n`);
    // ...and no wheel was rebuilt for it: the stored package keeps the version, the origin gives the hash.
    expect(existsSync(join(home, 'wheelhouse', wheelFileName('app', '1.0')))).toBe(false);
    expect(text).not.toMatch(/kept/);
    // pip and setuptools came with the venv, from no index: left out, said so.
    expect(text).toMatch(/^# pip==\S+ left out: the venv's own seed copy/m);
    const fresh = await freshVenv('fresh');
    const r = await execa(join(venv, 'bin', 'python'), ['-m', 'pip', '--python', join(fresh, 'bin', 'python'), 'install', '--require-hashes', '--no-index', '--find-links', wheels, '-r', file], {
      env: hermeticEnv(),
      extendEnv: false,
      reject: false,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(withoutSeed(await installedSet(fresh))).toEqual(withoutSeed(await freeze()));
  });

  it('--hashes falls back to the kept wheel (said in a comment) for a version with no origin, and names a version whose hash is unknown', async () => {
    // Its own machine: a package unpacked into site-packages by another installer (as uv would),
    // so pip reported no origin; recorded as an outside change, its rebuilt wheel kept.
    const h = join(root, 'unknown-home');
    expect((await pyctl(h, ['init'])).exitCode).toBe(0);
    expect((await pip(join(h, 'venv'), ['install', 'speedy'], { wheels })).exitCode).toBe(0);
    const site = sitePackages(join(h, 'venv'));
    await execa(python3(), ['-c', 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])', join(wheels, wheelFileName('click', '1.0')), site]);
    const e = await pyctl(h, ['export', '--hashes'], offline);
    expect(e.exitCode, e.stderr).toBe(0);
    const kept = join(h, 'wheelhouse', wheelFileName('click', '1.0'));
    expect(e.stdout).toContain(`# click: no recorded origin and not on the index; this is the sha256 of the wheel pyctl kept`);
    expect(e.stdout).toContain(`click==1.0 \\\n    --hash=sha256:${sha256Of(kept)}`);
    expect(e.stdout).toContain(`speedy==1.0 \\\n    --hash=sha256:${sha256Of(join(wheels, wheelFileName('speedy', '1.0')))}`);
    // Neither a kept wheel nor the stored package it was built from: the hash is unknown.
    rmSync(kept);
    rmSync(join(h, '.git', 'pyctl', 'packages', 'click==1.0.json'));
    const r = await pyctl(h, ['export', '--hashes'], offline);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^error: no recorded origin, no index file and no kept wheel for click==1\.0, so their hashes are unknown\nhint: /);
    expect(r.stdout).toBe('');
  }, 60_000);
});

describe('restore --file', () => {
  it('makes the venv match a pinned file, recorded as a restore operation', async () => {
    await base();
    const before = await freeze();
    const file = join(root, 'reqs.txt');
    // pip freeze (no --all) style: no pip/setuptools (kept), another spelling of Foo_Bar, a hash option.
    // lib's hash is the one of the file pip installed it from (checked against provenance.txt);
    // black and click come from the kept wheels, except click: its --hash names the index's file.
    const sha = (n: string) =>
      createHash('sha256')
        .update(readFileSync(join(wheels, wheelFileName(n, '1.0'))))
        .digest('hex');
    writeFileSync(
      file,
      `# my pins\napp==1.0\nfoo-bar==1.0  # spelled differently\nlib==1.0 \\\n    --hash=sha256:${sha('lib')}\n\nspeedy==1.0\nblack==1.0\nclick==1.0 --hash=sha256:0000 --hash=sha256:${sha('click')}\nclick==1.0\n`,
    );
    const r = await pyctl(home, ['restore', '--file', file], { PIP_NO_INDEX: '1', PIP_FIND_LINKS: wheels });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^pyctl restore --file reqs\.txt: recorded as operation/);
    const now = await freeze();
    expect(now).toMatch(/^black==1\.0$/m);
    expect(now).not.toMatch(/^other==/m);
    expect(now).toMatch(/^pip==/m);
    expect(now).toMatch(/^Foo_Bar==1\.0$/m);
    const msg = await lastMsg();
    expect(msg).toMatch(/Pyctl-Kind: restore/);
    expect(msg).toMatch(/Pyctl-Target: reqs\.txt/);
    await ok(['undo']);
    expect(await freeze()).toBe(before);
  });

  it.each([
    ['app==1.0\nrequests>=2\n', /reqs-bad\.txt:2: 'requests>=2' is not an exact pin/],
    ['-r other.txt\n', /reqs-bad\.txt:1: '-r other\.txt' is an option/],
    ['app\n', /reqs-bad\.txt:1: 'app' is not an exact pin/],
    ['app==1.0; python_version > "3"\n', /has an environment marker/],
    ['# nothing\n', /names no packages/],
    ['app==1.0\nlib==1.0 --hash=sha256:0000\n', /reqs-bad\.txt:2: the installed lib 1\.0 came from a file with sha256:[0-9a-f]{64}, which none of its --hash values allow; nothing was changed/],
    ['leaf==1.0 --hash=sha256:0000\n', /reqs-bad\.txt:1: the file for leaf 1\.0 \(leaf-1\.0-py3-none-any\.whl, sha256:[0-9a-f]{64}\) matches none of its --hash values; nothing was changed/],
    ['app==1.0\nsix==1.0\nsix==1.1\n', /reqs-bad\.txt:3: 'six==1\.1' pins six again \(line 2 has 'six==1\.0'\); keep one/],
    ['app==1.0 --no-binary :all:\n', /reqs-bad\.txt:1: .* has options after the pin \('--no-binary :all:'\)/],
    ['-e ./somewhere\n', /reqs-bad\.txt:1: '-e \.\/somewhere' is an editable install that names no project/],
    ['lib==1.0 --hash=md5:abc\n', /reqs-bad\.txt:1: .* has a malformed --hash 'md5:abc'/],
  ])('refuses %j naming the line, and changes nothing', async (content, msg) => {
    await baseToRead();
    const file = join(root, 'reqs-bad.txt');
    writeFileSync(file, content);
    const h = await head(home);
    const before = await freeze();
    const r = await pyctl(home, ['restore', '--file', file], { PIP_NO_INDEX: '1', PIP_FIND_LINKS: wheels });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(msg);
    expect(await freeze()).toBe(before);
    expect(await head(home)).toBe(h);
  });

  it('restore needs a state or --file, not both', async () => {
    await baseToRead();
    expect((await pyctl(home, ['restore'])).exitCode).toBe(2);
    expect((await pyctl(home, ['restore', 'dev-tools', '--file', 'x'])).exitCode).toBe(2);
  });
});

describe('wheelhouse', () => {
  it('shows its size and prunes only wheels no recorded state refers to', async () => {
    await base();
    const wh = join(home, 'wheelhouse');
    buildWheels(wh, [{ name: 'stray', version: '9.9' }]);
    const count = readdirSync(wh).length;
    // A link-store copy no venv file uses any more (as after an undo).
    const store = join(home, '.git', 'pyctl', 'files');
    mkdirSync(store, { recursive: true });
    writeFileSync(join(store, 'unused-copy.644'), 'x');
    const needed = readdirSync(store).filter((f) => f !== 'unused-copy.644');
    const show = await ok(['wheelhouse']);
    expect(show.stdout).toMatch(/link store: .*\n {2}\d+ file\(s\), [1-9]\d* the venv does not use/);
    expect(show.stdout).toMatch(new RegExp(`${count} wheel\\(s\\), \\d+\\.\\d MB`));
    expect(show.stdout).toMatch(/1 wheel\(s\) no recorded state refers to.*\n {4}stray-9\.9-py3-none-any\.whl/);
    const pruned = await ok(['wheelhouse', '--prune']);
    expect(pruned.stdout).toMatch(/removed 1 wheel\(s\)/);
    expect(readdirSync(wh)).toHaveLength(count - 1);
    expect(existsSync(join(wh, 'stray-9.9-py3-none-any.whl'))).toBe(false);
    expect(pruned.stdout).toMatch(/removed [1-9]\d* file\(s\) nothing needs any more/);
    expect(existsSync(join(store, 'unused-copy.644'))).toBe(false);
    const json = JSON.parse((await ok(['--json', 'wheelhouse'])).stdout);
    // What the venv does not use any more is what stored packages (history) still need: kept.
    expect(json.store).toMatchObject({ dir: store, removed: 0 });
    expect(json.store.unused).toBeLessThanOrEqual((json.stored as { historyFiles: number }[]).reduce((n, p) => n + p.historyFiles, 0));
    // Every file but the unused copy is still there: the packages' files, linked from the venv or
    // needed by history (pip's and setuptools' come from the seed template, not this store).
    expect(readdirSync(store).sort()).toEqual(needed.sort());
    expect(json.store.files).toBe(needed.length);
    expect(needed.length).toBeGreaterThan(0);
  });

  it('--list names every kept wheel and stored package; a version the current state needs but kept nowhere is reported', async () => {
    await base();
    const wh = join(home, 'wheelhouse');
    const listed = await ok(['wheelhouse', '--list']);
    for (const f of readdirSync(wh).filter((f) => f.endsWith('.whl'))) expect(listed.stdout).toContain(`    ${f}\n`);
    expect(listed.stdout).toMatch(/^ {4}click 1\.0 {2}shared with the venv$/m);
    expect(listed.stdout).toMatch(/every version the current state and the snapshots need is kept/);
    // click kept nowhere: neither its stored package nor a wheel of it.
    const pkgs = join(home, '.git', 'pyctl', 'packages');
    const moved: [string, string][] = [
      ...readdirSync(wh)
        .filter((f) => f.startsWith('click-'))
        .map((f) => [join(wh, f), join(root, f)] as [string, string]),
      ...readdirSync(pkgs)
        .filter((f) => f.startsWith('click=='))
        .map((f) => [join(pkgs, f), join(root, f)] as [string, string]),
    ];
    expect(moved.length).toBeGreaterThan(0);
    for (const [from, to] of moved) renameSync(from, to);
    try {
      const r = await ok(['wheelhouse']);
      expect(r.stdout).toMatch(/1 version\(s\) the current state or a snapshot needs are not kept .*\n {4}click 1\.0 {2}\(now, dev-tools\)/);
      const j = JSON.parse((await ok(['--json', 'wheelhouse'])).stdout);
      expect(j.missing).toEqual([{ wheel: 'click==1.0', neededBy: ['now', 'dev-tools'] }]);
    } finally {
      for (const [from, to] of moved) renameSync(to, from);
    }
  });
});
