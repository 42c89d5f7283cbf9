/** The native object reader against real git: loose and packed (with deltas), byte for byte. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readObject, readRawCommit, treeBlobs, treeEntry } from '../src/gitstore/objects.js';
import { StateRepo } from '../src/gitstore/repo.js';
import { homePaths } from '../src/paths.js';
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

describe("a tree's blobs, tags and doctor's pass read without isomorphic-git", () => {
  /** A repo with a subfolder, a lightweight tag, an annotated one, a tag of a tag, one with CR line ends and one whose object is missing. */
  function tagged(name: string): { dir: string; head: string; first: string } {
    const dir = join(root, name);
    mkdirSync(join(dir, 'sub'), { recursive: true });
    git(dir, ['init', '-q']);
    writeFileSync(join(dir, 'freeze.txt'), 'a==1\n');
    writeFileSync(join(dir, 'sub', 'x.txt'), 'x\n');
    git(dir, ['add', '.']);
    git(dir, ['commit', '-q', '-m', 'first\n\nPyctl-Op: 0']);
    writeFileSync(join(dir, 'freeze.txt'), 'a==2\n');
    git(dir, ['commit', '-q', '-am', 'second']);
    const head = git(dir, ['rev-parse', 'HEAD']).toString().trim();
    const first = git(dir, ['rev-parse', 'HEAD~1']).toString().trim();
    git(dir, ['tag', 'light', first]);
    git(dir, ['tag', '-a', 'annotated', '-m', 'kept before the upgrade\n\nsecond paragraph']);
    git(dir, ['tag', '-a', 'nested', '-m', 'a tag of a tag', 'annotated']);
    const crlf = git(dir, ['mktag'], `object ${head}\ntype commit\ntag crlf\ntagger t <t@t> 1700000000 +0000\n\nline one\r\nline two\n`).toString().trim();
    git(dir, ['update-ref', 'refs/tags/crlf', crlf]);
    git(dir, ['tag', 'tree-tag', `${head}^{tree}`]);
    return { dir, head, first };
  }

  it('lists the blobs at the top of a tree, not its folders', () => {
    const { dir, head } = tagged('tree-blobs');
    const gitDir = join(dir, '.git');
    expect(treeBlobs(gitDir, readRawCommit(gitDir, head)!.tree)).toEqual([git(dir, ['rev-parse', 'HEAD:freeze.txt']).toString().trim()]);
    expect(treeBlobs(gitDir, head)).toBeUndefined(); // a commit is not a tree
    removeDir(dir);
  });

  it('readTag reads each tag as git does (message, time, the commit it names), taking isomorphic-git only for what it cannot vouch for', async () => {
    const { dir, head, first } = tagged('read-tag');
    const repo = new StateRepo(homePaths(dir));
    const cli = (name: string) => ({
      message: git(dir, ['for-each-ref', '--format=%(contents)', `refs/tags/${name}`]).toString(),
      time: Number(
        git(dir, ['for-each-ref', '--format=%(taggerdate:unix)', `refs/tags/${name}`])
          .toString()
          .trim(),
      ),
    });
    expect(await repo.readTag('light')).toEqual({ name: 'light', commit: first, message: '', time: Number(git(dir, ['log', '-1', '--format=%ct', first]).toString().trim()) });
    for (const name of ['annotated', 'nested']) expect(await repo.readTag(name)).toEqual({ name, commit: head, message: cli(name).message.slice(0, -1), time: cli(name).time });
    expect(await repo.readTag('crlf')).toMatchObject({ name: 'crlf', commit: head, time: 1700000000 });
    await expect(repo.readTag('tree-tag')).rejects.toThrow(/tag 'tree-tag' is not a snapshot: it names a tree/);
    expect(await repo.readTag('absent')).toBeNull();
    removeDir(dir);
  });

  it("doctor's pass (verify) reads a whole repo from the files and names what is missing", async () => {
    const { dir, head } = tagged('verify');
    const repo = new StateRepo(homePaths(dir));
    const whole = await repo.verify(100);
    expect(whole).toMatchObject({ commits: 2, problems: [], tagProblems: [] });
    expect(whole.tags).toBe(4); // light, annotated, nested, crlf (tree-tag is not a snapshot)
    // The newest commit's freeze.txt gone: the pass says so (through isomorphic-git's reading).
    const blob = git(dir, ['rev-parse', 'HEAD:freeze.txt']).toString().trim();
    rmSync(join(dir, '.git', 'objects', blob.slice(0, 2), blob.slice(2)));
    const broken = await repo.verify(100);
    expect(broken.problems).toEqual([expect.stringMatching(new RegExp(`^commit ${head.slice(0, 12)} \\(0 back from HEAD\\) cannot be read: `))]);
    removeDir(dir);
  });
});
