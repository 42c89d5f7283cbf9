/**
 * A broken config.toml is reported the same way by every command that reads it (issue 17:
 * "config errors are reported by every command that reads the config, not only some"): a syntax
 * error, a value of the wrong type or a section that is not a table gives the same one `error:`
 * line and `hint:` line from each command in docs/commands.md, read-only ones included, exit 1,
 * nothing on stdout, nothing changed; an unknown key is the same one `warning:` line from each.
 * doctor lists the same message as a finding; a recorded pip run says it on pip's stderr in one
 * line and still records, and pip's status stands.
 */
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, pip, pyctl } from './helpers/cli.js';
import { removeDir, tempDir } from './helpers/env.js';
import { buildWheels } from './helpers/wheels.js';

let root: string;
let home: string;
let venv: string;
let userHome: string;
let wheels: string;
let goodConfig: string;

/** One harmless command line per command: each reads the config first, then fails or does nothing much. */
const ROWS: Record<string, string[][]> = {
  init: [['init']],
  status: [['status'], ['--json', 'status']], // its fast lane, and the full path
  sync: [['sync']],
  unlock: [['unlock']],
  history: [['history'], ['--json', 'history']],
  diff: [['diff']],
  log: [['log', 'pip']],
  bisect: [
    ['bisect', 'good'],
    ['bisect', 'reset'],
  ],
  remote: [
    ['remote', 'list'],
    ['remote', 'remove', 'nope'],
  ],
  push: [['push', 'nope']],
  fetch: [['fetch', 'nope']],
  undo: [['undo', '999']],
  redo: [['redo']],
  snapshot: [['snapshot', '--delete', 'nope']],
  restore: [['restore', 'nope']],
  'list-snapshots': [['list-snapshots']],
  clean: [['clean', '--dry-run']],
  export: [['export']],
  autoremove: [['autoremove', '--dry-run']],
  why: [['why', 'pip']],
  'setup-shell': [['setup-shell', '--remove']],
  wheelhouse: [['wheelhouse']],
};
/** Commands that do not read the config, or report it another way, and why. */
const NOT_ROWS: Record<string, string> = {
  completion: 'prints a completion script; reads no home',
  doctor: 'lists a broken config as a finding (its own test below)',
};

const BROKEN: [string, string, RegExp][] = [
  ['a syntax error', '[history]\nmax_entries = = 3\n', /config\.toml:2:\d+: \S/],
  ['a value of the wrong type', '[ui]\ncolor = "yes"\n', /config\.toml: ui\.color must be true or false$/],
  ['a section that is not a table', 'history = 3\n', /config\.toml: 'history' must be a table \(\[history\]\)$/],
];

const HINT = 'hint: fix the file (see docs/configuration.md); nothing was changed';

/** What a command that fails must leave as it was. */
const fingerprint = () => ({
  head: readFileSync(join(home, '.git', 'refs', 'heads', 'main'), 'utf8'),
  freeze: readFileSync(join(home, 'freeze.txt'), 'utf8'),
  config: readFileSync(join(home, 'config.toml'), 'utf8'),
  tags: readdirSync(join(home, '.git', 'refs', 'tags'))
    .sort()
    .join(','),
  files: readdirSync(home).sort().join(','),
  runtime: readdirSync(join(home, '.git', 'pyctl'))
    .sort()
    .join(','),
  userHome: readdirSync(userHome).sort().join(','),
});

const run = (args: string[]) => pyctl(home, args, { HOME: userHome });

beforeAll(async () => {
  root = tempDir();
  home = join(root, 'home');
  venv = join(home, 'venv');
  userHome = join(root, 'user');
  mkdirSync(userHome);
  wheels = buildWheels(
    join(root, 'wheels'),
    ['k1', 'k2', 'k3'].map((name) => ({ name, version: '1.0' })),
  );
  const r = await pyctl(home, ['init']);
  expect(r.exitCode, r.stderr).toBe(0);
  goodConfig = readFileSync(join(home, 'config.toml'), 'utf8');
});
afterAll(() => removeDir(root));

describe('a broken config.toml', () => {
  it('every command in docs/commands.md has a row here, or says why not', () => {
    const docs = readFileSync(join(__dirname, '..', 'docs', 'commands.md'), 'utf8');
    const documented = new Set([...docs.matchAll(/^## `pyctl ([a-z-]+)/gm)].map((m) => m[1]));
    expect(documented.size).toBeGreaterThan(20);
    for (const c of documented) expect(c in ROWS || c in NOT_ROWS, `${c}: no row in ROWS or NOT_ROWS`).toBe(true);
    for (const c of [...Object.keys(ROWS), ...Object.keys(NOT_ROWS)]) expect(documented.has(c), `${c} is not in docs/commands.md`).toBe(true);
  });

  it.each(BROKEN)(
    '%s: the same error and hint from every command, exit 1, nothing changed',
    async (what, text, msg) => {
      writeFileSync(join(home, 'config.toml'), text);
      try {
        let first: string | undefined;
        // Every command for the syntax error. A wrong type and a section that is not a table are
        // thrown after a good parse by the same validateConfig, through the same loadConfig call
        // every command makes (the syntax error's row shows each makes it, before changing
        // anything): the fast lane, the full path and a writer suffice.
        const rows = what === 'a syntax error' ? Object.values(ROWS).flat() : [['status'], ['--json', 'history'], ['undo', '999']];
        for (const args of rows) {
          const before = fingerprint();
          const r = await run(args);
          const label = `pyctl ${args.join(' ')}: ${r.stderr}`;
          expect(r.exitCode, label).toBe(1);
          expect(r.stdout, label).toBe('');
          const lines = r.stderr.split('\n').filter(Boolean);
          expect(lines, label).toHaveLength(2);
          expect(lines[0], label).toMatch(/^error: /);
          expect(lines[0], label).toMatch(msg);
          expect(lines[1], label).toBe(HINT);
          first ??= lines[0];
          expect(lines[0], label).toBe(first); // the same words from every command
          expect(fingerprint(), label).toEqual(before);
        }
        // doctor: the same message, as a finding.
        const doc = await run(['--json', 'doctor']);
        const finding = (JSON.parse(doc.stdout) as { check: string; status: string; message: string }[]).find((c) => c.check === 'config');
        expect(finding?.status).toBe('problem');
        expect(finding?.message.startsWith(first!.slice('error: '.length))).toBe(true);
      } finally {
        writeFileSync(join(home, 'config.toml'), goodConfig);
      }
    },
    240_000,
  );

  it('an unknown key: the same one warning line from every command, and from doctor', async () => {
    writeFileSync(join(home, 'config.toml'), goodConfig + 'colour_scheme = "dark"\n'); // the last section is [ui]
    const warning = `warning: ${join(home, 'config.toml')}: unknown key ui.colour_scheme is ignored`;
    try {
      for (const args of Object.values(ROWS).flat()) {
        const r = await run(args);
        const lines = r.stderr.split('\n').filter((l) => l.startsWith('warning:'));
        expect(lines, `pyctl ${args.join(' ')}: ${r.stderr}`).toEqual([warning]);
      }
      const doc = await run(['--json', 'doctor']);
      const finding = (JSON.parse(doc.stdout) as { check: string; status: string; message: string }[]).find((c) => c.check === 'config');
      expect(finding).toMatchObject({ status: 'warning', message: warning.slice('warning: '.length) });
    } finally {
      writeFileSync(join(home, 'config.toml'), goodConfig);
    }
  }, 240_000);
});

describe('a broken config.toml and a recorded pip run', () => {
  // A section that is not a table fails in the record lane as a wrong type does (validateConfig
  // after a good parse): the two first rows cover both ways loadConfig throws.
  it.each([...BROKEN.slice(0, 2).map(([what, text, msg], i): [string, string, RegExp, string] => [what, text, msg, `k${i + 1}`])])(
    "%s: one line on pip's stderr, recorded anyway, pip's status stands",
    async (_what, text, msg, pkg) => {
      writeFileSync(join(home, 'config.toml'), text);
      try {
        const expected = (await run(['history'])).stderr.split('\n')[0].slice('error: '.length);
        expect(expected).toMatch(msg);
        const r = await pip(venv, ['install', pkg], { wheels });
        expect(r.exitCode, r.stderr).toBe(0);
        const lines = r.stderr.split('\n').filter((l) => l.includes('config.toml'));
        expect(lines).toEqual([`pyctl: error: ${expected} (recorded anyway, with the default settings; fix the file (see docs/configuration.md))`]);
        expect(r.stderr).not.toMatch(/Traceback|\n\s+at /);
        expect((await git(home, ['log', '-1', '--format=%s'])).trim()).toBe(`pip install ${pkg}`);
        expect(r.stderr).toMatch(new RegExp(`^  \\+ ${pkg} 1\\.0$`, 'm')); // the summary, with the default settings
      } finally {
        writeFileSync(join(home, 'config.toml'), goodConfig);
      }
    },
  );

  it("an unknown key: the same warning on pip's stderr, once", async () => {
    writeFileSync(join(home, 'config.toml'), goodConfig + 'colour_scheme = "dark"\n');
    try {
      const r = await pip(venv, ['install', 'k3'], { wheels });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stderr.split('\n').filter((l) => l.includes('config.toml'))).toEqual([`pyctl: warning: ${join(home, 'config.toml')}: unknown key ui.colour_scheme is ignored`]);
      expect((await git(home, ['log', '-1', '--format=%s'])).trim()).toBe('pip install k3');
    } finally {
      writeFileSync(join(home, 'config.toml'), goodConfig);
    }
  });
});
