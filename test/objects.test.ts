/** The native object reader against real git: loose and packed (with deltas), byte for byte. */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readObject, readRawCommit, treeEntry } from '../src/gitstore/objects.js';
import { removeDir, tempDir } from './helpers/env.js';

const dir = tempDir();
afterAll(() => removeDir(dir));
const env = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t', GIT_CONFIG_NOSYSTEM: '1' };
const git = (...args: string[]) => execFileSync('git', ['-C', dir, ...args], { env, encoding: 'buffer' });

function build(): string[] {
  git('init', '-q');
  let freeze = Array.from({ length: 120 }, (_, i) => `package-${i}==1.${i}.0`).join('\n') + '\n';
  for (let n = 0; n < 40; n++) {
    freeze = freeze.replace(`package-${n}==1.${n}.0`, `package-${n}==2.${n}.0`);
    writeFileSync(join(dir, 'freeze.txt'), freeze);
    git('add', 'freeze.txt');
    git('commit', '-q', '-m', `op ${n}\n\n~ package-${n}\n\nPyctl-Op: ${n}`);
  }
  return git('rev-list', '--objects', '--all')
    .toString()
    .trim()
    .split('\n')
    .map((l) => l.slice(0, 40));
}

describe('readObject', () => {
  const oids = build();
  const check = () => {
    for (const oid of oids) {
      const type = git('cat-file', '-t', oid).toString().trim();
      const o = readObject(join(dir, '.git'), oid);
      expect(o?.type, oid).toBe(type);
      expect(o!.body.equals(git('cat-file', type, oid))).toBe(true);
    }
  };

  it('reads loose objects like git cat-file', check);

  it('reads packed objects with deltas like git cat-file', () => {
    git('repack', '-a', '-d', '-f', '-q', '--depth=50');
    git('prune-packed');
    expect(git('count-objects', '-v').toString()).toMatch(/^count: 0$/m);
    check();
  });

  it('reads a commit and a file in its tree', () => {
    const head = git('rev-parse', 'HEAD').toString().trim();
    const c = readRawCommit(join(dir, '.git'), head)!;
    expect(c.parents).toEqual([git('rev-parse', 'HEAD~1').toString().trim()]);
    expect(c.message).toBe('op 39\n\n~ package-39\n\nPyctl-Op: 39\n');
    expect(treeEntry(join(dir, '.git'), c.tree, 'freeze.txt')).toBe(git('rev-parse', 'HEAD:freeze.txt').toString().trim());
    expect(treeEntry(join(dir, '.git'), c.tree, 'nope.txt')).toBeNull();
  });

  it('returns null for what it cannot vouch for', () => {
    expect(readObject(join(dir, '.git'), '0'.repeat(40))).toBeNull();
    expect(readObject(join(dir, '.git'), 'not-an-oid')).toBeNull();
  });
});
