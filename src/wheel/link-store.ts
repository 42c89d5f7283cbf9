/**
 * Hard links instead of new files. On ext4 here, creating a file (a new inode) is most of what an
 * install costs: 0.02-0.6 ms each depending on the directory, 10-20x a link. Undo and redo,
 * restore and clean put the same bytes back again and again, so the home keeps one copy of each
 * file the native installer wrote (by content and mode, in .git/pyctl/files, on the venv's
 * filesystem) and later installs link to it: 1,468 files of pip and setuptools 23-37 ms linked
 * against 125-450 ms written.
 *
 * Safe as a cache: a stored copy is compared byte for byte (and by mode) before each use, so one
 * edited in place through the venv (a link edits both) is replaced, never handed out again. It
 * is per home: two venvs never share a file. Links that cannot be made (another filesystem, a
 * link limit) fall back to writing the file, and stop being tried for the rest of the batch.
 */
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, fstatSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ensureDir, umask } from './fsutil.js';

/** Unused stored copies (no venv file links to them) are swept after this long. */
export const STORE_KEEP_MS = 7 * 24 * 3600 * 1000;

export class LinkStore {
  private off = false;
  private madeDir = false;
  /** The store's entries, listed once: most keys of a first install are absent, and a failed open per file cost ~10 ms per 1,000. */
  private listed?: Set<string>;

  /** No folder: every file is written, as without a store. */
  constructor(readonly dir?: string) {
    this.off = !dir;
  }

  /**
   * Put `data` at `dest` with exactly `mode`, as a new file (pip unlinks an existing file first).
   * `hash`: any digest of `data` already at hand (the wheel's sha256), else one is computed.
   */
  put(dest: string, data: Uint8Array, mode: number, hash?: string): void {
    // In a folder made in this batch nothing can be in the way (and writeNew never writes
    // through an existing file: a link's other side would change too).
    if (!ensureDir(dirname(dest))) removeFile(dest);
    if (this.off) return writeNew(dest, data, mode);
    const name = this.nameOf(hash ?? createHash('sha256').update(data).digest('base64url'), mode);
    const key = join(this.dir!, name);
    const stored = this.has(name);
    if (stored && sameContent(key, data, mode)) {
      try {
        link(key, dest);
        return;
      } catch (e) {
        if (this.giveUp(e)) return writeNew(dest, data, mode);
        // EMLINK and the like: write a copy and store that one instead.
      }
    }
    writeNew(dest, data, mode);
    this.keep(dest, key, stored);
  }

  private has(name: string): boolean {
    if (!this.listed) {
      try {
        this.listed = new Set(readdirSync(this.dir!));
        this.madeDir = true;
      } catch {
        this.listed = new Set();
      }
    }
    return this.listed.has(name);
  }

  /** Store a file something else wrote (a .pyc the interpreter compiled; `data`: its bytes). */
  adopt(path: string, data: Buffer): void {
    if (this.off) return;
    try {
      const mode = statSync(path).mode & 0o7777;
      const name = this.nameOf(createHash('sha256').update(data).digest('base64url'), mode);
      this.keep(path, join(this.dir!, name), this.has(name));
    } catch {
      // only a cache
    }
  }

  /** One flat folder: a fan-out would cost a new directory (an inode) per prefix on first use. */
  private nameOf(hash: string, mode: number): string {
    return `${Buffer.from(hash.replace(/^sha256=/, ''), 'base64url').toString('hex')}.${mode.toString(8)}`;
  }

  /** Store a copy of a file just written: the next install of the same bytes links to it. */
  private keep(dest: string, key: string, stale: boolean): void {
    try {
      if (!this.madeDir) {
        mkdirSync(this.dir!, { recursive: true });
        this.madeDir = true;
      }
      if (stale) removeFile(key); // a copy that no longer matches (edited through a venv link)
      link(dest, key);
      this.listed?.add(basename(key));
    } catch (e) {
      this.giveUp(e);
    }
  }

  /** Errors that mean links will not work here at all. */
  private giveUp(e: unknown): boolean {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EXDEV' || code === 'EPERM' || code === 'EACCES' || code === 'ENOTSUP' || code === 'EROFS' || code === 'ENOSPC') this.off = true;
    return this.off;
  }
}

function removeFile(path: string): void {
  try {
    if (!lstatSync(path).isDirectory()) unlinkSync(path);
  } catch {
    // absent
  }
}

/** A hard link; something in the way (a file of the same name) is replaced. */
function link(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    removeFile(to);
    linkSync(from, to);
  }
}

/** A new file: 'wx' never writes into an existing one (it may be linked to the store). */
function writeNew(dest: string, data: Uint8Array, mode: number): void {
  try {
    writeFileSync(dest, data, { mode, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    removeFile(dest);
    writeFileSync(dest, data, { mode, flag: 'wx' });
  }
  // open(2) applies the umask; pip's modes (e.g. 0o755 for scripts) are set explicitly after.
  if ((mode & ~umask()) !== mode) chmodSync(dest, mode);
}

function sameContent(path: string, data: Uint8Array, mode: number): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size !== data.length || (st.mode & 0o7777) !== mode) return false;
    return readFileSync(fd).equals(data);
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}

/** What the store holds: copies the venv links to cost no space of their own; unused ones do (history). */
export function storeUsage(dir: string): { files: number; unused: number; unusedBytes: number } {
  let files = 0;
  let unused = 0;
  let unusedBytes = 0;
  for (const n of listStore(dir)) {
    try {
      const st = statSync(join(dir, n));
      files++;
      if (st.nlink <= 1) {
        unused++;
        unusedBytes += st.blocks * 512;
      }
    } catch {
      // gone meanwhile
    }
  }
  return { files, unused, unusedBytes };
}

/**
 * Remove stored copies no venv file links to any more (link count 1) for `keepMs` (the
 * background maintenance: a week; `pyctl wheelhouse --prune`: at once), unless a stored
 * package still needs them (`keep`: wheel/package-store.ts's referencedNames): those are the
 * history undo and restore bring back.
 */
export function sweepStore(dir: string, now = Date.now(), keepMs = STORE_KEEP_MS, keep: Set<string> = new Set()): { removed: number; kept: number; bytes: number } {
  let removed = 0;
  let kept = 0;
  let bytes = 0;
  for (const n of listStore(dir)) {
    const p = join(dir, n);
    if (keep.has(n)) {
      kept++;
      continue;
    }
    try {
      const st = statSync(p);
      // ctime moves whenever a link is added or removed: the last time a venv let go of it.
      if (st.isFile() && st.nlink <= 1 && now - st.ctimeMs >= keepMs) {
        unlinkSync(p);
        removed++;
        bytes += st.blocks * 512;
      } else kept++;
    } catch {
      // gone meanwhile
    }
  }
  return { removed, kept, bytes };
}

function listStore(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
