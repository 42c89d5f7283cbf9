/**
 * Linking an install's files into the store while the installer still runs (issue 16). pip
 * unpacks a wheel (its own RECORD comes last), byte-compiles the sources one by one in sorted
 * order (each .pyc put in place by a rename), then writes INSTALLER, REQUESTED and its final
 * RECORD, and that final RECORD is when the package is stored (operations/keep-early.ts). pandas
 * spends seconds compiling, and its ~2,900 links made after the final RECORD were most of what
 * pyctl added after pip's last byte. So the files are linked as they become complete: a source
 * once its size is the size the wheel's RECORD gives (pip writes it in place, front to back, and
 * sets its mode right after: a mode that still moves is caught below), a .pyc once its name
 * exists. The store of the final RECORD (package-store.ts storePackage) then takes each file whose
 * stat has not moved since as it was linked (one lstat, no link), and links the rest as before.
 *
 * Only fresh store names are made here: a name that already holds another inode is left for the
 * final pass to decide (it may belong to an older stored version). Names made here that the final
 * pass does not use (the file moved since, or pip failed) are removed again.
 */
import { linkSync, lstatSync, statSync, unlinkSync, type Stats } from 'node:fs';
import { storeName } from './store-names.js';

/** One file linked early: its store name, the stat it had then, and whether this link made the name. */
export interface EarlyLink {
  name: string;
  /** The sha256 the name was made from ('' for an inode name). */
  sha: string;
  ino: number;
  size: number;
  mtimeMs: number;
  mode: number;
  created: boolean;
}

/** venv-relative path -> the early link of that file. */
export type Prelinked = Map<string, EarlyLink>;

/** A file to link early: its path in the venv and in the venv-relative form the store's index uses. */
export interface EarlyFile {
  abs: string;
  inVenv: string;
  /** RECORD's sha256 (base64url), '' for a file RECORD does not hash (a .pyc). */
  sha: string;
  /** The size RECORD gives; -1: none (a .pyc, complete once its name exists). */
  size: number;
}

/**
 * Link `f` into the store folder `base` (ending in a separator) if it is complete; false when it
 * is not there yet or not complete (try again later), true when it is done with (linked, or left
 * for the final pass).
 */
export function prelinkFile(base: string, f: EarlyFile, into: Prelinked): boolean {
  const st = lstatSync(f.abs, { throwIfNoEntry: false });
  if (!st) return false;
  if (!st.isFile()) return true;
  if (f.size >= 0 && st.size !== f.size) return false;
  const mode = st.mode & 0o7777;
  const name = storeName(f.sha, st, mode);
  let created = true;
  try {
    linkSync(f.abs, base + name);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return true;
    // Already this very file (linked by an earlier pass), else another inode: the final pass decides.
    if (statSync(base + name, { throwIfNoEntry: false })?.ino !== st.ino) return true;
    created = false;
  }
  into.set(f.inVenv, { name, sha: f.sha, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, mode, created });
  return true;
}

/**
 * The early links whose file has not moved since (same inode, size, mtime and mode), by
 * venv-relative path, with the file's stat now. One whose file moved is forgotten, and its store
 * name removed if this process made it and it still is that inode (an executable whose mode pip
 * set after the link would otherwise sit in the store under a name saying 644).
 */
export function unmovedPrelinks(pre: Prelinked, root: string, base: string): Map<string, Stats> {
  const out = new Map<string, Stats>();
  for (const [inVenv, e] of pre) {
    const st = lstatSync(`${root}/${inVenv}`, { throwIfNoEntry: false });
    if (st && st.ino === e.ino && st.size === e.size && st.mtimeMs === e.mtimeMs && (st.mode & 0o7777) === e.mode) out.set(inVenv, st);
    else {
      pre.delete(inVenv);
      dropLink(base, e);
    }
  }
  return out;
}

/** Remove the store names early links made that `used` does not name (pip failed, or the final RECORD differs). */
export function dropUnused(pre: Prelinked, base: string, used: Set<string>): void {
  for (const e of pre.values()) if (!used.has(e.name)) dropLink(base, e);
  pre.clear();
}

function dropLink(base: string, e: EarlyLink): void {
  if (!e.created) return;
  try {
    if (statSync(base + e.name, { throwIfNoEntry: false })?.ino === e.ino) unlinkSync(base + e.name);
  } catch {
    // gone already; a sweep removes what is left
  }
}
