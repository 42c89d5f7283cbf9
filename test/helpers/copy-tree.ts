/**
 * Make one folder the same as another, cheaply, for HomeStates' `linkCache` option (helpers/states.ts).
 *
 * A test home is ~2,800 files, all but ~30 of them hard links of the per-user pyctl cache
 * ($XDG_CACHE_HOME/pyctl: the seed template's pip and setuptools, cached .pyc files), as `pyctl
 * init` links them. Those are linked again instead of copied (pyctl never writes a cache file in
 * place: every home on the machine shares it), so the copy is shaped as the real home is.
 * Everything else is copied: mode and times kept to the nanosecond (site-packages' mtime is the
 * stamp pyctl compares), hard links inside the tree kept (the venv and the home's store share
 * inodes). Where the destination already holds an entry the source has, it is kept when it is
 * untouched since the last sync, told by its inode and ctime (which no write, chmod, utime, link
 * or rename leaves alone), or when it is the same cache inode: putting a home back after a test
 * rewrites only what the test changed. Run as root, owners are kept too, as `cp -a` keeps them (a
 * home of the user `nobody`, the system tier's root-owned files).
 *
 * Between states: a state saved from a home put back from another keeps, as hard links, that
 * other state's saved files the home has left untouched (saved copies are only ever read), so
 * putting back one state where the home held another rewrites only the files whose saved copies
 * differ, not the whole tree.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, constants, copyFileSync, lchownSync, linkSync, lstatSync, mkdirSync, readdirSync, readlinkSync, rmSync, symlinkSync, unlinkSync, type BigIntStats } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { hermeticEnv } from './env.js';
import { plainPython3 } from './plain-python.js';

type Kind = 'dir' | 'file' | 'link';
interface Entry {
  rel: string;
  kind: Kind;
  mode: number;
  atimeNs: bigint;
  mtimeNs: bigint;
  uid: number;
  gid: number;
  /** dev:ino, to keep hard links and tell cache files. */
  inode: string;
  /** ino:ctime as listed. */
  stamp: string;
  shared: boolean;
}
interface Listing {
  entries: Entry[];
  byRel: Map<string, Entry>;
}
/** Each entry of a folder as it was after the last sync into it: `ino:ctime`. */
export type Known = Map<string, string>;

const inodeOf = (s: BigIntStats) => `${s.dev}:${s.ino}`;
const kindOf = (s: BigIntStats): Kind | null => (s.isDirectory() ? 'dir' : s.isSymbolicLink() ? 'link' : s.isFile() ? 'file' : null);
const stamp = (s: BigIntStats) => `${s.ino}:${s.ctimeNs}`;
const lstat = (p: string) => lstatSync(p, { bigint: true, throwIfNoEntry: false });

/** Inodes of the per-user cache's files, read once per test file (entries made later are copied). */
let cacheInodes: Set<string> | undefined;
function sharedInodes(): Set<string> {
  if (cacheInodes) return cacheInodes;
  const found = new Set<string>();
  const walk = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // no cache yet: nothing to link
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) found.add(inodeOf(lstatSync(p, { bigint: true })));
    }
  };
  walk(join(hermeticEnv().XDG_CACHE_HOME, 'pyctl'));
  cacheInodes = found;
  return found;
}

/**
 * A python3 to set times with: helpers/plain-python.ts's; the pyenv shim itself, asked once, when
 * there is no other.
 */
let interpreter: string | undefined;
const python = () => (interpreter ??= plainPython3() || execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8', env: hermeticEnv() }).trim());

// Node's utimes takes seconds as a double (~240 ns steps today): Python sets them exactly. One
// Python per worker does it for every sync (a start per sync cost ~30-60 ms of CPU, ~400 syncs
// a suite run): a JSON list of [path, atimeNs, mtimeNs] a line in, `ok` or `error ...` a line out.
// It ends when the worker does (its stdin closes); unref'd, it never keeps a worker alive.
const TIMES_PY = String.raw`
import json, os, sys
for line in sys.stdin:
    try:
        for p, a, m in json.loads(line):
            os.utime(p, ns=(int(a), int(m)), follow_symlinks=False)
        out = 'ok'
    except Exception as e:
        out = 'error ' + repr(e)
    sys.stdout.write(out + '\n')
    sys.stdout.flush()
`;
interface TimesHelper {
  /** The Python's pipes: sockets, to be unref'd while no answer is due. */
  stdin: Socket;
  stdout: Socket;
  waiting: ((error?: Error) => void)[];
  buffered: string;
}
let helper: TimesHelper | undefined;
function timesHelper(): TimesHelper {
  if (helper) return helper;
  const child = spawn(python(), ['-S', '-I', '-u', '-c', TIMES_PY], { env: hermeticEnv(), stdio: ['pipe', 'pipe', 'inherit'] });
  const h: TimesHelper = { stdin: child.stdin as Socket, stdout: child.stdout as Socket, waiting: [], buffered: '' };
  const fail = (error: Error) => {
    if (helper === h) helper = undefined;
    for (const done of h.waiting.splice(0)) done(error);
  };
  child.on('error', fail);
  child.on('exit', (code, signal) => fail(new Error(`the times helper ended (${signal ?? code})`)));
  h.stdin.on('error', () => {}); // a write after it ended: 'exit' tells the waiting
  h.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    h.buffered += chunk;
    let nl: number;
    while ((nl = h.buffered.indexOf('\n')) >= 0) {
      const line = h.buffered.slice(0, nl);
      h.buffered = h.buffered.slice(nl + 1);
      h.waiting.shift()?.(line === 'ok' ? undefined : new Error(`setting times: ${line}`));
    }
    if (!h.waiting.length) h.stdout.unref();
  });
  child.unref();
  h.stdin.unref();
  h.stdout.unref();
  return (helper = h);
}
function setTimes(times: [string, string, string][]): Promise<void> {
  const h = timesHelper();
  return new Promise((resolve, reject) => {
    h.waiting.push((error) => (error ? reject(error) : resolve()));
    h.stdout.ref(); // an answer is due: the worker waits for it
    h.stdin.write(JSON.stringify(times) + '\n');
  });
}

/** Every entry under `root` (itself first, as rel ''), parents before children. */
function list(root: string): Listing {
  const shared = sharedInodes();
  const out: Entry[] = [];
  const go = (rel: string) => {
    const st = lstatSync(join(root, rel), { bigint: true });
    const kind = kindOf(st);
    if (!kind) return; // sockets and fifos: nothing a home keeps
    const inode = inodeOf(st);
    out.push({
      rel,
      kind,
      mode: Number(st.mode & 0o7777n),
      atimeNs: st.atimeNs,
      mtimeNs: st.mtimeNs,
      uid: Number(st.uid),
      gid: Number(st.gid),
      inode,
      stamp: stamp(st),
      shared: kind === 'file' && shared.has(inode),
    });
    if (kind === 'dir') for (const name of readdirSync(join(root, rel))) go(rel ? join(rel, name) : name);
  };
  go('');
  return { entries: out, byRel: new Map(out.map((e) => [e.rel, e])) };
}

/** What `dst` holds now, for the next sync into it. */
export function knownOf(dst: string): Known {
  const known: Known = new Map();
  const go = (rel: string) => {
    const st = lstatSync(join(dst, rel), { bigint: true });
    known.set(rel, stamp(st));
    if (st.isDirectory()) for (const name of readdirSync(join(dst, rel))) go(rel ? join(rel, name) : name);
  };
  if (lstat(dst)) go('');
  return known;
}

/** Only root can give a file another owner; anyone else makes them all their own, as `cp -a` does. */
const asRoot = process.geteuid?.() === 0;
const ownedByMe = (w: Entry) => !asRoot || (w.uid === 0 && w.gid === process.getegid?.());

// A saved state never changes: list it once.
const listings = new Map<string, Listing>();
const listSaved = (dir: string): Listing => {
  let l = listings.get(dir);
  if (!l) listings.set(dir, (l = list(dir)));
  return l;
};

export interface SyncOptions {
  /** `src` is a saved state: it does not change, so its listing is kept for the next call. */
  srcIsSaved?: boolean;
  /**
   * The saved state `known` describes `dst` after a sync from, when not `src` itself (the home
   * held another state): an untouched entry is kept where both saved states hold the same inode.
   */
  knownFrom?: string;
  /**
   * Saving a home (`src`) into an empty `dst`: the saved state it was last put back from (or
   * saved as) and its Known then. Entries untouched since are hard links of that state's copies.
   */
  base?: { dir: string; known: Known };
}

/**
 * Make `dst` hold what `src` holds. `known` is what `dst` held right after the last sync from
 * `src` (or from `knownFrom`; empty: keep only cache files). Returns `dst`'s new Known.
 */
export async function syncTree(src: string, dst: string, known: Known, options: SyncOptions = {}): Promise<Known> {
  const { entries, byRel: want } = options.srcIsSaved ? listSaved(src) : list(src);
  const from = options.knownFrom && options.knownFrom !== src ? listSaved(options.knownFrom).byRel : undefined;
  const base = options.base && { ...options.base, byRel: listSaved(options.base.dir).byRel };
  const placed = new Map<string, string>(); // source inode -> a dst path that holds it
  const now: Known = new Map(); // dst's entries after this sync, as far as they are untouched
  const dirty = new Set<string>(); // folders whose entries, mode or times change
  const reown = new Set<string>(); // folders whose owner changes
  const parent = (rel: string) => (rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '');

  // 1. Take out of dst what src does not have, or what changed since the last sync.
  const sweep = (rel: string) => {
    const p = join(dst, rel);
    const st = lstat(p);
    if (!st) return;
    const w = want.get(rel);
    if (!w || kindOf(st) !== w.kind) {
      rmSync(p, { recursive: true, force: true });
      dirty.add(parent(rel));
      return;
    }
    if (w.kind === 'dir') {
      now.set(rel, stamp(st));
      const untouched = known.get(rel) === stamp(st);
      if (!untouched || Number(st.mode & 0o7777n) !== w.mode || st.mtimeNs !== w.mtimeNs) dirty.add(rel);
      if (asRoot && (Number(st.uid) !== w.uid || Number(st.gid) !== w.gid)) reown.add(rel);
      for (const name of readdirSync(p)) {
        const child = rel ? join(rel, name) : name;
        // A folder untouched since the last sync (no entry added, removed or renamed: each would
        // move its ctime) still names the inodes it named then; a cache file is never written in
        // place, so one that is the cache file src wants needs no lstat (most of a home's ~2,800).
        const cached = untouched ? want.get(child) : undefined;
        const was = cached?.shared ? known.get(child) : undefined;
        if (was && `${st.dev}:${was.slice(0, was.indexOf(':'))}` === cached!.inode) now.set(child, was);
        else sweep(child);
      }
      return;
    }
    if ((known.get(rel) === stamp(st) && (!from || from.get(rel)?.inode === w.inode)) || (w.shared && inodeOf(st) === w.inode)) {
      now.set(rel, stamp(st));
      if (w.kind === 'file' && !w.shared) placed.set(w.inode, p);
    } else {
      unlinkSync(p);
      dirty.add(parent(rel));
    }
  };
  sweep('');

  // 2. Make what is missing, parents first; then modes and times, children first.
  const times: [string, string, string][] = [];
  const made: string[] = [];
  const relinked = new Set<string>(); // in-tree inodes given another link: their ctime moves
  for (const w of entries) {
    if (now.has(w.rel)) continue;
    const p = join(dst, w.rel);
    made.push(w.rel);
    if (w.rel) dirty.add(parent(w.rel));
    if (w.kind === 'dir') {
      mkdirSync(p, { mode: 0o700 });
      dirty.add(w.rel);
      if (!ownedByMe(w)) reown.add(w.rel);
    } else if (w.kind === 'link') {
      symlinkSync(readlinkSync(join(src, w.rel)), p);
      if (!ownedByMe(w)) lchownSync(p, w.uid, w.gid);
    } else if (w.shared) {
      linkSync(join(src, w.rel), p);
    } else if (placed.has(w.inode)) {
      linkSync(placed.get(w.inode)!, p);
      relinked.add(w.inode);
    } else if (base && base.known.get(w.rel) === w.stamp && base.byRel.get(w.rel)?.kind === 'file') {
      linkSync(join(base.dir, w.rel), p); // the same bytes, mode, owner and times
      placed.set(w.inode, p);
    } else {
      copyFileSync(join(src, w.rel), p, constants.COPYFILE_FICLONE);
      if (!ownedByMe(w)) lchownSync(p, w.uid, w.gid); // before the chmod: chown clears set-id bits
      chmodSync(p, w.mode);
      placed.set(w.inode, p);
      times.push([p, String(w.atimeNs), String(w.mtimeNs)]);
    }
  }
  for (const w of [...entries].reverse()) {
    if (w.kind !== 'dir' || !(dirty.has(w.rel) || reown.has(w.rel))) continue;
    if (reown.has(w.rel)) lchownSync(join(dst, w.rel), w.uid, w.gid);
    chmodSync(join(dst, w.rel), w.mode);
    times.push([join(dst, w.rel), String(w.atimeNs), String(w.mtimeNs)]);
  }
  if (times.length) await setTimes(times);
  // 3. What dst now holds: the untouched entries as the sweep saw them, the rest looked at again.
  for (const w of entries) if (dirty.has(w.rel) || reown.has(w.rel) || (!w.shared && relinked.has(w.inode))) now.set(w.rel, stamp(lstatSync(join(dst, w.rel), { bigint: true })));
  for (const rel of made) now.set(rel, stamp(lstatSync(join(dst, rel), { bigint: true })));
  return now;
}
