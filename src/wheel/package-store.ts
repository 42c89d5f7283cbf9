/**
 * Stored packages: every version the venv has held, kept as hard links of the very files the
 * installer wrote (pip or pyctl's own), in the link store's folder (.git/pyctl/files), with one
 * small index per version (.git/pyctl/packages/<name>==<version>.json) made from the
 * dist-info's RECORD. Recording torch (21,000 files, 0.9 GB) costs 21,000 links (~0.3-0.6 s)
 * instead of a compressed wheel (17 s); undo and redo link the files back, .pyc included, so
 * nothing is unpacked or compiled again (wheel/link-back.ts). uv installs from its cache the same way.
 *
 * A link shares the inode with the venv's file, so an edit in place through the venv edits the
 * stored copy too. Such a copy must never come back as the original. As git's index does, each
 * file's size, mtime and mode are kept when it is linked; a file whose stat still matches is
 * trusted, one that differs is read and compared with RECORD's sha256 (and refused when it does
 * not match, or has no hash: .pyc, RECORD itself). `pyctl doctor` hashes every stored file.
 *
 * Store file names: `<sha256 hex>.<mode>` for files RECORD hashes (the same names the native
 * installer's LinkStore uses, so both share copies), `i<inode>-<mtime>.<mode>` for the others.
 * A name starting with `@` is a file of the entry's `shared` folder instead: the per-user seed
 * template (venv/seed-template.ts) already holds pip's and setuptools' files as links of the
 * very files `pyctl init` linked into the venv, so operation 0 names them there rather than
 * linking ~1,470 files again into the home (each link a metadata write that, on a busy disk,
 * waits on the same journal as everyone else's). The same stat-then-sha256 rule applies to
 * them; a template dropped since (stale, or the cache deleted) makes the entry unusable, and
 * undo/restore install that version from the wheelhouse's wheel instead (init kept it there).
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, statSync, unlinkSync, writeFileSync, type Stats } from 'node:fs';
import { replaceViaTemp } from '../fs/durable.js';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Installed } from '../venv/freeze.js';
import { canonicalName } from '../packaging/names.js';
import { parseRecord } from './record.js';
import { dropUnused, unmovedPrelinks, type Prelinked } from './prelink.js';
import { inodeName, storeName } from './store-names.js';

/** One stored file: venv-relative path, store name, size, mtime (ms), mode, RECORD sha256 (base64url) or ''. */
export type StoredFile = [path: string, name: string, size: number, mtimeMs: number, mode: number, sha256: string];

export interface StoredPackage {
  v: 1;
  name: string;
  key: string;
  version: string;
  /** The freeze line it was installed as (a direct URL brings its direct_url.json). */
  line: string;
  /** The venv it was installed into (scripts' #! lines name its python) and that venv's Python X.Y. */
  venv: string;
  python: string;
  /** The dist-info's WHEEL `Tag:` lines: which interpreters the files suit (PEP 425). */
  tags: string[];
  /** The .dist-info folder, venv-relative. */
  info: string;
  files: StoredFile[];
  /** pip installed it from a local file (a path, find-links or a file:// index): where and which. */
  origin?: { path: string; size: number; mtimeMs: number; sha256?: string };
  /** The folder (absolute) that holds the files named `@<name>`: the seed template they were linked from. */
  shared?: string;
}

export interface StoreDirs {
  /** The file store (paths.store). */
  files: string;
  /** The index folder (paths.packages). */
  packages: string;
}

/** Marks a file name of the entry's `shared` folder. */
const SHARED = '@';

/**
 * Where an entry's files are: `at(name)` is the stored file's path. Store names are bare file
 * names, joined by hand (path.join per file cost ~10% of linking torch's 14,622 files back).
 */
export function storedFiles(dirs: StoreDirs, e: StoredPackage): (name: string) => string {
  const base = join(dirs.files, sep);
  const shared = e.shared ? join(e.shared, sep) : null;
  return (name) => (name.startsWith(SHARED) ? (shared ?? base) + name.slice(1) : base + name);
}

/**
 * Files of the venv that another folder already holds as links of these very inodes (the seed
 * template init just linked pip and setuptools from, checked by stat just before): a stored
 * entry names them there, with the stat the check saw, instead of linking each again.
 */
export interface SharedFiles {
  dir: string;
  /** venv-relative path (normalized) -> [file name in dir, size, mtime ms, mode]. */
  files: Map<string, [name: string, size: number, mtimeMs: number, mode: number]>;
}

export function entryPath(dirs: StoreDirs, key: string, version: string): string {
  return join(dirs.packages, `${encodeURIComponent(canonicalName(key))}==${encodeURIComponent(version)}.json`);
}

/**
 * Entries read by this process, while their file is unchanged (inode, size, mtime): torch's is
 * 3 MB of JSON (~0.1-0.25 s to parse), and a redo reads it to find its source and again when
 * the record checks what arrived.
 */
const readCache = new Map<string, { ino: number; size: number; mtimeMs: number; entry: StoredPackage }>();

export function readStored(dirs: StoreDirs, key: string, version: string): StoredPackage | null {
  const path = entryPath(dirs, key, version);
  try {
    const st = statSync(path);
    const hit = readCache.get(path);
    if (hit && hit.ino === st.ino && hit.size === st.size && hit.mtimeMs === st.mtimeMs) return hit.entry;
    const e = JSON.parse(readFileSync(path, 'utf8')) as StoredPackage;
    if (e.v !== 1 || !Array.isArray(e.files)) return null;
    readCache.set(path, { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, entry: e });
    return e;
  } catch {
    return null;
  }
}

function writeStored(dirs: StoreDirs, e: StoredPackage): void {
  mkdirSync(dirs.packages, { recursive: true });
  const path = entryPath(dirs, e.key, e.version);
  readCache.delete(path);
  replaceViaTemp(path, (tmp) => writeFileSync(tmp, JSON.stringify(e)));
  // The record after pip asks for the entries its early keeper just wrote (isStoredInstall):
  // not parsed again (pandas' index is ~0.5 MB of JSON). Shared as readStored shares its entries.
  const st = statOr(path);
  if (st) readCache.set(path, { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, entry: e });
}

/** The index folder's entries (none before anything was stored). */
function indexNames(dirs: StoreDirs): string[] {
  try {
    return readdirSync(dirs.packages);
  } catch {
    return [];
  }
}

/**
 * The stored versions of one package (a freeze line with a direct URL names no version, so
 * undo/redo of `pip install ./torch-….whl` looks its stored copy up this way): one readdir of
 * the index folder, and one read per version of that package.
 */
export function storedVersions(dirs: StoreDirs, key: string): StoredPackage[] {
  const prefix = `${encodeURIComponent(canonicalName(key))}==`;
  const out: StoredPackage[] = [];
  for (const n of indexNames(dirs)) {
    if (!n.startsWith(prefix) || !n.endsWith('.json')) continue;
    const e = readStored(dirs, key, decodeURIComponent(n.slice(prefix.length, -5)));
    if (e) out.push(e);
  }
  return out;
}

/** Every stored package (for prune, doctor and `pyctl wheelhouse`). */
export function listStored(dirs: StoreDirs): StoredPackage[] {
  const out: StoredPackage[] = [];
  for (const n of indexNames(dirs)) {
    if (!n.endsWith('.json')) continue;
    try {
      out.push(JSON.parse(readFileSync(join(dirs.packages, n), 'utf8')) as StoredPackage);
    } catch {
      // half-written by a killed process: ignored, rewritten by the next record
    }
  }
  return out;
}

export function removeStored(dirs: StoreDirs, e: StoredPackage): void {
  readCache.delete(entryPath(dirs, e.key, e.version));
  try {
    unlinkSync(entryPath(dirs, e.key, e.version));
  } catch {
    // gone
  }
}

function hashOfRow(h: string | undefined): string {
  return h && h.startsWith('sha256=') ? h.slice(7) : '';
}

/** A RECORD path that needs resolve(): absolute, `.`/`..` segments, doubled or trailing slashes, backslashes. */
export const ODD_PATH = /^\/|\/\/|\\|(?:^|\/)\.\.?(?:\/|$)|\/$/;

/** Errors that mean the store cannot hold links of this venv's files at all. */
const NO_LINKS = new Set(['EXDEV', 'EPERM', 'EACCES', 'ENOTSUP', 'EROFS', 'ENOSPC']);

export interface StoreOptions {
  /** The files were just written by the installer: their content is what RECORD says. Otherwise each hashed file is read and checked first. */
  trusted: boolean;
  /** Where pip got the file from, when it is a local file (kept as a reference). */
  origin?: StoredPackage['origin'];
  /** Called every few hundred files (progress). */
  tick?(files: number): void;
  /** Files already kept elsewhere as links of these (trusted runs only: their stat was just checked). */
  shared?: SharedFiles;
  /** Files linked into the store while the installer still ran (wheel/prelink.ts; trusted runs only). */
  prelinked?: Prelinked;
}

/**
 * Put an installed distribution's files into the store as hard links and write its index.
 * Returns the entry, or null when it cannot be stored: the venv is on another filesystem than
 * the home (EXDEV), a file RECORD lists is missing or lies outside the venv, or (untrusted) a
 * file no longer matches RECORD. The caller then keeps a wheel instead.
 */
export function storePackage(dirs: StoreDirs, venv: string, d: Installed, python: string, opts: StoreOptions): StoredPackage | null {
  const site = dirname(d.infoPath);
  let rows: string[][];
  let tags: string[];
  try {
    rows = parseRecord(readFileSync(join(d.infoPath, 'RECORD'), 'utf8'));
    tags = readFileSync(join(d.infoPath, 'WHEEL'), 'utf8')
      .split(/\r?\n/)
      .filter((l) => /^Tag:/i.test(l))
      .map((l) => l.slice(4).trim());
  } catch {
    return null;
  }
  const root = resolve(venv);
  const files: StoredFile[] = [];
  const seen = new Set<string>();
  const linkedNow = new Set<string>();
  try {
    mkdirSync(dirs.files, { recursive: true });
  } catch {
    return null;
  }
  // Paths are joined by hand for the common row (numpy and pandas: ~4,500): resolve() and
  // relative() per row were a third of the record's CPU, in garbage mostly.
  const siteRel = relative(root, site);
  const fast = site === resolve(site) && !!siteRel && !siteRel.startsWith('..') && !siteRel.startsWith(sep);
  const base = join(dirs.files, sep);
  const shared = opts.trusted ? opts.shared : undefined;
  // Files linked while the installer ran: those whose stat has not moved since are this very
  // inode under this very name (checked below), so they cost an lstat here and no link.
  const pre = opts.trusted && opts.prelinked ? unmovedPrelinks(opts.prelinked, root, base) : new Map<string, Stats>();
  for (const inVenv of pre.keys()) linkedNow.add(opts.prelinked!.get(inVenv)!.name);
  let usedShared = false;
  let n = 0;
  for (const row of rows) {
    const rp = row[0];
    if (!rp) continue;
    let abs: string;
    let inVenv: string;
    if (fast && !ODD_PATH.test(rp)) {
      abs = `${site}/${rp}`;
      inVenv = `${siteRel}/${rp}`;
    } else {
      abs = resolve(site, rp);
      inVenv = relative(root, abs);
      if (inVenv.startsWith('..') || inVenv.startsWith(sep)) return null;
    }
    if (seen.has(inVenv)) continue;
    seen.add(inVenv);
    const sh = shared?.files.get(inVenv);
    if (sh) {
      // No lstat, no link: the template's file is this very inode, its stat checked moments ago.
      files.push([inVenv, SHARED + sh[0], sh[1], sh[2], sh[3], hashOfRow(row[1])]);
      usedShared = true;
      if (++n % 500 === 0) opts.tick?.(500);
      continue;
    }
    const early = pre.get(inVenv);
    if (early) {
      // Linked under the name this row gives it: the same hash (a .pyc: none, and its inode name).
      const e = opts.prelinked!.get(inVenv)!;
      if (e.sha === hashOfRow(row[1])) {
        files.push([inVenv, e.name, early.size, early.mtimeMs, e.mode, e.sha]);
        if (++n % 500 === 0) opts.tick?.(500);
        continue;
      }
    }
    const st = early ?? lstatSync(abs, { throwIfNoEntry: false });
    if (!st) {
      // pip keeps rows of .data/scripts wrappers it skipped, untranslated and not on disk.
      if (rp.split('/')[0].endsWith('.data')) continue;
      return null;
    }
    if (!st.isFile()) continue;
    const mode = st.mode & 0o7777;
    const sha = hashOfRow(row[1]);
    if (sha && !opts.trusted && createHash('sha256').update(readFileSync(abs)).digest('base64url') !== sha) return null;
    let name = storeName(sha, st, mode);
    const at = base + name;
    let stored = st;
    try {
      linkSync(abs, at);
      linkedNow.add(name);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      if (NO_LINKS.has(code)) return null;
      if (code === 'EMLINK') {
        // ext4 allows 65,000 links: an empty __init__.py shared by many packages gets its own name.
        name = inodeName(st, mode);
        try {
          linkSync(abs, join(dirs.files, name));
        } catch (e2) {
          if ((e2 as NodeJS.ErrnoException).code !== 'EEXIST') return null;
        }
      } else if (code !== 'EEXIST') return null;
      else {
        const cur = statOr(at);
        // Already this file (a re-record), or a copy linked moments ago in this batch (an empty
        // __init__.py seen twice): both are what the installer wrote. Anything older is replaced
        // by the fresh file; entries that pointed at it re-check by hash when next used.
        if (!cur || (cur.ino !== st.ino && !linkedNow.has(name))) {
          // Beside it first, then over it: link(2) reports EEXIST before EXDEV, and a venv on
          // another filesystem must not cost the store its good copy.
          const tmp = `${at}.${process.pid}.tmp`;
          try {
            linkSync(abs, tmp);
            renameSync(tmp, at);
            linkedNow.add(name);
          } catch {
            try {
              unlinkSync(tmp);
            } catch {
              // not made
            }
            return null;
          }
        } else stored = cur;
      }
    }
    files.push([inVenv, name, stored.size, stored.mtimeMs, stored.mode & 0o7777, sha]);
    if (++n % 500 === 0) opts.tick?.(500);
  }
  opts.tick?.(n % 500);
  if (pre.size) dropUnused(opts.prelinked!, base, new Set(files.map((f) => f[1])));
  const entry: StoredPackage = {
    v: 1,
    name: d.name,
    key: d.key,
    version: d.version,
    line: d.line,
    venv: root,
    python,
    tags,
    info: relative(root, d.infoPath),
    files,
    ...(opts.origin ? { origin: opts.origin } : {}),
    ...(usedShared ? { shared: shared!.dir } : {}),
  };
  try {
    writeStored(dirs, entry);
  } catch {
    return null;
  }
  return entry;
}

/**
 * Link-back wrote some of a stored package's files anew (its RECORD, rewritten because
 * REQUESTED differs, and REQUESTED itself): the index follows the venv. Those files are linked
 * into the store under inode names and their rows replaced; rows of `dropped` paths go. So the
 * install stays this very stored copy (isStoredInstall), and the record after the redo does not
 * store its thousands of files again, nor an undo check them. Best effort: on any failure the
 * index stays as it was (the record then stores the install anew, as before).
 */
export function followRewritten(dirs: StoreDirs, e: StoredPackage, root: string, rewritten: { path: string; sha: string }[], dropped: string[]): void {
  const rows = new Map<string, StoredFile>();
  for (const { path, sha } of rewritten) {
    try {
      const st = lstatSync(join(root, path));
      const mode = st.mode & 0o7777;
      const name = inodeName(st, mode);
      try {
        linkSync(join(root, path), join(dirs.files, name));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || statOr(join(dirs.files, name))?.ino !== st.ino) return;
      }
      rows.set(path, [path, name, st.size, st.mtimeMs, mode, sha]);
    } catch {
      return;
    }
  }
  const files = e.files.filter((f) => !dropped.includes(f[0])).map((f) => rows.get(f[0]) ?? f);
  for (const [path, row] of rows) if (!e.files.some((f) => f[0] === path)) files.push(row);
  try {
    writeStored(dirs, { ...e, files });
  } catch {
    // the record stores the install anew
  }
}

/**
 * The stored package is this very install: its RECORD in the store is the venv's RECORD file
 * (one inode), so every file was linked from this install (2 stats, whatever the size).
 */
export function isStoredInstall(dirs: StoreDirs, d: Installed, root: string): boolean {
  const e = readStored(dirs, d.key, d.version);
  if (!e || e.line !== d.line || e.venv !== root) return false;
  const rec = e.files.find((f) => f[0] === join(e.info, 'RECORD'));
  const a = rec ? statOr(storedFiles(dirs, e)(rec[1])) : null;
  const b = statOr(join(d.infoPath, 'RECORD'));
  return !!a && !!b && a.ino === b.ino && a.dev === b.dev;
}

function statOr(p: string): Stats | null {
  try {
    return statSync(p, { throwIfNoEntry: false }) ?? null;
  } catch {
    return null;
  }
}

export interface CheckResult {
  ok: boolean;
  /** The first file that cannot be used, and why. */
  bad?: string;
  /** Files whose stat moved but whose content still matches RECORD (the entry is updated). */
  rechecked: number;
}

/**
 * Can this entry be linked back? A file whose size, mtime and mode match is trusted; one that
 * differs is hashed against RECORD (`full`: every file is hashed, as `pyctl doctor` does).
 * A changed mode is refused outright: the venv's file would get it too.
 */
export function checkStored(dirs: StoreDirs, e: StoredPackage, full = false): CheckResult {
  let rechecked = 0;
  // One stat per file of torch's 14,622: the folder is joined once, not per file.
  const fileAt = storedFiles(dirs, e);
  // A file listed twice the same way (pip's three console scripts) is read once.
  const passed = new Map<string, StoredFile>();
  for (const f of e.files) {
    const [path, name, size, mtimeMs, mode, sha] = f;
    const twin = passed.get(name);
    if (twin && twin[2] === size && twin[3] === mtimeMs && twin[4] === mode && twin[5] === sha) continue;
    const at = fileAt(name);
    // doctor reads every hashed file: open it and stat what was opened (one lookup, not two).
    const fd = full && sha ? openOr(at) : null;
    let st: Stats | null;
    try {
      st = fd !== null ? fstatSync(fd) : statOr(at);
      if (!st || !st.isFile()) return { ok: false, bad: `${path}: its stored copy is missing${name.startsWith(SHARED) ? ` (it was kept in the seed template ${e.shared})` : ''}`, rechecked };
      if ((st.mode & 0o7777) !== mode) return { ok: false, bad: `${path}: its mode changed (${(st.mode & 0o7777).toString(8)}, was ${mode.toString(8)})`, rechecked };
      if (!full && st.size === size && st.mtimeMs === mtimeMs) continue;
      if (!sha) {
        if (st.size === size && st.mtimeMs === mtimeMs) continue;
        return { ok: false, bad: `${path}: changed since it was stored (size or mtime), and RECORD has no hash to check it by`, rechecked };
      }
      if (sha256Of(fd ?? at) !== sha) return { ok: false, bad: `${path}: edited (its content no longer matches RECORD's sha256)`, rechecked };
    } finally {
      if (fd !== null) closeSync(fd);
    }
    passed.set(name, f);
    if (st.size !== size || st.mtimeMs !== mtimeMs) {
      f[2] = st.size;
      f[3] = st.mtimeMs;
      rechecked++;
    }
  }
  if (rechecked) {
    try {
      writeStored(dirs, e);
    } catch {
      // only saves the next check a read
    }
  }
  return { ok: true, rechecked };
}

/** An open file descriptor, or null when it cannot be opened (nonblocking: a FIFO put there never hangs the check). */
function openOr(p: string): number | null {
  try {
    return openSync(p, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return null;
  }
}

let chunk: Buffer | undefined;
/** sha256 (base64url, as RECORD has it) of a file or an open one, read through one reused buffer. */
function sha256Of(file: string | number): string {
  const fd = typeof file === 'number' ? file : openSync(file, 'r');
  try {
    chunk ??= Buffer.allocUnsafe(1 << 20);
    const h = createHash('sha256');
    for (let n; (n = readSync(fd, chunk, 0, chunk.length, null)) > 0;) h.update(chunk.subarray(0, n));
    return h.digest('base64url');
  } finally {
    if (typeof file !== 'number') closeSync(fd);
  }
}

/** Store file names the index still needs (what a sweep must keep; `@` names are not the store's). */
export function referencedNames(dirs: StoreDirs): Set<string> {
  const names = new Set<string>();
  for (const e of listStored(dirs)) for (const f of e.files) if (!f[1].startsWith(SHARED)) names.add(f[1]);
  return names;
}

/**
 * Bytes of the stored files no venv file links to any more: what only history needs. A file of
 * the seed template (`@`) counts when nothing else links it, but its bytes are the per-user
 * cache's, not the home's: the template holds them whether or not this home needs them.
 */
export function storedOnlyForHistory(dirs: StoreDirs, e: StoredPackage): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  const seen = new Set<string>();
  const fileAt = storedFiles(dirs, e);
  for (const f of e.files) {
    if (seen.has(f[1])) continue;
    seen.add(f[1]);
    const shared = f[1].startsWith(SHARED);
    const st = statOr(fileAt(f[1]));
    if (st && st.nlink <= 1) {
      files++;
      if (!shared) bytes += st.blocks * 512;
    }
  }
  return { files, bytes };
}
