/**
 * helpers/copy-tree.ts puts a saved home back by rewriting only what a test changed; every test
 * that uses HomeStates' `linkCache` relies on it. Checked on a real home made by `pyctl init`
 * (pip and setuptools linked from the per-user cache): whatever the home went through, after a
 * put-back it holds what was saved, with the cache's files as the same inodes.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, lstatSync, readdirSync, readFileSync, readlinkSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pyctl } from './helpers/cli.js';
import { knownOf, syncTree, type Known } from './helpers/copy-tree.js';
import { removeDir, tempDir } from './helpers/env.js';

let root: string;
let home: string;
let saved: string;
let pipDir: string;

/** Every entry: kind, mode, contents (or link target) and, for files, the inode. */
function listing(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const go = (rel: string) => {
    const p = join(dir, rel);
    const st = lstatSync(p);
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isDirectory()) {
      out[rel] = `dir ${mode}`;
      for (const n of readdirSync(p)) go(rel ? join(rel, n) : n);
    } else if (st.isSymbolicLink()) out[rel] = `link ${readlinkSync(p)}`;
    else out[rel] = `file ${mode} ${createHash('sha1').update(readFileSync(p)).digest('hex')} ${st.ino}`;
  };
  go('');
  return out;
}
const contentsOnly = (l: Record<string, string>) => Object.fromEntries(Object.entries(l).map(([k, v]) => [k, v.replace(/ \d+$/, '')]));

beforeAll(async () => {
  root = tempDir();
  home = join(root, 'home');
  saved = join(root, 'saved');
  expect((await pyctl(home, ['init'])).exitCode).toBe(0);
  pipDir = readdirSync(join(home, 'venv', 'lib'))
    .map((py) => join(home, 'venv', 'lib', py, 'site-packages', 'pip'))
    .find((p) => lstatSync(p, { throwIfNoEntry: false }))!;
  await syncTree(home, saved, new Map());
});
afterAll(() => removeDir(root));

it('a put-back undoes removed, replaced and added files among the linked cache files, and an edit in place, and keeps the cache inodes', async () => {
  const want = listing(saved);
  const cacheFile = join(pipDir, '__init__.py');
  const cacheIno = lstatSync(cacheFile).ino;
  expect(lstatSync(cacheFile).nlink).toBeGreaterThan(1); // linked from the per-user cache
  let known: Known = knownOf(home);

  unlinkSync(cacheFile);
  writeFileSync(join(root, 'other'), 'print("not pip")\n');
  renameSync(join(root, 'other'), join(pipDir, '__main__.py'));
  writeFileSync(join(pipDir, '_internal', 'stray.py'), '');
  appendFileSync(join(home, 'venv', 'pyvenv.cfg'), 'extra = 1\n'); // no folder changes
  known = await syncTree(saved, home, known, { srcIsSaved: true });

  expect(contentsOnly(listing(home))).toEqual(contentsOnly(want));
  expect(lstatSync(cacheFile).ino).toBe(cacheIno);
  expect(lstatSync(join(pipDir, '__main__.py')).ino).toBe(lstatSync(join(saved, relative(home, pipDir), '__main__.py')).ino);

  // Nothing changed since: a second put-back rewrites nothing (every inode stays).
  const before = listing(home);
  await syncTree(saved, home, known, { srcIsSaved: true });
  expect(listing(home)).toEqual(before);
});
