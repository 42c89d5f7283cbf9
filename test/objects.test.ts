/** The native object reader against real git: loose and packed (with deltas), byte for byte. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readObject, readRawCommit, treeEntry } from '../src/gitstore/objects.js';
import { removeDir, tempDir } from './helpers/env.js';

const root = tempDir();
afterAll(() => removeDir(root));
const env = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t', GIT_CONFIG_NOSYSTEM: '1' };
const git = (dir: string, args: string[], input?: string | Buffer) =>
  execFileSync('git', ['-C', dir, ...args], { env, encoding: 'buffer', input: typeof input === 'string' ? Buffer.from(input) : input, maxBuffer: 1 << 28 });

/**
 * A repo of 40 commits of a 120-line freeze.txt, one line changed each, written by git itself:
 * fast-import (one process instead of ~80 `git add`/`git commit`) packs them and unpack-objects
 * makes every object loose, as pyctl's own commits leave them; `packed` repacks them all with deltas.
 */
function build(kind: 'loose' | 'packed'): { dir: string; oids: string[] } {
  const dir = join(root, kind);
  mkdirSync(dir);
  git(dir, ['init', '-q']);
  const lines = Array.from({ length: 120 }, (_, i) => `package-${i}==1.${i}.0`);
  let stream = '';
  for (let n = 0; n < 40; n++) {
    lines[n] = `package-${n}==2.${n}.0`;
    const freeze = lines.join('\n') + '\n';
    const msg = `op ${n}\n\n~ package-${n}\n\nPyctl-Op: ${n}\n`;
    stream += `commit refs/heads/main\ncommitter t <t@t> ${1_700_000_000 + n} +0000\ndata ${Buffer.byteLength(msg)}\n${msg}`;
    stream += `M 100644 inline freeze.txt\ndata ${Buffer.byteLength(freeze)}\n${freeze}\n`;
  }
  git(dir, ['fast-import', '--quiet'], stream);
  git(dir, ['symbolic-ref', 'HEAD', 'refs/heads/main']);
  const packDir = join(dir, '.git', 'objects', 'pack');
  for (const p of readdirSync(packDir).filter((f) => f.endsWith('.pack'))) {
    renameSync(join(packDir, p), join(root, `${kind}.pack`)); // unpack-objects skips objects the repo already has
    git(dir, ['unpack-objects', '-q'], readFileSync(join(root, `${kind}.pack`)));
  }
  for (const f of readdirSync(packDir)) removeDir(join(packDir, f));
  if (kind === 'packed') {
    git(dir, ['repack', '-a', '-d', '-f', '-q', '--depth=50']);
    git(dir, ['prune-packed']);
  }
  const counts = git(dir, ['count-objects', '-v']).toString();
  expect(counts).toMatch(kind === 'loose' ? /^in-pack: 0$/m : /^count: 0$/m);
  const oids = git(dir, ['rev-list', '--objects', '--all'])
    .toString()
    .trim()
    .split('\n')
    .map((l) => l.slice(0, 40));
  expect(oids).toHaveLength(120); // 40 commits, 40 trees, 40 blobs
  return { dir, oids };
}

/** Every object as `git cat-file --batch` prints it: one git process for all of them. */
function catFileAll(dir: string, oids: string[]): Map<string, { type: string; body: Buffer }> {
  const out = git(dir, ['cat-file', '--batch'], oids.join('\n') + '\n');
  const objects = new Map<string, { type: string; body: Buffer }>();
  let at = 0;
  while (at < out.length) {
    const nl = out.indexOf(10, at);
    const [oid, type, size] = out.subarray(at, nl).toString().split(' ');
    objects.set(oid, { type, body: out.subarray(nl + 1, nl + 1 + Number(size)) });
    at = nl + 1 + Number(size) + 1;
  }
  return objects;
}

const repos: Partial<Record<'loose' | 'packed', { dir: string; oids: string[] }>> = {};
const repo = (kind: 'loose' | 'packed') => (repos[kind] ??= build(kind));

describe('readObject', () => {
  const check = (kind: 'loose' | 'packed') => {
    const { dir, oids } = repo(kind);
    const want = catFileAll(dir, oids);
    expect(want.size).toBe(oids.length);
    for (const oid of oids) {
      const o = readObject(join(dir, '.git'), oid);
      expect(o?.type, oid).toBe(want.get(oid)!.type);
      expect(o!.body.equals(want.get(oid)!.body), oid).toBe(true);
    }
  };

  it('reads loose objects like git cat-file', () => check('loose'));

  it('reads packed objects with deltas like git cat-file', () => check('packed'));

  it('reads a commit and a file in its tree', () => {
    const { dir } = repo('loose');
    const head = git(dir, ['rev-parse', 'HEAD']).toString().trim();
    const c = readRawCommit(join(dir, '.git'), head)!;
    expect(c.parents).toEqual([git(dir, ['rev-parse', 'HEAD~1']).toString().trim()]);
    expect(c.message).toBe('op 39\n\n~ package-39\n\nPyctl-Op: 39\n');
    expect(treeEntry(join(dir, '.git'), c.tree, 'freeze.txt')).toBe(git(dir, ['rev-parse', 'HEAD:freeze.txt']).toString().trim());
    expect(treeEntry(join(dir, '.git'), c.tree, 'nope.txt')).toBeNull();
  });

  it('returns null for what it cannot vouch for', () => {
    const { dir } = repo('loose');
    expect(readObject(join(dir, '.git'), '0'.repeat(40))).toBeNull();
    expect(readObject(join(dir, '.git'), 'not-an-oid')).toBeNull();
  });
});
