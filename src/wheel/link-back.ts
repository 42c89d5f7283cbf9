/**
 * Stored packages linked back into a venv (undo, redo, restore, clean), with the same safety as
 * an install from a wheel (issue 17, row 1): the batch is named in the install journal before the
 * first link, each package's files come first, its dist-info after them and RECORD last, so a
 * kill, Ctrl-C or full disk in between never leaves a dist-info with RECORD that lacks files; a
 * failure takes out what it linked (rollback then removes the whole packages), and a killed run's
 * leftovers are swept by the next command (install-journal.ts).
 */
import { chmodSync, copyFileSync, linkSync, lstatSync, readFileSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { replaceViaTemp, writeAtomic } from '../fs/durable.js';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { testFail, testPause } from '../debug/faults.js';
import { dropJournal, undoJournal, writeJournal, type JournalEntry } from './install-journal.js';
import { ensureDir, forgetDirs } from './fsutil.js';
import { entryPath, followRewritten, storedFiles, type StoreDirs, type StoredPackage } from './package-store.js';
import { formatRecord, parseRecord, type RecordRow } from './record.js';

const EMPTY_SHA = '47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU';

/** Errors that mean this venv's files cannot be links of the store's (another filesystem, ...). */
const NO_LINKS = new Set(['EXDEV', 'EPERM', 'EACCES', 'ENOTSUP', 'EROFS', 'ENOSPC']);

export interface LinkBack {
  entry: StoredPackage;
  /** Write REQUESTED (true) or leave it out (false), whatever the stored copy had. */
  requested: boolean;
}

export interface LinkBackOptions {
  /** Before each package: throws to stop the batch (Ctrl-C); what was linked so far stays whole. */
  check?(): void;
  /** Progress: a package starts, every few hundred of its files, a package is whole. */
  start?(e: StoredPackage): void;
  tick?(e: StoredPackage, files: number): void;
  done?(e: StoredPackage): void;
}

/**
 * Link checked entries' files into the venv (their old versions are gone: the caller removed
 * them). Where links fail (a venv on another filesystem) files are copied with their mode and
 * mtime, so the .pyc files stay valid for their sources. On any failure the packages not
 * finished (no RECORD yet) are taken out whole, then the error is thrown.
 */
export async function linkBack(dirs: StoreDirs, venv: string, batch: LinkBack[], opts: LinkBackOptions = {}): Promise<void> {
  if (!batch.length) return;
  const root = resolve(venv);
  // Small: the files are named by the stored index, not listed (torch has 21,000).
  const journal: JournalEntry[] = batch.map(({ entry: e }) => ({ distInfo: join(root, e.info), files: [], stored: entryPath(dirs, e.key, e.version) }));
  const journalFile = writeJournal(root, journal);
  const links = { copy: false };
  forgetDirs(); // folders an uninstall just removed must be made again
  try {
    for (const item of batch) {
      opts.check?.();
      await linkOne(dirs, root, item, links, opts);
    }
  } catch (e) {
    undoJournal(root, journal);
    dropJournal(journalFile);
    throw e;
  }
  dropJournal(journalFile);
}

async function linkOne(dirs: StoreDirs, root: string, { entry: e, requested }: LinkBack, links: { copy: boolean }, opts: LinkBackOptions): Promise<void> {
  const infoPrefix = e.info + sep;
  const recordRel = join(e.info, 'RECORD');
  const requestedRel = join(e.info, 'REQUESTED');
  let record: string | undefined;
  const pkg: [string, string][] = [];
  const info: [string, string][] = [];
  for (const [path, name] of e.files) {
    if (path === recordRel) record = name;
    else if (path === requestedRel && !requested) continue;
    else (path.startsWith(infoPrefix) ? info : pkg).push([path, name]);
  }
  const hadRequested = e.files.some(([p]) => p === requestedRel);
  let n = 0;
  opts.start?.(e);
  // Store names are bare file names and stored paths venv-relative and normalized: joined by
  // hand, as path.join per file costs ~10% of linking torch's 14,622 files back.
  const stored = storedFiles(dirs, e);
  const venv = join(root, sep);
  // The package's files, then its dist-info: until RECORD is there, nothing reads it as installed.
  for (const [path, name] of [...pkg, ...info]) {
    put(stored(name), venv + path, links);
    if (++n % 500 === 0) opts.tick?.(e, n);
  }
  if (requested && !hadRequested) writeNew(join(root, requestedRel), '');
  await testPause('install');
  const recordPath = join(root, recordRel);
  testFail('install', recordPath);
  if (record === undefined) throw new Error(`the stored ${e.name} ${e.version} has no RECORD`);
  if (requested === hadRequested) put(stored(record), recordPath, links, true);
  else {
    // The stored RECORD lists REQUESTED or not: rewritten as a new file (the stored copy stays as it was).
    const req = relative(dirname(join(root, e.info)), join(root, requestedRel))
      .split(sep)
      .join('/');
    const rows = parseRecord(readFileSync(stored(record), 'utf8')).filter((r) => r[0] !== req) as RecordRow[];
    if (requested) rows.push([req, `sha256=${EMPTY_SHA}`, '0']);
    writeAtomic(recordPath, formatRecord(rows), { sync: false });
    // The index follows: this install stays the stored copy (no re-store, no re-check).
    followRewritten(dirs, e, root, [{ path: recordRel, sha: '' }, ...(requested ? [{ path: requestedRel, sha: EMPTY_SHA }] : [])], requested ? [] : [requestedRel]);
  }
  opts.done?.(e);
}

/** A link of the stored copy, else a copy (`whole`: appears at once, by rename: RECORD). */
function put(from: string, dest: string, links: { copy: boolean }, whole = false): void {
  if (!ensureDir(dirname(dest))) removeFile(dest);
  if (!links.copy) {
    try {
      linkSync(from, dest);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (!NO_LINKS.has(code) && code !== 'EMLINK') throw err;
      links.copy = code !== 'EMLINK';
    }
  }
  if (!whole) return copyBack(from, dest);
  replaceViaTemp(dest, (tmp) => copyBack(from, tmp));
}

function copyBack(from: string, dest: string): void {
  const st = statSync(from);
  copyFileSync(from, dest);
  chmodSync(dest, st.mode & 0o7777);
  utimesSync(dest, st.atime, st.mtime);
}

function writeNew(path: string, text: string): void {
  removeFile(path);
  writeFileSync(path, text, { flag: 'wx' });
}

function removeFile(path: string): void {
  try {
    if (!lstatSync(path).isDirectory()) unlinkSync(path);
  } catch {
    // absent
  }
}
