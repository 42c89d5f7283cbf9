/**
 * Durable file writes for every part of pyctl (the state repo, its runtime files, wheels, venv
 * files), power-loss safe the way git is with core.fsync=committed: the new content is written
 * to a temp file and fsync'd, renamed over the old, and the folder is fsync'd so the rename
 * itself survives a power cut. A failed write (a full disk) removes its temp file and leaves the
 * old content. The one place pyctl calls fsync (docs/safety.md).
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** fsync a folder (its entries: a rename or a new file in it). Best effort where folders cannot be opened. */
export function fsyncDir(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on a folder (EINVAL): nothing more can be done there.
  } finally {
    closeSync(fd);
  }
}

/** Write `content` to a new file `tmp` and fsync it; on failure the temp file is removed. */
export function writeTempSynced(tmp: string, content: string | Uint8Array, mode = 0o666, sync = true): void {
  try {
    const fd = openSync(tmp, 'w', mode);
    try {
      const buf = typeof content === 'string' ? Buffer.from(content) : content;
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
      if (sync) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Folders whose new entries (loose objects) are not flushed yet: flushed together, once, before
 * the next durable write (a ref) makes anything name them. Three objects of a record share one
 * round of folder fsyncs with the ref instead of paying for them one by one.
 */
const pendingDirs = new Set<string>();

export function deferDir(dir: string): void {
  pendingDirs.add(dir);
}

export function flushDirs(): void {
  for (const d of pendingDirs) fsyncDir(d);
  pendingDirs.clear();
}

/**
 * Write a file atomically and durably: a crash or power cut leaves the old content or the new,
 * never half of it. `sync: false` for caches: still atomic, not flushed (a lost cache is rebuilt).
 * `deferDir` (loose objects): the folder is flushed with the next durable write, before it.
 */
export function writeAtomic(path: string, content: string | Uint8Array, opts: { mode?: number; sync?: boolean; deferDir?: boolean } = {}): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const sync = opts.sync !== false;
  writeTempSynced(tmp, content, opts.mode, sync);
  // What this file may name (objects written before it) reaches the disk before it does.
  if (sync && !opts.deferDir) flushDirs();
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  if (!sync) return;
  if (opts.deferDir) pendingDirs.add(dirname(path));
  else fsyncDir(dirname(path));
}

/** Make `path` by writing a temp file beside it, then renaming: it appears whole or not at all (no flush: see writeAtomic). */
export function replaceViaTemp(path: string, write: (tmp: string) => void): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    write(tmp);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
