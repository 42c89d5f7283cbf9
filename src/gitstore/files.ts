/**
 * Small file helpers for the state repo's work tree and runtime files, power-loss safe the way
 * git is with core.fsync=committed: the new content is written to a temp file and fsync'd,
 * renamed over the old, and the folder is fsync'd so the rename itself survives a power cut.
 * A failed write (a full disk) removes its temp file and leaves the old content.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
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
 * Write a file atomically and durably: a crash or power cut leaves the old content or the new,
 * never half of it. `sync: false` for caches: still atomic, not flushed (a lost cache is rebuilt).
 */
export function writeAtomic(path: string, content: string | Uint8Array, opts: { mode?: number; sync?: boolean } = {}): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeTempSynced(tmp, content, opts.mode, opts.sync !== false);
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  if (opts.sync !== false) fsyncDir(dirname(path));
}

export function readTextOr(path: string, fallback: string | null = null): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}
