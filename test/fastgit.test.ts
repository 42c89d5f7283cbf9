/** The record path's own git writer: what it commits, plain git and isomorphic-git read alike. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { homePaths } from '../src/paths.js';
import { fastCommit, fastInit, fastTag } from '../src/gitstore/fastgit.js';
import { repoIdentity } from '../src/gitstore/identity.js';
import { StateRepo } from '../src/gitstore/repo.js';
import { git } from './helpers/cli.js';
import { removeDir, tempDir } from './helpers/env.js';

let root: string;
beforeAll(() => {
  root = tempDir();
});
afterAll(() => removeDir(root));

const who = { name: 'Test User', email: 'test@example.com', timestamp: 1700000000, timezoneOffset: -120 };

describe('fastCommit', () => {
  it('stages and commits like git add + git commit: clean status, fsck, same tree as git write-tree', async () => {
    const home = join(root, 'a');
    const repo = new StateRepo(homePaths(home));
    await repo.init();
    writeFileSync(join(home, 'config.toml'), '[ui]\ncolor = true\n');
    await repo.commit('a==1.0\n', 'first\n', { stageConfig: true });
    writeFileSync(join(home, 'freeze.txt'), 'a==1.0\nb==2.0\n');
    const oid = await fastCommit({ home, gitDir: join(home, '.git'), files: ['.gitignore', 'freeze.txt'], message: 'second\n\n+ b 2.0\n', author: who });
    expect(oid).toMatch(/^[0-9a-f]{40}$/);
    expect(await git(home, ['rev-parse', 'HEAD'])).toBe(oid);
    expect(await git(home, ['status', '--porcelain'])).toBe('');
    await git(home, ['fsck', '--strict']);
    expect(await git(home, ['write-tree'])).toBe(await git(home, ['rev-parse', 'HEAD^{tree}']));
    // config.toml was not staged this time: the tree keeps the committed one.
    expect(await git(home, ['ls-tree', '--name-only', 'HEAD'])).toBe('.gitignore\nconfig.toml\nfreeze.txt');
    expect(await git(home, ['log', '-1', '--format=%an <%ae> %ad%n%B', '--date=raw'])).toBe('Test User <test@example.com> 1700000000 +0200\nsecond\n\n+ b 2.0\n');
    const seen = [];
    for await (const c of new StateRepo(homePaths(home)).walk()) seen.push(c.parsed.subject);
    expect(seen).toEqual(['second', 'first']);
    expect(await new StateRepo(homePaths(home)).readAt(oid!, 'freeze.txt')).toBe('a==1.0\nb==2.0\n');
  });

  it('keeps an index plain git rewrote (with its TREE extension) and stays clean', async () => {
    const home = join(root, 'b');
    const repo = new StateRepo(homePaths(home));
    await repo.init();
    await repo.commit('a==1.0\n', 'first\n');
    await git(home, ['-c', 'user.name=T', '-c', 'user.email=t@x', 'commit', '--allow-empty', '-q', '-m', 'by hand']); // git writes its own index
    writeFileSync(join(home, 'freeze.txt'), 'c==3.0\n');
    expect(await fastCommit({ home, gitDir: join(home, '.git'), files: ['freeze.txt'], message: 'third\n', author: who })).not.toBeNull();
    expect(await git(home, ['status', '--porcelain'])).toBe('');
    await git(home, ['fsck', '--strict']);
  });

  it('makes the first commit of a fresh repo (no index yet)', async () => {
    const home = join(root, 'd');
    await new StateRepo(homePaths(home)).init();
    writeFileSync(join(home, 'freeze.txt'), 'a==1.0\n');
    const oid = await fastCommit({ home, gitDir: join(home, '.git'), files: ['.gitignore', 'freeze.txt'], message: 'init\n', author: who });
    expect(await git(home, ['rev-list', 'HEAD'])).toBe(oid);
    expect(await git(home, ['status', '--porcelain'])).toBe('');
    await git(home, ['fsck', '--strict']);
  });

  it('declines a detached HEAD', async () => {
    const home = join(root, 'c');
    const repo = new StateRepo(homePaths(home));
    await repo.init();
    await repo.commit('a==1.0\n', 'first\n');
    await git(home, ['checkout', '-q', '--detach']);
    expect(await fastCommit({ home, gitDir: join(home, '.git'), files: ['freeze.txt'], message: 'x\n', author: who })).toBeNull();
  });
});

describe('fastTag', () => {
  it('writes the annotated tag isomorphic-git would, and refuses to move one without force', async () => {
    const home = join(root, 't');
    const repo = new StateRepo(homePaths(home));
    await repo.init();
    const c = await repo.commit('a==1.0\n', 'first\n');
    await repo.tag('auto/before-1', c, 'State before operation 1', true); // fast path
    expect(await git(home, ['cat-file', '-t', 'auto/before-1'])).toBe('tag');
    expect(await git(home, ['rev-parse', 'auto/before-1^{commit}'])).toBe(c);
    expect(await repo.readTag('auto/before-1')).toMatchObject({ name: 'auto/before-1', commit: c, message: 'State before operation 1\n' });
    expect(await fastTag(join(home, '.git'), 'auto/before-1', c, 'again', who, false)).toBeNull();
    await git(home, ['fsck', '--strict']);
  });
});

describe('fastInit', () => {
  it('writes the repo isomorphic-git would: git and isomorphic-git read its branch and identity; an identity that needs quoting goes through isomorphic-git', async () => {
    const home = join(root, 'init-fast');
    const gitDir = join(home, '.git');
    expect(fastInit(gitDir, 'main', { name: 'Ann Example', email: 'ann@example.com' })).toBe(true);
    expect(fastInit(gitDir, 'main', { name: 'Ann Example', email: 'ann@example.com' })).toBe(false); // never over an existing config
    expect(await git(home, ['symbolic-ref', 'HEAD'])).toBe('refs/heads/main');
    expect(await git(home, ['config', 'user.name'])).toBe('Ann Example');
    expect(repoIdentity(gitDir)).toMatchObject({ name: 'Ann Example', email: 'ann@example.com' });
    writeFileSync(join(home, '.gitignore'), '');
    await new StateRepo(homePaths(home)).commit('a==1.0\n', 'first\n');
    expect(await git(home, ['log', '-1', '--format=%an <%ae>'])).toBe('Ann Example <ann@example.com>');
    await git(home, ['fsck', '--strict']);
    expect(fastInit(join(root, 'init-quoted', '.git'), 'main', { name: 'Ann "The" #1', email: 'ann@example.com' })).toBe(false);
  });
});
