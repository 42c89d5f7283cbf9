/**
 * Bad input, everywhere: every row must fail with exactly one `error:` line (and at most one
 * `hint:` line), exit 2 for wrong usage and 1 otherwise, no stack trace, nothing on stdout,
 * and nothing changed (HEAD, freeze.txt, tags, config.toml bytes, the home's files).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, pyctl, readableCli, type Run } from './helpers/cli.js';
import { hermeticEnv, removeDir, tempDir } from './helpers/env.js';
import { run } from './helpers/run.js';

let root: string;
let home: string;
let uninit: string;
let noVenv: string;
let fileHome: string;
let originalConfig: string;

const read = (p: string) => {
  try {
    return readFileSync(p).toString('latin1');
  } catch {
    return '(absent)';
  }
};
const list = (p: string) => {
  try {
    return readdirSync(p).sort().join(',');
  } catch {
    return '(absent)';
  }
};
const tags = (h: string) => {
  const out: string[] = [];
  const walk = (d: string, pre: string) => {
    for (const e of existsSync(d) ? readdirSync(d, { withFileTypes: true }) : []) {
      if (e.isDirectory()) walk(join(d, e.name), `${pre}${e.name}/`);
      else out.push(`${pre}${e.name}=${read(join(d, e.name)).trim()}`);
    }
  };
  walk(join(h, '.git', 'refs', 'tags'), '');
  return out.sort().join(',');
};
/** Everything a failed command must leave as it was. */
const fingerprint = (h: string) => ({
  head: read(join(h, '.git', 'refs', 'heads', 'main')),
  freeze: read(join(h, 'freeze.txt')),
  config: read(join(h, 'config.toml')),
  tags: tags(h),
  files: list(h),
  runtime: list(join(h, '.git', 'pyctl')),
  objects: list(join(h, '.git', 'objects')),
});

interface Row {
  what: string;
  args: string[] | (() => string[]);
  /** The home to run in (default: the initialised one). */
  home?: () => string;
  exit: 1 | 2;
  msg: RegExp;
  setup?: () => void | Promise<void>;
  cleanup?: () => void;
  run?: (args: string[], h: string) => Promise<Run>;
}

const withConfig = (text: string): Pick<Row, 'setup' | 'cleanup'> => ({
  setup: () => writeFileSync(join(home, 'config.toml'), text),
  cleanup: () => writeFileSync(join(home, 'config.toml'), originalConfig),
});

/** nobody's copy of the CLI, made on first use: it may not be able to enter the checkout. */
let nobodyCli: { cli: string; dir: string } | undefined;
afterAll(() => nobodyCli && removeDir(nobodyCli.dir));

/** Run as an unprivileged user, so that a root-owned home is read-only to it. */
const asNobody = async (args: string[], h: string): Promise<Run> => {
  nobodyCli ??= readableCli();
  const r = await execa('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, nobodyCli.cli, ...args], {
    env: hermeticEnv({ PYCTL_HOME: h, NO_COLOR: '1', HOME: '/tmp' }),
    extendEnv: false,
    reject: false,
  });
  return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
};

/** Raw bytes on argv (not valid UTF-8): through bash's printf, since execa takes strings. */
const rawBytes = async (args: string[], h: string): Promise<Run> => {
  return run('bash', ['-c', `exec "$0" "$1" ${args.join(' ')}`, process.execPath, CLI], hermeticEnv({ PYCTL_HOME: h, NO_COLOR: '1' }));
};

const lockPath = () => join(home, '.git', 'pyctl', 'lock');
const rootOnly = process.getuid?.() === 0;

const ROWS: Row[] = [
  // Numbers
  { what: 'history --limit 0', args: ['history', '--limit', '0'], exit: 2, msg: /--limit must be a whole number of 1 or more, not '0'/ },
  { what: 'history --limit -3', args: ['history', '--limit', '-3'], exit: 2, msg: /--limit must be a whole number/ },
  { what: 'history --limit x', args: ['history', '--limit', 'x'], exit: 2, msg: /not 'x'/ },
  { what: 'history --limit 1e3', args: ['history', '--limit', '1e3'], exit: 2, msg: /not '1e3'/ },
  { what: 'history --limit (no value)', args: ['history', '--limit'], exit: 2, msg: /argument missing/ },
  { what: 'undo 0', args: ['undo', '0'], exit: 2, msg: /COUNT must be a whole number of 1 or more, not '0'/ },
  { what: 'undo -1', args: ['undo', '-1'], exit: 2, msg: /whole number|unknown option/ },
  { what: 'undo abc', args: ['undo', 'abc'], exit: 2, msg: /not 'abc'/ },
  { what: 'undo 99999999999999999999', args: ['undo', '99999999999999999999'], exit: 2, msg: /whole number/ },
  { what: 'undo 1 2', args: ['undo', '1', '2'], exit: 2, msg: /too many arguments/ },
  { what: 'undo 50 (more than recorded)', args: ['undo', '50'], exit: 1, msg: /cannot undo 50 operations: only \d+ can be undone/ },
  { what: 'diff 999', args: ['diff', '999'], exit: 1, msg: /there is no operation 999/ },
  { what: 'diff a b c', args: ['diff', 'a', 'b', 'c'], exit: 2, msg: /at most two states, got 3/ },
  { what: 'restore 999', args: ['restore', '999'], exit: 1, msg: /there is no operation 999/ },
  // Names
  { what: 'snapshot ../x', args: ['snapshot', '../x'], exit: 2, msg: /'\.\.\/x' cannot be a snapshot name/ },
  { what: "snapshot 'a b'", args: ['snapshot', 'a b'], exit: 2, msg: /space/ },
  { what: 'snapshot x.lock', args: ['snapshot', 'x.lock'], exit: 2, msg: /\.lock/ },
  { what: 'snapshot (empty name)', args: ['snapshot', ''], exit: 2, msg: /it is empty/ },
  { what: 'snapshot (no name)', args: ['snapshot'], exit: 2, msg: /needs a NAME/ },
  { what: 'snapshot (300 characters)', args: ['snapshot', 'n'.repeat(300)], exit: 2, msg: /longer than 200/ },
  { what: 'snapshot (not UTF-8)', args: ['snapshot', `"$(printf 'bad\\377name')"`], run: rawBytes, exit: 2, msg: /not valid UTF-8/ },
  { what: 'snapshot auto/x', args: ['snapshot', 'auto/x'], exit: 2, msg: /automatic/ },
  { what: 'snapshot baseline (exists)', args: ['snapshot', 'baseline'], exit: 1, msg: /already exists/ },
  { what: 'snapshot --delete (unknown)', args: ['snapshot', '--delete', 'nope'], exit: 1, msg: /no snapshot named 'nope'/ },
  { what: 'snapshot --delete ../heads/main', args: ['snapshot', '--delete', '../heads/main'], exit: 2, msg: /cannot be a snapshot name/ },
  { what: 'restore basline (close match)', args: ['restore', 'basline'], exit: 1, msg: /no snapshot or operation named 'basline'\nhint: did you mean: baseline\?/ },
  { what: 'diff basline (close match)', args: ['diff', 'basline'], exit: 1, msg: /did you mean: baseline/ },
  { what: 'restore --file that does not exist', args: ['restore', '--file', 'small-req.txt'], exit: 2, msg: /cannot read small-req\.txt: no such file$/m },
  { what: 'restore (no argument)', args: ['restore'], exit: 2, msg: /restore needs a snapshot name, an operation number or --file/ },
  // Commands and options
  { what: 'pyctl frobnicate', args: ['frobnicate'], exit: 2, msg: /unknown command 'frobnicate'\nhint: see 'pyctl --help'/ },
  { what: 'pyctl histroy', args: ['histroy'], exit: 2, msg: /unknown command 'histroy'\nhint: did you mean history\?/ },
  { what: 'history --frob', args: ['history', '--frob'], exit: 2, msg: /unknown option '--frob'/ },
  { what: '--bogus status', args: ['--bogus', 'status'], exit: 2, msg: /unknown option '--bogus'/ },
  // Homes
  { what: '--home is a file', args: () => ['--home', fileHome, 'status'], home: () => fileHome, exit: 2, msg: /is not a folder/ },
  { what: 'uninitialised home: status', args: ['status'], home: () => uninit, exit: 1, msg: /pyctl is not set up in .*\nhint: run 'pyctl init'/ },
  { what: 'uninitialised home: undo', args: ['undo'], home: () => uninit, exit: 1, msg: /not set up/ },
  { what: 'uninitialised home: snapshot x', args: ['snapshot', 'x'], home: () => uninit, exit: 1, msg: /not set up/ },
  { what: 'init --python /nonexistent', args: ['init', '--python', '/nonexistent/python3'], home: () => uninit, exit: 1, msg: /nonexistent/ },
  { what: 'venv deleted: history', args: ['history'], home: () => noVenv, exit: 1, msg: /the venv .* is missing\nhint: run 'pyctl doctor --fix'/ },
  { what: 'venv deleted: undo', args: ['undo'], home: () => noVenv, exit: 1, msg: /is missing/ },
  // Config
  { what: 'config.toml syntax error', args: ['history'], ...withConfig('[history]\nmax_entries = = 3\n'), exit: 1, msg: /config\.toml:2:\d+: / },
  { what: 'config.toml wrong type', args: ['history'], ...withConfig('[history]\nmax_entries = "many"\n'), exit: 1, msg: /history\.max_entries must be a number/ },
  { what: 'config.toml max_entries = 0', args: ['undo'], ...withConfig('[history]\nmax_entries = 0\n'), exit: 1, msg: /max_entries must be a whole number of 1 or more, not 0/ },
  // ui.color is read by every command: a bad value is an error for each of them, not only history.
  ...[['status'], ['list-snapshots'], ['remote', 'list'], ['wheelhouse'], ['export'], ['diff'], ['why', 'pip'], ['snapshot', 'x'], ['--json', 'status']].map((args): Row => ({
    what: `ui.color = "yes" for ${args.join(' ')}`,
    args,
    ...withConfig('[ui]\ncolor = "yes"\n'),
    exit: 1,
    msg: /config\.toml: ui\.color must be true or false/,
  })),
  { what: 'config.toml section not a table', args: ['history', '--json'], ...withConfig('history = 3\n'), exit: 1, msg: /'history' must be a table/ },
  { what: 'undo beyond history.max_entries', args: ['undo', '3'], ...withConfig('[history]\nmax_entries = 2\n'), exit: 1, msg: /cannot undo 3 operations: history\.max_entries is 2/ },
  // The lock
  {
    what: 'lock path is a directory',
    args: ['snapshot', 'x'],
    setup: () => mkdirSync(lockPath()),
    cleanup: () => rmdirSync(lockPath()),
    exit: 1,
    msg: /the lock .* is a directory/,
  },
  { what: 'read-only home (another user): snapshot', args: ['snapshot', 'x'], run: asNobody, exit: 1, msg: /cannot take the lock .*EACCES/ },
  { what: 'read-only home (another user): undo', args: ['undo'], run: asNobody, exit: 1, msg: /cannot take the lock/ },
];

beforeAll(async () => {
  root = tempDir();
  chmodSync(root, 0o755); // the read-only rows run as nobody, who must be able to read the home
  home = join(root, 'home');
  const r = await pyctl(home, ['init']);
  expect(r.exitCode, r.stderr).toBe(0);
  // The first command after init pays the flush init owes (operations/first-flush.ts): paid
  // here, so each row's before-and-after comparison sees only what that row did.
  expect((await pyctl(home, ['sync'])).exitCode).toBe(0);
  originalConfig = readFileSync(join(home, 'config.toml'), 'utf8');
  uninit = join(root, 'uninit');
  mkdirSync(uninit);
  noVenv = join(root, 'no-venv');
  mkdirSync(noVenv);
  cpSync(join(home, '.git'), join(noVenv, '.git'), { recursive: true });
  cpSync(join(home, 'config.toml'), join(noVenv, 'config.toml'));
  fileHome = join(root, 'a-file');
  writeFileSync(fileHome, 'not a folder\n');
});
afterAll(() => removeDir(root));

async function check(row: Row): Promise<void> {
  const h = row.home?.() ?? home;
  await row.setup?.();
  try {
    const before = fingerprint(h);
    const args = typeof row.args === 'function' ? row.args() : row.args;
    const r = await (row.run ?? ((a: string[], hh: string) => pyctl(hh, a)))(args, h);
    const lines = r.stderr.split('\n').filter(Boolean);
    expect(r.exitCode, r.stderr).toBe(row.exit);
    expect(r.stderr).toMatch(row.msg);
    expect(lines[0], r.stderr).toMatch(/^error: /);
    expect(
      lines.filter((l) => l.startsWith('error:')),
      r.stderr,
    ).toHaveLength(1);
    expect(lines.length, r.stderr).toBeLessThanOrEqual(2);
    if (lines[1]) expect(lines[1]).toMatch(/^hint: /);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stdout).toBe('');
    expect(fingerprint(h)).toEqual(before);
  } finally {
    row.cleanup?.();
  }
}

describe('bad input', () => {
  it('has at least 30 rows', () => expect(ROWS.length).toBeGreaterThanOrEqual(30));

  for (const row of ROWS) {
    const skip = row.run === asNobody && !rootOnly ? 'needs root to switch to nobody' : null;
    (skip ? it.skip : it)(`${row.what}`, () => check(row));
  }

  it('a venv without pip: a command that needs pip says so, and changes nothing', async () => {
    // It takes pip out of the home every other row uses: a copy is put back afterwards.
    const saved = join(root, 'home-with-pip');
    execFileSync('cp', ['-a', home, saved]);
    try {
      await withoutPip();
    } finally {
      removeDir(home);
      renameSync(saved, home);
    }
  });
  const withoutPip = async () => {
    const venv = join(home, 'venv');
    const site = readdirSync(join(venv, 'lib')).map((d) => join(venv, 'lib', d, 'site-packages'))[0];
    for (const f of readdirSync(join(venv, 'bin'))) if (/^pip/.test(f)) rmSync(join(venv, 'bin', f));
    for (const f of readdirSync(site)) if (/^pip(-.*\.dist-info)?$/.test(f)) rmSync(join(site, f), { recursive: true });
    rmSync(join(home, 'wheelhouse'), { recursive: true, force: true });
    // pip's stored package would link it back without pip (package-store.ts): take its index out
    // too, so that nothing but pip itself could bring pip back.
    const stored = join(home, '.git', 'pyctl', 'packages');
    for (const f of readdirSync(stored)) if (/^pip==/.test(f)) rmSync(join(stored, f));
    // Record the removal first (that is a real change, recorded as external): then the check.
    expect((await pyctl(home, ['sync'])).exitCode).toBe(0);
    await check({ what: 'restore baseline without pip', args: ['restore', 'baseline'], exit: 1, msg: /pip is missing from the venv .*\nhint: .*ensurepip/ });
  };
});
