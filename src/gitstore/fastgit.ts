/**
 * The record path's git writes without isomorphic-git. Loading isomorphic-git and committing
 * through it (git.add + git.commit, its JS deflate) cost ~100 ms of every recorded pip run;
 * writing the three loose objects, the index and the ref directly with node:zlib and node:crypto
 * takes a few. Only the simple, common shape is handled (HEAD on a branch, a version-2 index
 * of top-level files); anything else returns null and the caller falls back to
 * isomorphic-git, which stays the reader and the writer of everything else.
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { deflateSync, inflateSync } from 'node:zlib';
import { writeAllLast, writeAtomic, writeAtomicLast } from '../fs/durable.js';
import { readHeadOid, readRef } from './refs.js';
import { testFail, testPause } from '../debug/faults.js';

export function objectId(type: string, content: Buffer): string {
  return createHash('sha1').update(`${type} ${content.length}\0`).update(content).digest('hex');
}

/** Write a loose object (temp file + rename, as git does); returns its id. */
export function writeLoose(gitDir: string, type: string, content: Buffer): string {
  const oid = objectId(type, content);
  const dir = join(gitDir, 'objects', oid.slice(0, 2));
  const path = join(dir, oid.slice(2));
  if (existsSync(path)) {
    // A crash can leave an empty or truncated object behind: keep it only if it inflates.
    try {
      inflateSync(readFileSync(path));
      return oid;
    } catch {
      // rewrite it below (rename replaces it atomically)
    }
  }
  mkdirSync(dir, { recursive: true });
  // 0644 as isomorphic-git writes them (the system tier expects it). Flushed, file and folder,
  // before any ref names it (as git does with core.fsync=committed): all of a commit's objects
  // at once, by the ref's write (fs/durable.ts writeAtomicLast).
  writeAtomic(path, deflateSync(Buffer.concat([Buffer.from(`${type} ${content.length}\0`), content]), { level: 1 }), { mode: 0o644, later: true });
  return oid;
}

interface IndexEntry {
  /** The fixed 62 bytes (stat data, mode, oid, flags) as read or built. */
  fixed: Buffer;
  path: string;
}

/** A version-2 index of stage-0 entries, or null when it holds anything we do not rewrite. */
function readIndex(gitDir: string): IndexEntry[] | null {
  let buf: Buffer;
  try {
    buf = readFileSync(join(gitDir, 'index'));
  } catch (e) {
    // No index yet (a fresh repo): nothing staged.
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? [] : null;
  }
  if (buf.length < 32 || buf.toString('latin1', 0, 4) !== 'DIRC' || buf.readUInt32BE(4) !== 2) return null;
  const count = buf.readUInt32BE(8);
  const entries: IndexEntry[] = [];
  let p = 12;
  for (let i = 0; i < count; i++) {
    if (p + 62 > buf.length) return null;
    const flags = buf.readUInt16BE(p + 60);
    if (flags & 0x4000 || (flags >> 12) & 3) return null; // extended flags or a merge stage
    const nameLen = flags & 0xfff;
    const end = buf.indexOf(0, p + 62);
    if (end < 0 || (nameLen < 0xfff && end - (p + 62) !== nameLen)) return null;
    entries.push({ fixed: Buffer.from(buf.subarray(p, p + 62)), path: buf.toString('utf8', p + 62, end) });
    p += Math.ceil((62 + (end - (p + 62)) + 1) / 8) * 8;
  }
  // Extensions: optional ones (upper-case signature: TREE, UNTR…) are caches and may be dropped.
  while (p + 8 <= buf.length - 20) {
    const sig = buf.toString('latin1', p, p + 4);
    if (!/^[A-Z]/.test(sig)) return null;
    p += 8 + buf.readUInt32BE(p + 4);
  }
  return entries;
}

function indexEntry(path: string, file: string, oid: string): IndexEntry {
  const st = lstatSync(file, { bigint: true });
  const fixed = Buffer.alloc(62);
  const sec = (ns: bigint) => Number((ns / 1_000_000_000n) & 0xffffffffn);
  const nsec = (ns: bigint) => Number(ns % 1_000_000_000n);
  fixed.writeUInt32BE(sec(st.ctimeNs), 0);
  fixed.writeUInt32BE(nsec(st.ctimeNs), 4);
  fixed.writeUInt32BE(sec(st.mtimeNs), 8);
  fixed.writeUInt32BE(nsec(st.mtimeNs), 12);
  fixed.writeUInt32BE(Number(st.dev & 0xffffffffn), 16);
  fixed.writeUInt32BE(Number(st.ino & 0xffffffffn), 20);
  fixed.writeUInt32BE(Number(st.mode) & 0o111 ? 0o100755 : 0o100644, 24);
  fixed.writeUInt32BE(Number(st.uid & 0xffffffffn), 28);
  fixed.writeUInt32BE(Number(st.gid & 0xffffffffn), 32);
  fixed.writeUInt32BE(Number(st.size & 0xffffffffn), 36);
  Buffer.from(oid, 'hex').copy(fixed, 40);
  fixed.writeUInt16BE(Math.min(Buffer.byteLength(path), 0xfff), 60);
  return { fixed, path };
}

function writeIndex(gitDir: string, entries: IndexEntry[]): void {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(12);
  head.write('DIRC', 0, 'latin1');
  head.writeUInt32BE(2, 4);
  head.writeUInt32BE(entries.length, 8);
  parts.push(head);
  for (const e of entries) {
    const name = Buffer.from(e.path, 'utf8');
    const len = Math.ceil((62 + name.length + 1) / 8) * 8;
    const b = Buffer.alloc(len);
    e.fixed.copy(b, 0);
    name.copy(b, 62);
    parts.push(b);
  }
  const body = Buffer.concat(parts);
  // The index is not history (git's core.fsync=committed leaves it out too): atomic, not flushed.
  writeAtomic(join(gitDir, 'index'), Buffer.concat([body, createHash('sha1').update(body).digest()]), { sync: false });
}

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

function tz(offsetMin: number): string {
  const sign = offsetMin <= 0 ? '+' : '-'; // getTimezoneOffset is minutes *behind* UTC
  const m = Math.abs(offsetMin);
  return `${sign}${String(Math.floor(m / 60)).padStart(2, '0')}${String(m % 60).padStart(2, '0')}`;
}

export interface FastCommit {
  home: string;
  gitDir: string;
  /** Top-level work-tree files to stage (their current content). */
  files: string[];
  message: string;
  author: { name: string; email: string; timestamp?: number; timezoneOffset?: number };
  /**
   * An annotated tag on the new commit (init's baseline), when no tag of that name exists: its
   * ref is flushed in the same round as the branch's and its folder with the branch's folder.
   */
  tag?: { name: string; message: string };
}

/** Stage `files` and commit on HEAD's branch; null when the repo's shape needs isomorphic-git. */
export async function fastCommit(c: FastCommit): Promise<string | null> {
  let headRef: string;
  try {
    const m = /^ref: (refs\/heads\/[^\s]+)\s*$/.exec(readFileSync(join(c.gitDir, 'HEAD'), 'utf8'));
    if (!m) return null;
    headRef = m[1]!;
  } catch {
    return null;
  }
  // No parent: the first commit, only when the branch does not exist at all.
  const parent = readHeadOid(c.gitDir);
  if (!parent && (existsSync(join(c.gitDir, headRef)) || existsSync(join(c.gitDir, 'packed-refs')))) return null;
  const index = readIndex(c.gitDir);
  if (!index || index.some((e) => e.path.includes('/'))) return null;
  const byPath = new Map(index.map((e) => [e.path, e]));
  for (const f of c.files) {
    const abs = join(c.home, f);
    const oid = writeLoose(c.gitDir, 'blob', readFileSync(abs));
    byPath.set(f, indexEntry(f, abs, oid));
  }
  const entries = [...byPath.values()].sort((a, b) => byteOrder(a.path, b.path));
  // A tree of top-level files: `<mode> <name>\0<20-byte id>`, in byte order of the names.
  const tree = Buffer.concat(
    entries.flatMap((e) => {
      const mode = e.fixed.readUInt32BE(24) === 0o100755 ? '100755' : '100644';
      return [Buffer.from(`${mode} ${e.path}\0`), e.fixed.subarray(40, 60)];
    }),
  );
  const treeOid = writeLoose(c.gitDir, 'tree', tree);
  const when = c.author.timestamp ?? Math.floor(Date.now() / 1000);
  const offset = c.author.timezoneOffset ?? new Date(when * 1000).getTimezoneOffset();
  const who = `${c.author.name} <${c.author.email}> ${when} ${tz(offset)}`;
  const commit = `tree ${treeOid}\n${parent ? `parent ${parent}\n` : ''}author ${who}\ncommitter ${who}\n\n${c.message}`;
  const oid = writeLoose(c.gitDir, 'commit', Buffer.from(commit, 'utf8'));
  writeIndex(c.gitDir, entries);
  const refs = [{ path: join(c.gitDir, headRef), content: `${oid}\n` }];
  const tagRef = c.tag && `refs/tags/${c.tag.name}`;
  if (c.tag && tagRef && !readRef(c.gitDir, tagRef)) {
    const path = join(c.gitDir, tagRef);
    mkdirSync(dirname(path), { recursive: true });
    refs.push({ path, content: `${tagObject(c.gitDir, c.tag.name, oid, c.tag.message, c.author)}\n` });
  }
  // The objects are in place, not yet flushed; nothing names them until the ref is written.
  await testPause('ref');
  testFail('ref', refs[0].path);
  await writeAllLast(refs);
  return oid;
}

/** An annotated tag's object, as isomorphic-git's annotatedTag writes it (in place, not yet flushed). */
function tagObject(gitDir: string, name: string, commit: string, message: string, tagger: FastCommit['author']): string {
  const when = tagger.timestamp ?? Math.floor(Date.now() / 1000);
  const offset = tagger.timezoneOffset ?? new Date(when * 1000).getTimezoneOffset();
  const body = `object ${commit}\ntype commit\ntag ${name}\ntagger ${tagger.name} <${tagger.email}> ${when} ${tz(offset)}\n\n${message}\n`;
  return writeLoose(gitDir, 'tag', Buffer.from(body, 'utf8'));
}

/**
 * An annotated tag on a commit, as isomorphic-git's annotatedTag writes it (used for the
 * auto/before-N snapshot of every undo/restore/clean). Null when the tag exists and force is off.
 */
export async function fastTag(gitDir: string, name: string, commit: string, message: string, tagger: FastCommit['author'], force: boolean): Promise<string | null> {
  const ref = `refs/tags/${name}`;
  if (!force && readRef(gitDir, ref)) return null;
  const oid = tagObject(gitDir, name, commit, message, tagger);
  const path = join(gitDir, ref);
  mkdirSync(dirname(path), { recursive: true });
  await writeAtomicLast(path, `${oid}\n`);
  return oid;
}

/**
 * A new repo with its own identity, written as isomorphic-git's init and two setConfig calls
 * write it, without loading isomorphic-git (20-50 ms of \`pyctl init\`). False when the identity
 * would need quoting in the config file: isomorphic-git writes that one.
 */
export function fastInit(gitDir: string, branch: string, id: { name: string; email: string }): boolean {
  const plain = (v: string) => v.trim() === v && /^[^"\\\n#;]+$/.test(v);
  if (!plain(id.name) || !plain(id.email) || existsSync(join(gitDir, 'config'))) return false;
  for (const d of ['hooks', 'info', 'objects/info', 'objects/pack', 'refs/heads', 'refs/tags']) mkdirSync(join(gitDir, d), { recursive: true });
  const config = '[core]\n\trepositoryformatversion = 0\n\tfilemode = false\n\tbare = false\n\tlogallrefupdates = true\n\tsymlinks = false\n\tignorecase = true\n';
  writeAtomic(join(gitDir, 'config'), `${config}\n[user]\n\tname = ${id.name}\n\temail = ${id.email}\n`, { sync: false });
  writeAtomic(join(gitDir, 'HEAD'), `ref: refs/heads/${branch}\n`);
  return true;
}
