/**
 * The state repo: a plain git repo whose work tree is the pyctl home. It tracks freeze.txt
 * (the venv's installed set) and config.toml; every operation is one commit on `main`,
 * snapshots are annotated tags. Only this folder talks to git.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { join } from 'node:path';
import { CONFIG_FILE, FREEZE_FILE, PROVENANCE_FILE, type HomePaths } from '../paths.js';
import { PyctlError } from '../errors.js';
import { fs, loadGit, type Git } from './git.js';
import { hasRepoIdentity, repoIdentity, userIdentity } from './identity.js';
import { writeAtomic } from '../fs/durable.js';
import { readTextOr } from '../fs/read-text.js';
import { fastCommit, fastInit, fastTag } from './fastgit.js';
import { readObject, readRawCommit, treeBlobs, treeEntry } from './objects.js';
import { readHeadOid, readRef, tagNames } from './refs.js';
import { parseMessage, type ParsedMessage } from './message.js';
import { testFail, testPause } from '../debug/faults.js';

export const BRANCH = 'main';
const GITIGNORE = ['# pyctl tracks the installed set (freeze.txt) and config.toml; the venv, wheels and caches stay out.', '/*', '!/.gitignore', `!/${FREEZE_FILE}`, `!/${CONFIG_FILE}`, ''].join('\n');

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
  private cache: object = {};
  private gitMod?: Git;
  constructor(readonly paths: HomePaths) {}

  private async git(): Promise<Git> {
    return (this.gitMod ??= await loadGit());
  }
  private get base() {
    return { fs, dir: this.paths.home, gitdir: this.paths.gitDir, cache: this.cache };
  }

  /** Forget cached pack indexes (after the .git folder was replaced). */
  forget(): void {
    this.cache = {};
  }

  exists(): boolean {
    return existsSync(join(this.paths.gitDir, 'HEAD'));
  }

  async init(): Promise<void> {
    if (fastInit(this.paths.gitDir, BRANCH, userIdentity())) {
      writeAtomic(join(this.paths.home, '.gitignore'), GITIGNORE);
      return;
    }
    const git = await this.git();
    await git.init({ fs, dir: this.paths.home, gitdir: this.paths.gitDir, defaultBranch: BRANCH });
    writeAtomic(join(this.paths.home, '.gitignore'), GITIGNORE);
    await this.ensureIdentity();
  }

  /**
   * Make the repo for a first commit, or make whole the one a killed or power-cut first init
   * left: with no commit yet nothing in it is history, and its files were written unflushed
   * (fs/durable.ts withoutFlushes), so HEAD and .gitignore are written again unless whole.
   */
  async initFirst(): Promise<void> {
    if (!this.exists()) return this.init();
    const head = join(this.paths.gitDir, 'HEAD');
    if (readTextOr(head) !== `ref: refs/heads/${BRANCH}\n`) writeAtomic(head, `ref: refs/heads/${BRANCH}\n`);
    const ignore = join(this.paths.home, '.gitignore');
    if (readTextOr(ignore) !== GITIGNORE) writeAtomic(ignore, GITIGNORE);
    await this.ensureIdentity();
  }

  /**
   * Give the repo its own user.name/user.email (the user's git identity, else user@host) when it
   * has none, so a plain `git commit` in the home works on an account without a git identity.
   * True when it wrote one.
   */
  async ensureIdentity(): Promise<boolean> {
    if (hasRepoIdentity(this.paths.gitDir)) return false;
    const git = await this.git();
    const id = userIdentity();
    await git.setConfig({ fs, gitdir: this.paths.gitDir, path: 'user.name', value: id.name });
    await git.setConfig({ fs, gitdir: this.paths.gitDir, path: 'user.email', value: id.email });
    return true;
  }

  async headOid(): Promise<string | null> {
    const fast = readHeadOid(this.paths.gitDir);
    if (fast) return fast;
    const git = await this.git();
    try {
      return await git.resolveRef({ ...this.base, ref: 'HEAD' });
    } catch (e) {
      if ((e as { code?: string }).code === 'NotFoundError') return null;
      throw corrupt(e);
    }
  }

  /**
   * A background repack (gitstore/maintain.ts) may move an object from a loose file into a pack
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
    const raw = readRawCommit(this.paths.gitDir, oid);
    if (raw) return { oid, parents: raw.parents, message: raw.message, time: raw.time, parsed: parseMessage(raw.message) };
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
    const raw = file.includes('/') ? null : readRawCommit(this.paths.gitDir, oid);
    if (raw) {
      const blob = treeEntry(this.paths.gitDir, raw.tree, file);
      if (blob === null) return null;
      const o = blob ? readObject(this.paths.gitDir, blob) : null;
      if (o?.type === 'blob') return o.body.toString('utf8');
    }
    const git = await this.git();
    try {
      const { blob } = await this.retry(() => git.readBlob({ ...this.base, oid, filepath: file }));
      return Buffer.from(blob).toString('utf8');
    } catch (e) {
      // "file not found in the tree" is an answer; a missing object is damage.
      if ((e as { code?: string }).code === 'NotFoundError' && !missingObject(e)) return null;
      throw corrupt(e);
    }
  }

  /**
   * Record a state: write freeze.txt, stage it (and config.toml when asked), commit.
   * The index is kept in step so plain `git status` stays clean.
   */
  /** `tag`: an annotated tag on the new commit (unless one of that name exists), written with the branch's ref. */
  async commit(freeze: string, message: string, opts: { stageConfig?: boolean; time?: number; provenance?: string; tag?: { name: string; message: string } } = {}): Promise<string> {
    // The work-tree copy: the commit's blob (flushed) is the truth; the record path checks this
    // copy's hash before trusting it (operations/record.ts headFreeze). Atomic, not flushed.
    writeAtomic(this.paths.freeze, freeze, { sync: false });
    const files = ['.gitignore', FREEZE_FILE];
    if (opts.provenance) {
      writeAtomic(this.paths.provenance, opts.provenance, { sync: false });
      files.push(PROVENANCE_FILE);
    }
    if (opts.stageConfig && existsSync(this.paths.config)) files.push(CONFIG_FILE);
    await testPause('commit');
    testFail('commit', join(this.paths.gitDir, 'objects'));
    const who = { ...repoIdentity(this.paths.gitDir), ...(opts.time ? { timestamp: opts.time, timezoneOffset: 0 } : {}) };
    // The common case without loading isomorphic-git (gitstore/fastgit.ts); it declines anything unusual.
    const fast = await fastCommit({ home: this.paths.home, gitDir: this.paths.gitDir, files, message, author: who, tag: opts.tag });
    if (fast) return fast;
    const git = await this.git();
    await git.add({ ...this.base, filepath: files });
    let oid: string;
    try {
      oid = await git.commit({ ...this.base, message, author: who, committer: who });
    } catch (e) {
      throw corruptOr(e);
    }
    if (opts.tag && !this.hasTag(opts.tag.name)) await this.tag(opts.tag.name, oid, opts.tag.message);
    return oid;
  }

  /** A parentless commit holding `freeze`, on no branch (for tags kept across a repo rebuild). */
  async commitDetached(freeze: string, message: string, time?: number): Promise<string> {
    const git = await this.git();
    const blob = await git.writeBlob({ ...this.base, blob: Buffer.from(freeze) });
    const tree = await git.writeTree({ ...this.base, tree: [{ mode: '100644', path: FREEZE_FILE, oid: blob, type: 'blob' }] });
    const who = { ...repoIdentity(this.paths.gitDir), ...(time ? { timestamp: time, timezoneOffset: 0 } : {}) };
    return git.commit({ ...this.base, message, author: who, committer: who, tree, parent: [], noUpdateBranch: true });
  }

  /** Whether a commit, its tree and its freeze.txt can all be read (a crash left none half-written). */
  async readable(oid: string): Promise<boolean> {
    const git = await this.git();
    try {
      await git.readCommit({ ...this.base, oid });
      await git.readBlob({ ...this.base, oid, filepath: FREEZE_FILE }).catch((e) => {
        if ((e as { code?: string }).code !== 'NotFoundError' || !String((e as Error).message).includes(FREEZE_FILE)) throw e;
      });
      return true;
    } catch {
      return false;
    }
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
    try {
      return await git.listTags({ ...this.base });
    } catch (e) {
      throw corruptOr(e);
    }
  }

  /**
   * A snapshot; `ref` reads one from elsewhere (refs/remotes/R/tags/NAME for R/NAME). Null when
   * there is no such tag; a tag that names something other than a commit (made with plain git,
   * e.g. a tag of a blob) is not a snapshot: NOT_A_SNAPSHOT.
   */
  /** A tag of that name exists (loose or packed), seen without loading isomorphic-git. */
  hasTag(name: string): boolean {
    return readRef(this.paths.gitDir, `refs/tags/${name}`) !== null;
  }

  async readTag(name: string, ref = `refs/tags/${name}`): Promise<TagInfo | null> {
    const fast = this.readTagDirect(name, ref);
    if (fast) return { ...fast, time: fast.time ?? (await this.readCommit(fast.commit)).time };
    const git = await this.git();
    let oid: string;
    try {
      oid = await git.resolveRef({ ...this.base, ref });
    } catch {
      return null;
    }
    let message = '';
    let time: number | undefined;
    // Peel annotated tags (a tag of a tag too) down to what they name.
    for (let depth = 0; ; depth++) {
      let obj;
      try {
        obj = await git.readObject({ ...this.base, oid, format: 'parsed' });
      } catch (e) {
        throw corrupt(e);
      }
      if (obj.type === 'commit') break;
      if (obj.type !== 'tag' || depth > 8) throw notASnapshot(name, obj.type, this.paths.home);
      const tag = obj.object as { object: string; message: string; tagger?: { timestamp: number } };
      if (depth === 0) {
        message = tag.message;
        time = tag.tagger?.timestamp;
      }
      oid = tag.object;
    }
    // A lightweight tag someone made with plain git: use the commit's own date.
    return { name, commit: oid, message, time: time ?? (await this.readCommit(oid)).time };
  }

  /**
   * Every tag that is a readable snapshot, and the others with why they were skipped (a tag of a
   * blob, a tag whose objects are missing): one foreign or broken ref never hides the rest.
   */
  /**
   * readTag from the files, without isomorphic-git: undefined for anything it cannot vouch for
   * the same way (a ref or object not read here, a signed tag, CR line ends, folded headers), which
   * readTag then reads through isomorphic-git. `time` is left out for a lightweight tag.
   */
  private readTagDirect(name: string, ref: string): (Omit<TagInfo, 'time'> & { time?: number }) | undefined {
    const gitDir = this.paths.gitDir;
    let oid = readRef(gitDir, ref);
    if (!oid) return undefined;
    let message = '';
    let time: number | undefined;
    for (let depth = 0; ; depth++) {
      const o = readObject(gitDir, oid);
      if (!o) return undefined;
      if (o.type === 'commit') break;
      if (o.type !== 'tag' || depth > 8) throw notASnapshot(name, o.type, this.paths.home);
      const text = o.body.toString('utf8');
      const end = text.indexOf('\n\n');
      if (end < 0 || text.includes('\r') || text.includes('-----BEGIN PGP SIGNATURE-----')) return undefined;
      const headers = text.slice(0, end).split('\n');
      if (headers.some((h) => h.startsWith(' '))) return undefined;
      const header = (k: string) => headers.find((h) => h.startsWith(`${k} `))?.slice(k.length + 1);
      const object = header('object');
      if (!object || !/^[0-9a-f]{40}$/.test(object)) return undefined;
      if (depth === 0) {
        const tagger = header('tagger');
        const m = tagger === undefined ? null : /^(.*) <(.*)> (.*) ([+-]\d{4})$/.exec(tagger);
        if (tagger !== undefined && !m) return undefined;
        message = text.slice(end + 2);
        time = m ? Number(m[3]) : undefined;
      }
      oid = object;
    }
    return { name, commit: oid, message, time };
  }

  async snapshots(): Promise<{ tags: TagInfo[]; skipped: { name: string; why: string; broken: boolean }[] }> {
    const tags: TagInfo[] = [];
    const skipped: { name: string; why: string; broken: boolean }[] = [];
    for (const name of tagNames(this.paths.gitDir)) {
      try {
        const t = await this.readTag(name);
        if (t) tags.push(t);
        else skipped.push({ name, why: 'it does not name an object', broken: true });
      } catch (e) {
        const foreign = e instanceof PyctlError && e.code === 'NOT_A_SNAPSHOT';
        skipped.push({ name, why: foreign ? e.message.replace(/^.*?: /, '') : (e as Error).message.replace(/^the state repo could not be read: /, ''), broken: !foreign });
      }
    }
    return { tags, skipped };
  }

  async tag(name: string, commit: string, message: string, force = false): Promise<void> {
    if (await fastTag(this.paths.gitDir, name, commit, message, repoIdentity(this.paths.gitDir), force)) return;
    const git = await this.git();
    try {
      await git.annotatedTag({ ...this.base, ref: name, object: commit, message, tagger: repoIdentity(this.paths.gitDir), force });
    } catch (e) {
      throw corruptOr(e);
    }
  }

  /** Delete tags, first noting `name oid` of each in `log` (doctor --fix on unreadable snapshots). */
  async removeTags(names: string[], log: string): Promise<string[]> {
    const lines = names.map((n) => `${readRef(this.paths.gitDir, `refs/tags/${n}`) ?? '?'} ${n} removed ${new Date().toISOString()}\n`);
    appendFileSync(log, lines.join(''));
    for (const n of names) await this.deleteTag(n);
    return names;
  }

  async deleteTag(name: string): Promise<void> {
    const git = await this.git();
    await git.deleteTag({ ...this.base, ref: name });
  }

  /**
   * Read every object pyctl relies on (pyctl doctor): the first `full` commits of HEAD's
   * first-parent line with their trees and blobs, the commit objects of the rest of that line,
   * and every tag with the commit, tree and blobs it names. Never throws; lists what is wrong.
   */
  async verify(full: number): Promise<RepoCheck> {
    const out: RepoCheck = { commits: 0, tags: 0, problems: [], tagProblems: [], foreignTags: [] };
    const gitDir = this.paths.gitDir;
    // Read from the files (each object checked against its id), else through isomorphic-git,
    // which says what is wrong: doctor then loads it only for a damaged repo.
    const direct = (oid: string, deep: boolean) => {
      const raw = readRawCommit(gitDir, oid);
      if (!raw) return null;
      if (deep) {
        const blobs = treeBlobs(gitDir, raw.tree);
        if (!blobs || blobs.some((b) => readObject(gitDir, b)?.type !== 'blob')) return null;
      }
      return { commit: { parent: raw.parents }, meta: parseMessage(raw.message).meta };
    };
    const readState = async (oid: string, deep: boolean) => {
      const fast = direct(oid, deep);
      if (fast) return fast;
      const git = await this.git();
      const { commit } = await git.readCommit({ ...this.base, oid });
      if (deep) {
        const { tree } = await git.readTree({ ...this.base, oid: commit.tree });
        for (const e of tree) if (e.type === 'blob') await git.readBlob({ ...this.base, oid: e.oid });
      }
      return { commit, meta: parseMessage(commit.message).meta };
    };
    let head: string | null = readHeadOid(gitDir);
    try {
      head ??= await (await this.git()).resolveRef({ ...this.base, ref: 'HEAD' });
    } catch (e) {
      out.problems.push(`HEAD does not name a commit (${(e as Error).message})`);
      head = null;
    }
    let oid: string | undefined = head ?? undefined;
    while (oid) {
      try {
        if (out.commits >= full) {
          // Past the newest `full`: only the commit objects, read straight from loose files
          // when they are loose (~20x faster than isomorphic-git's readCommit).
          const parent = this.looseParent(oid);
          if (parent !== undefined) {
            out.commits++;
            oid = parent ?? undefined;
            continue;
          }
        }
        const { commit, meta } = await readState(oid, out.commits < full);
        if (meta && out.lastOp === undefined) out.lastOp = meta.op;
        out.commits++;
        oid = commit.parent[0];
      } catch (e) {
        out.problems.push(`commit ${(oid ?? '?').slice(0, 12)} (${out.commits} back from HEAD) cannot be read: ${(e as Error).message}`);
        break;
      }
    }
    const { tags, skipped } = await this.snapshots();
    for (const t of tags) {
      try {
        await readState(t.commit, true);
        out.tags++;
      } catch (e) {
        out.tagProblems.push({ name: t.name, why: (e as Error).message });
      }
    }
    for (const k of skipped) (k.broken ? out.tagProblems : out.foreignTags).push({ name: k.name, why: k.why });
    return out;
  }

  /** A loose commit's first parent (null: a root commit), or undefined when it is not loose. */
  private looseParent(oid: string): string | null | undefined {
    let raw: Buffer;
    try {
      raw = readFileSync(join(this.paths.gitDir, 'objects', oid.slice(0, 2), oid.slice(2)));
    } catch {
      return undefined;
    }
    const text = inflateSync(raw).toString('latin1');
    if (!text.startsWith('commit ')) throw new Error(`object ${oid} is not a commit`);
    const m = /\nparent ([0-9a-f]{40})\n/.exec(text.slice(0, 2000));
    return m ? m[1] : null;
  }

  /** The tags whose commit and freeze.txt can still be read, with their contents (repo rebuild). */
  async readableTags(): Promise<{ name: string; message: string; time: number; freeze: string }[]> {
    const out = [];
    for (const t of (await this.snapshots()).tags) {
      try {
        const freeze = await this.readAt(t.commit, FREEZE_FILE);
        if (freeze !== null) out.push({ name: t.name, message: t.message, time: t.time, freeze });
      } catch {
        // unreadable: lost with the old repo
      }
    }
    return out;
  }
}

export interface RepoCheck {
  /** Commits read on HEAD's first-parent line. */
  commits: number;
  tags: number;
  /** The newest operation number found. */
  lastOp?: number;
  /** Damage on HEAD's line: history cannot be read past it. */
  problems: string[];
  /** Snapshots whose objects cannot be read (the rest of the repo may be fine). */
  tagProblems: { name: string; why: string }[];
  /** Tags made with plain git that name no commit (a tag of a blob): not snapshots, skipped. */
  foreignTags: { name: string; why: string }[];
}

/** isomorphic-git's NotFoundError for an object (data.what is an oid), not for a path in a tree. */
function missingObject(e: unknown): boolean {
  const what = (e as { data?: { what?: unknown } }).data?.what;
  return typeof what === 'string' && /^[0-9a-f]{40}$/.test(what);
}

/** Errors that mean the repo's files are damaged become STATE_CORRUPT; others (EACCES, ...) stay. */
function corruptOr(e: unknown): unknown {
  if (e instanceof PyctlError) return e;
  const code = (e as { code?: string }).code;
  if (code && /^E[A-Z]+$/.test(code) && code !== 'ENOENT') return e;
  return corrupt(e);
}

function notASnapshot(name: string, type: string, home: string): PyctlError {
  return new PyctlError(
    'NOT_A_SNAPSHOT',
    `tag '${name}' is not a snapshot: it names a ${type}, not a recorded state`,
    `pyctl skips it; if nobody needs it, remove it with: git -C ${home} tag -d ${name}`,
  );
}

function corrupt(e: unknown): PyctlError {
  if (e instanceof PyctlError) return e;
  return new PyctlError('STATE_CORRUPT', `the state repo could not be read: ${(e as Error).message}`, "run 'pyctl doctor --fix' to rebuild it from the venv (the damaged one is kept aside)");
}
