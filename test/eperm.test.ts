/**
 * EPERM from the operating system (issue 17, row 10: "ENOSPC/EACCES/EPERM in commands"): a
 * folder of the home made immutable (chattr +i, which even root cannot write through). Each
 * command that must write there fails in one `error:` line naming the path and EPERM, with a
 * hint, no stack trace and nothing changed; reads still work. Skipped, saying why, where the
 * file system has no immutable flag (tmpfs, overlay) or chattr is missing.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, pyctl } from './helpers/cli.js';
import { removeDir, tempDir } from './helpers/env.js';

let root: string;
let home: string;
let why = '';

const chattr = (flag: '+i' | '-i', path: string) => spawnSync('chattr', [flag, path], { encoding: 'utf8' });
const fingerprint = () => ({
  head: readFileSync(join(home, '.git', 'refs', 'heads', 'main'), 'utf8'),
  tags: readdirSync(join(home, '.git', 'refs', 'tags')).sort(),
  runtime: readdirSync(join(home, '.git', 'pyctl')).sort(),
});

beforeAll(async () => {
  root = tempDir();
  home = join(root, 'home');
  const r = await pyctl(home, ['init']);
  expect(r.exitCode, r.stderr).toBe(0);
  // The flush init owes is paid by the first command after it (operations/first-flush.ts):
  // here, so each row's before-and-after comparison sees only what that row did.
  expect((await pyctl(home, ['sync'])).exitCode).toBe(0);
  const probe = chattr('+i', join(home, '.git', 'refs', 'tags'));
  if (probe.error || probe.status !== 0) why = (probe.error?.message ?? probe.stderr).trim() || 'chattr failed';
  else chattr('-i', join(home, '.git', 'refs', 'tags'));
});
afterAll(() => {
  for (const d of [join(home, '.git', 'refs', 'tags'), join(home, '.git', 'pyctl')]) chattr('-i', d);
  removeDir(root);
});

describe('EPERM', () => {
  const rows: [string, string[], string[], RegExp][] = [
    ['snapshot', ['snapshot', 'eperm'], ['.git', 'refs', 'tags'], /^error: cannot \w+ .*\/\.git\/refs\/tags\/eperm\S*: .*\(EPERM\)$/],
    ['undo', ['undo'], ['.git', 'pyctl'], /^error: cannot take the lock .*\/\.git\/pyctl\/lock \(EPERM\)$/],
  ];
  it.for(rows)('%s: one line naming the path and EPERM, a hint, nothing changed', async ([, args, dir, msg], t) => {
    if (why) return t.skip(`no immutable flag here (${why})`);
    const folder = join(home, ...dir);
    const before = fingerprint();
    expect(chattr('+i', folder).status).toBe(0);
    try {
      const r = await pyctl(home, args);
      expect(r.exitCode, r.stderr).toBe(1);
      expect(r.stdout).toBe('');
      const lines = r.stderr.split('\n').filter(Boolean);
      expect(lines, r.stderr).toHaveLength(2);
      expect(lines[0]).toMatch(msg);
      expect(lines[1]).toMatch(/^hint: /);
      expect(r.stderr).not.toMatch(/bug in pyctl|\n\s+at /);
      // Reads still work.
      const read = await pyctl(home, ['history', '--limit', '1']);
      expect(read.exitCode, read.stderr).toBe(0);
    } finally {
      chattr('-i', folder);
    }
    expect(fingerprint()).toEqual(before);
    await git(home, ['fsck', '--strict', '--no-dangling']);
  });
});
