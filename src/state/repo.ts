/**
 * The state repo: a plain git repo whose work tree is the pyctl home. It tracks freeze.txt
 * (the venv's installed set) and config.toml; every operation is one commit on `main`,
 * snapshots are annotated tags. Only this folder talks to git.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_FILE, FREEZE_FILE, type HomePaths } from '../paths.js';
import { PyctlError } from '../errors.js';
import { author, fs, loadGit, type Git } from './git.js';
import { writeAtomic } from './files.js';
import { fastCommit, fastTag } from './fastgit.js';
import { parseMessage, type ParsedMessage } from './message.js';

export const BRANCH = 'main';
const GITIGNORE = [
  '# pyctl tracks the installed set (freeze.txt) and config.toml; the venv, wheels and caches stay out.',
  '/*',
  '!/.gitignore',
  `!/${FREEZE_FILE}`,
  `!/${CONFIG_FILE}`,
  '',
].join('\n');

export interface CommitInfo {
  oid: string;
  parents: string[];
  message: string;
  /** Unix seconds (committer time). */
  time: number;
  parsed: ParsedMessage;
}

export interface TagInfo {
  name: string;
  /** The commit the tag points at. */
  commit: string;
  message: string;
  time: number;
}

export class StateRepo {
  private cache = {};
  private gitMod?: Git;
  constructor(readonly paths: HomePaths) {}

  private async git(): Promise<Git> {
    return (this.gitMod ??= await loadGit());
  }
  private get base() {
    return { fs, dir: this.paths.home, gitdir: this.paths.gitDir, cache: this.cache };
  }

  exists(): boolean {
    return existsSync(join(this.paths.gitDir, 'HEAD'));
  }

  async init(): Promise<void> {
    const git = await this.git();
    await git.init({ fs, dir: this.paths.home, gitdir: this.paths.gitDir, defaultBranch: BRANCH });
    writeAtomic(join(this.paths.home, '.gitignore'), GITIGNORE);
  }

  async headOid(): Promise<string | null> {
    const git = await this.git();
    try {
      return await git.resolveRef({ ...this.base, ref: 'HEAD' });
    } catch (e) {
      if ((e as { code?: string }).code === 'NotFoundError') return null;
      throw corrupt(e);
    }
  }

  /**
   * A background repack (state/maintain.ts) may move an object from a loose file into a pack
   * while we read it: on a failed read, forget the cached pack list and try once more.
   */
  private async retry<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch {
      this.cache = {};
      return fn();
    }
  }

  async readCommit(oid: string): Promise<CommitInfo> {
    const git = await this.git();
    try {
      const { commit } = await this.retry(() => git.readCommit({ ...this.base, oid }));
      return {
        oid,
        parents: commit.parent,
        message: commit.message,
        time: commit.committer.timestamp,
        parsed: parseMessage(commit.message),
      };
    } catch (e) {
      throw corrupt(e);
    }
  }

  /** A file's content in a commit, or null when the commit does not have it. */
  async readAt(oid: string, file: string): Promise<string | null> {
    const git = await this.git();
    try {
      const { blob } = await this.retry(() => git.readBlob({ ...this.base, oid, filepath: file }));
      return Buffer.from(blob).toString('utf8');
    } catch (e) {
      if ((e as { code?: string }).code === 'NotFoundError') return null;
      throw corrupt(e);
    }
  }

  /**
   * Record a state: write freeze.txt, stage it (and config.toml when asked), commit.
   * The index is kept in step so plain `git status` stays clean.
   */
  async commit(freeze: string, message: string, opts: { stageConfig?: boolean; time?: number } = {}): Promise<string> {
    writeAtomic(this.paths.freeze, freeze);
    const files = ['.gitignore', FREEZE_FILE];
    if (opts.stageConfig && existsSync(this.paths.config)) files.push(CONFIG_FILE);
    const who = { ...author(), ...(opts.time ? { timestamp: opts.time, timezoneOffset: 0 } : {}) };
    // The common case without loading isomorphic-git (state/fastgit.ts); it declines anything unusual.
    const fast = fastCommit({ home: this.paths.home, gitDir: this.paths.gitDir, files, message, author: who });
    if (fast) return fast;
    const git = await this.git();
    await git.add({ ...this.base, filepath: files });
    return git.commit({ ...this.base, message, author: who, committer: who });
  }

  /** Walk first parents from HEAD (newest first), reading commits one at a time. */
  async *walk(from?: string): AsyncGenerator<CommitInfo> {
    let oid: string | null | undefined = from ?? (await this.headOid());
    while (oid) {
      const c = await this.readCommit(oid);
      yield c;
      oid = c.parents[0];
    }
  }

  async listTags(): Promise<string[]> {
    const git = await this.git();
    return git.listTags({ ...this.base });
  }

  async readTag(name: string): Promise<TagInfo | null> {
    const git = await this.git();
    let oid: string;
    try {
      oid = await git.resolveRef({ ...this.base, ref: `refs/tags/${name}` });
    } catch {
      return null;
    }
    const obj = await git.readObject({ ...this.base, oid });
    if (obj.type === 'tag') {
      const { tag } = await git.readTag({ ...this.base, oid });
      return { name, commit: tag.object, message: tag.message, time: tag.tagger.timestamp };
    }
    // A lightweight tag someone made with plain git: use the commit's own date.
    const c = await this.readCommit(oid);
    return { name, commit: oid, message: '', time: c.time };
  }

  async tag(name: string, commit: string, message: string, force = false): Promise<void> {
    if (fastTag(this.paths.gitDir, name, commit, message, author(), force)) return;
    const git = await this.git();
    await git.annotatedTag({ ...this.base, ref: name, object: commit, message, tagger: author(), force });
  }

  async deleteTag(name: string): Promise<void> {
    const git = await this.git();
    await git.deleteTag({ ...this.base, ref: name });
  }
}

function corrupt(e: unknown): PyctlError {
  return new PyctlError(
    'STATE_CORRUPT',
    `the state repo could not be read: ${(e as Error).message}`,
    "run 'pyctl doctor' to check it, 'pyctl doctor --fix' to rebuild it from the venv",
  );
}
