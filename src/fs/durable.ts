/**
 * Durable file writes for every part of pyctl (the state repo, its runtime files, wheels, venv
 * files), power-loss safe the way git is with core.fsync=committed: the new content is written
 * to a temp file, renamed over the old, and flushed with its folder, so the rename itself
 * survives a power cut. A failed write (a full disk) removes its temp file and leaves the old
 * content. The one place pyctl calls fsync (docs/safety.md).
 *
 * Flushes wait behind every other writer's on a busy disk (each fsync is a journal commit), so
 * what can wait is flushed later and together: git objects (nothing names them until a ref
 * does). A write that names what came before it (a ref: `writeAtomicLast`) first flushes all of
 * that at once, concurrently, so the file system folds the flushes into one journal commit (as
 * git's core.fsyncMethod=batch). A first init flushes nothing (`withoutFlushes`).
 */
import { closeSync, fsync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * fsync one file or folder now. A file gone since has nothing left to keep; a folder is best
 * effort (some file systems refuse to open or fsync one: nothing more can be done there).
 */
function syncNow(path: string, dir: boolean): void {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    if (dir || (e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  try {
    fsyncSync(fd);
  } catch (e) {
    if (!dir) throw e;
  } finally {
    closeSync(fd);
  }
}

/** fsync a folder (its entries: a rename or a new file in it). Best effort where folders cannot be opened. */
export function fsyncDir(dir: string): void {
  syncNow(dir, true);
}

/** Write `content` to a new file `tmp`, fsync'd when `sync`; on failure the temp file is removed. */
function writeTemp(tmp: string, content: string | Uint8Array, mode = 0o666, sync = true): void {
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
 * Files already in place but not flushed, and folders whose new entries are not: flushed
 * together before the next write that may name them (`writeAtomicLast`, or a durable
 * `writeAtomic`); inside `withoutFlushes`, handed back at its end instead.
 */
const pendingFiles = new Set<string>();
const pendingDirs = new Set<string>();
/** Inside `withoutFlushes`: no flush at all. */
let skipping = false;

/** `path` was written in place without a flush: flush it and its folder with the next naming write. */
export function flushLater(path: string): void {
  pendingFiles.add(path);
  pendingDirs.add(dirname(path));
}

/** Files held open by syncPath at once (a crash recovery may flush thousands of objects). */
const MAX_OPEN = 64;
let opened = 0;
const waiting: (() => void)[] = [];

/**
 * syncNow through libuv's pool, so several run at once. Opened here (~10 us, no journal) so
 * each fsync is queued at once, not after a round trip through this thread per file.
 */
function syncPath(path: string, dir: boolean): Promise<void> {
  if (opened >= MAX_OPEN) return new Promise<void>((go) => waiting.push(go)).then(() => syncPath(path, dir));
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    if (dir || (e as NodeJS.ErrnoException).code === 'ENOENT') return Promise.resolve();
    return Promise.reject(e);
  }
  opened++;
  return new Promise((done, fail) =>
    fsync(fd, (e) => {
      closeSync(fd);
      opened--;
      waiting.shift()?.();
      // a folder some file system will not fsync (EINVAL): best effort, as fsyncDir
      if (e && !dir) fail(e);
      else done();
    }),
  );
}

/** Flush everything pending at once: concurrent fsyncs share the file system's journal commits. */
export async function flushPending(): Promise<void> {
  if (skipping) return;
  const files = [...pendingFiles];
  const dirs = [...pendingDirs];
  pendingFiles.clear();
  pendingDirs.clear();
  await flushNow({ files, dirs });
}

/** The same, one by one, for a synchronous durable write that may name something pending. */
function flushPendingSync(): void {
  for (const f of pendingFiles) syncNow(f, false);
  pendingFiles.clear();
  for (const d of pendingDirs) fsyncDir(d);
  pendingDirs.clear();
}

/**
 * Run `fn` with no flush at all, and return what it wrote unflushed (files and folders) for a
 * later run to flush. Only for a first `pyctl init` (operations/first-flush.ts): its whole
 * result can be rebuilt from the venv, which `python -m venv` does not flush either, so no
 * flush round waits behind other writers' data on a busy disk; a marker written first says
 * the flush is still owed, and the first command after it pays it (or rebuilds operation 0).
 */
export async function withoutFlushes<T>(fn: () => Promise<T>): Promise<{ result: T; unflushed: { files: string[]; dirs: string[] } }> {
  skipping = true;
  try {
    const result = await fn();
    return { result, unflushed: { files: [...pendingFiles], dirs: [...pendingDirs] } };
  } finally {
    skipping = false;
    pendingFiles.clear();
    pendingDirs.clear();
  }
}

/** Flush these files and folders now, at once (what a `withoutFlushes` run left); gone ones are skipped. */
export async function flushNow(paths: { files: string[]; dirs: string[] }): Promise<void> {
  await Promise.all([...paths.files.map((f) => syncPath(f, false)), ...paths.dirs.map((d) => syncPath(d, true))]);
}

/**
 * Write a file atomically and durably: a crash or power cut leaves the old content or the new,
 * never half of it. `sync: false` for caches: still atomic, not flushed (a lost cache is rebuilt).
 * `later` (git objects, and every durable write inside `withoutFlushes`): in place at once, flushed
 * with the next `writeAtomicLast` or `flushPending`; a power cut before that may leave it empty,
 * so only for files nothing names yet or that a re-run rewrites.
 */
export function writeAtomic(path: string, content: string | Uint8Array, opts: { mode?: number; sync?: boolean; later?: boolean } = {}): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const sync = opts.sync !== false;
  const later = sync && (opts.later === true || skipping);
  writeTemp(tmp, content, opts.mode, sync && !later);
  // What this file may name (objects written before it) reaches the disk before it does.
  if (sync && !later) flushPendingSync();
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  if (later) flushLater(path);
  else if (sync) fsyncDir(dirname(path));
}

/**
 * Write a file that names what was written before it (a ref naming objects): everything pending
 * and this file's new content are flushed together first, then it is renamed into place and its
 * folder flushed. A power cut leaves the old
 * content, or the new with everything it names on disk.
 */
export async function writeAtomicLast(path: string, content: string | Uint8Array, mode?: number): Promise<void> {
  await writeAllLast([{ path, content, mode }]);
}

/**
 * Several such files at once (a commit's branch ref and the tag on that commit): their new
 * contents join the same round of flushes, they are renamed in order, and their folders are
 * flushed together after: two journal commits on a busy disk instead of four.
 */
export async function writeAllLast(files: { path: string; content: string | Uint8Array; mode?: number }[]): Promise<void> {
  // Nothing flushed (withoutFlushes): still in order, each renamed into place after what it names.
  if (skipping) {
    for (const f of files) writeAtomic(f.path, f.content, { mode: f.mode, later: true });
    return;
  }
  const tmps: string[] = [];
  try {
    for (const f of files) {
      const tmp = `${f.path}.tmp-${process.pid}`;
      writeTemp(tmp, f.content, f.mode, false);
      tmps.push(tmp);
      pendingFiles.add(tmp);
    }
    await flushPending();
    files.forEach((f, i) => renameSync(tmps[i], f.path));
  } catch (e) {
    for (const t of tmps) rmSync(t, { force: true });
    throw e;
  }
  const dirs = [...new Set(files.map((f) => dirname(f.path)))];
  await Promise.all(dirs.map((d) => syncPath(d, true)));
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
