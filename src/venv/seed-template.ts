/**
 * pip and setuptools as installed, kept once per user (`~/.cache/pyctl/seed/<key>`), so a new
 * venv links them instead of writing ~1,470 new files (sources and .pyc). On ext4 a new inode
 * costs 0.02-1 ms and a link ~0.02 ms: creating those files was most of `pyctl init`, and the
 * home's own link store cannot help a new home. uv links from its cache the same way.
 *
 * The key is the wheels' sha256 and the interpreter (its real path and full version: the .pyc
 * magic and the venv layout follow from it) and the umask (the files' modes). What depends on
 * the venv's path is made per venv: the console scripts (their #! names the venv's python) and
 * RECORD (it hashes them). A .pyc's header names its source's mtime; a linked source keeps it,
 * so the linked .pyc stays valid.
 *
 * The template's files are the first venv's own files (linked, not copied). A link shares the
 * inode, so the rule of the home's link store applies: before each use every file's size,
 * mtime and mode are checked against the manifest (as git's index does); one edited in place
 * through any venv makes the template stale, and it is dropped and made again from a fresh
 * install. pip itself never writes into an installed file (an upgrade or uninstall removes
 * files and writes new ones), so pip runs in a venv leave the template as it was. Another
 * filesystem (EXDEV) or a folder that refuses links means no template: the venv is written as
 * before.
 */
import type { Skeleton } from './skeleton.js';
import { createHash } from 'node:crypto';
import { linkSync, lstatSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { userCache } from '../paths.js';
import { replaceViaTemp } from '../fs/durable.js';
import { forgetDirs, umask } from '../wheel/fsutil.js';
import { dropJournal, undoJournal, writeJournal, type JournalEntry } from '../wheel/install-journal.js';
import type { InstalledDist } from '../wheel/install.js';
import { LinkStore } from '../wheel/link-store.js';
import type { SharedFiles } from '../wheel/package-store.js';
import { formatRecordInOrder, parseRecord, recordHash } from '../wheel/record.js';
import { consoleScriptSpecs, makeScript, parseEntryPoints } from '../wheel/scripts.js';

/**
 * What a template holds (manifest.json), venv-relative so any venv of that interpreter can use
 * it. Few, long strings: JSON.parse of one object per file cost ~40 ms on a loaded machine.
 */
interface Manifest {
  v: 2;
  /** The template's files, one per inode: `<sha256 hex>.<mode>` (`<hex>-<k>.<mode>` for equal bytes in another inode). */
  names: string[];
  /** [size, mtime ms] of each name, flattened: checked before every use. */
  stat: number[];
  /** Folders to make, parents first. */
  dirs: string[];
  dists: ManifestDist[];
}

interface ManifestDist {
  name: string;
  version: string;
  /** The .dist-info folder and the folder RECORD's paths are relative to (site-packages). */
  info: string;
  lib: string;
  /** One line per file: `<index into names> <path under lib>`. */
  files: string;
  /** RECORD as installed; each console script's row is \0<k>\0, made per venv. */
  record: string;
  /** [RECORD path, script name, entry point] of each console script, k in order. */
  scripts: [string, string, string][];
}

export interface InterpreterId {
  /** os.path.realpath(sys.executable) of the base Python, and its sys.version. */
  real: string;
  version: string;
}

export function defaultSeedCache(env: NodeJS.ProcessEnv = process.env): string {
  return join(userCache(env), 'seed');
}

/** The template's name: every input that changes an installed file's bytes or mode. */
export function seedKey(cacheDir: string, wheels: string[], py: InterpreterId): string {
  const h = createHash('sha256').update(`pyctl-seed 2\0${py.real}\0${py.version}\0${umask()}\0`);
  for (const w of wheels.map((p) => wheelSha256(cacheDir, p)).sort()) h.update(`${w}\0`);
  return h.digest('hex').slice(0, 32);
}

/**
 * A wheel's sha256, remembered by path and stat (as git's index trusts an unchanged stat):
 * hashing pip and setuptools (3 MB) cost every init 10-30 ms.
 */
function wheelSha256(cacheDir: string, path: string): string {
  const file = join(cacheDir, 'wheels.json');
  let known: Record<string, string> = {};
  try {
    known = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  } catch {
    // none yet
  }
  const st = statSync(path);
  const id = [resolve(path), st.size, st.mtimeMs, st.ino, st.dev].join('\0');
  if (typeof known[id] === 'string') return known[id];
  const sha = createHash('sha256').update(readFileSync(path)).digest('hex');
  try {
    mkdirSync(cacheDir, { recursive: true });
    known[id] = sha;
    // Bounded: wheels come and go (a new pip in the wheelhouse); the newest 64 are plenty.
    const keep = Object.fromEntries(Object.entries(known).slice(-64));
    replaceViaTemp(file, (tmp) => writeFileSync(tmp, JSON.stringify(keep)));
  } catch {
    // only a cache
  }
  return sha;
}

/** A venv's pip and setuptools linked from a template, and which of its files the template holds. */
export interface LinkedSeed {
  dists: InstalledDist[];
  /** The template's files by venv path, with the stat just checked: the record names them there (wheel/package-store.ts). */
  shared: SharedFiles;
}

/**
 * Put the template's pip and setuptools into a venv made by `-m venv --without-pip`: folders,
 * links, the console scripts and RECORD. Null when there is no usable template (none yet, a
 * file changed since, links refused): nothing is left in the venv and the caller installs as
 * usual. `exe`: the venv's python, as pip would put it in the scripts' #! lines.
 */
export function linkSeed(cacheDir: string, key: string, venv: string, exe: string, store?: string): LinkedSeed | null {
  const dir = join(cacheDir, key);
  let m: Manifest;
  try {
    m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
    if (m.v !== 2 || !m.names.length) return null;
  } catch {
    return null;
  }
  // Paths by concatenation: every part is already normal (path.join's normalizing of ~4,600
  // paths was ~15% of linkSeed's CPU; beside a disk writer CPU is as short as the disk).
  const base = resolve(dir);
  const from = m.names.map((n) => `${base}/${n}`);
  const modes: number[] = [];
  for (let i = 0; i < m.names.length; i++) {
    let ok = false;
    try {
      const st = lstatSync(from[i]);
      const mode = parseInt(m.names[i].slice(m.names[i].lastIndexOf('.') + 1), 8); // a chmod through a link changes it too
      modes.push(mode);
      ok = st.isFile() && st.size === m.stat[2 * i] && st.mtimeMs === m.stat[2 * i + 1] && (st.mode & 0o7777) === mode;
    } catch {
      // gone
    }
    if (!ok) {
      dropTemplate(dir); // edited through a venv's link, or damaged: made again after this install
      return null;
    }
  }
  const root = resolve(venv);
  const shared: SharedFiles = { dir: base, files: new Map() };
  const dists = m.dists.map((d) => {
    const lib = join(root, d.lib);
    const files = (d.files ? d.files.split('\n') : []).map((l) => {
      const sp = l.indexOf(' ');
      const i = Number(l.slice(0, sp));
      const rel = l.slice(sp + 1);
      // venv-relative, normalized as the store's index writes it (a path leaving lib: joined).
      const out = rel.startsWith('.');
      shared.files.set(out ? join(d.lib, rel) : `${d.lib}/${rel}`, [m.names[i], m.stat[2 * i], m.stat[2 * i + 1], modes[i]]);
      return [from[i], out ? join(lib, rel) : `${lib}/${rel}`] as const;
    });
    const scripts = d.scripts.map(([path, n, v]) => ({ path, dest: resolve(lib, path), ...makeScript(n, v, exe) }));
    return { d, lib, files, scripts };
  });
  // Links refused here (another filesystem, a link limit)? Found out before anything is made.
  const probe = join(root, `.pyctl-seed-${process.pid}`);
  try {
    linkSync(from[0], probe);
    rmSync(probe);
  } catch {
    return null;
  }
  // Named before the first link, as the installer does: a failure or a crash is undone whole.
  const journal: JournalEntry[] = dists.map(({ d, files, scripts }) => ({ distInfo: join(root, d.info), files: [...files.map((f) => f[1]), ...scripts.map((s) => s.dest)] }));
  const journalFile = writeJournal(root, journal);
  try {
    for (const d of m.dirs) {
      try {
        mkdirSync(join(root, d));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    }
    for (const { files } of dists) for (const [from, to] of files) linkSync(from, to);
    // What depends on this venv's path, written as the installer writes it (kept in the home's store too).
    forgetDirs(); // folders remembered from an earlier venv at this path (clean) are gone
    const store_ = new LinkStore(store);
    const done: InstalledDist[] = [];
    for (const { d, scripts } of dists) {
      for (const s of scripts) store_.put(s.dest, s.text, (0o666 & ~umask()) | 0o555);
      const record = d.record.replace(/\0(\d+)\0/g, (_, k: string) => {
        const s = scripts[Number(k)];
        return formatRecordInOrder([[s.path, recordHash(s.text), String(s.text.length)]]).slice(0, -1);
      });
      store_.put(join(root, d.info, 'RECORD'), Buffer.from(record), 0o666 & ~umask());
      done.push({ name: d.name, version: d.version, distInfo: join(root, d.info) });
    }
    dropJournal(journalFile);
    return { dists: done, shared };
  } catch {
    // Take out what was made; the caller installs as usual.
    undoJournal(root, journal);
    dropJournal(journalFile);
    return null;
  }
}

/**
 * Keep a fresh install of these distributions as the template `key`: their files are linked (not
 * copied) into a new folder, published by one rename. Best effort: a cache that cannot be
 * written only costs the next venv the full install.
 */
export function saveSeed(cacheDir: string, key: string, venv: string, installed: InstalledDist[], pyXY: string): void {
  const dir = join(cacheDir, key);
  const tmp = `${dir}.tmp-${process.pid}`;
  try {
    const root = resolve(venv);
    const inVenv = (p: string) => {
      const r = relative(root, p);
      if (r.startsWith('..') || r.startsWith(sep)) throw new Error(`outside the venv: ${p}`);
      return r;
    };
    const m: Manifest = { v: 2, names: [], stat: [], dirs: [], dists: [] };
    const index = new Map<string, number>();
    const names = new Set<string>();
    const dirs = new Set<string>();
    mkdirSync(tmp, { recursive: true });
    for (const d of installed) {
      const lib = dirname(d.distInfo);
      const eps = parseEntryPoints(readText(join(d.distInfo, 'entry_points.txt')));
      const specs = [...consoleScriptSpecs(eps.console, pyXY), ...eps.gui];
      const byFile = new Map(specs.map(([n, v]) => [join(root, 'bin', makeScript(n, v, '/x').file), [n, v] as const]));
      const md: ManifestDist = { name: d.name, version: d.version, info: inVenv(d.distInfo), lib: inVenv(lib), files: '', record: '', scripts: [] };
      const files: string[] = [];
      const lines = readFileSync(join(d.distInfo, 'RECORD'), 'utf8').split('\r\n');
      for (const [k, line] of lines.entries()) {
        if (!line) continue;
        const row = parseRecord(line)[0];
        const abs = resolve(lib, row[0]);
        if (abs === join(d.distInfo, 'RECORD')) continue;
        const script = byFile.get(abs);
        if (script) {
          lines[k] = `\0${md.scripts.length}\0`;
          md.scripts.push([row[0], script[0], script[1]]);
          continue;
        }
        let st;
        try {
          st = lstatSync(abs);
        } catch {
          if (row[0].split('/')[0].endsWith('.data')) continue; // pip keeps rows of wrappers it skipped
          throw new Error(`missing: ${abs}`);
        }
        if (!st.isFile()) throw new Error(`not a file: ${abs}`);
        // One template file per inode, not per content: two equal sources written at different
        // times each have a .pyc naming their own mtime, so they must keep their own.
        let at = index.get(`${st.dev}:${st.ino}`);
        if (at === undefined) {
          const hex = createHash('sha256').update(readFileSync(abs)).digest('hex');
          const mode = (st.mode & 0o7777).toString(8);
          let name = `${hex}.${mode}`;
          for (let k = 1; names.has(name); k++) name = `${hex}-${k}.${mode}`;
          linkSync(abs, join(tmp, name));
          names.add(name);
          at = m.names.push(name) - 1;
          m.stat.push(st.size, st.mtimeMs);
          index.set(`${st.dev}:${st.ino}`, at);
        }
        files.push(`${at} ${relative(lib, abs)}`);
        for (let p = dirname(inVenv(abs)); p !== '.' && !dirs.has(p); p = dirname(p)) dirs.add(p);
      }
      md.files = files.join('\n');
      md.record = lines.join('\r\n');
      m.dists.push(md);
    }
    if (!m.names.length) throw new Error('nothing to keep');
    m.dirs = [...dirs].sort();
    writeFileSync(join(tmp, 'manifest.json'), JSON.stringify(m));
    dropTemplate(dir); // a stale one, if any
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * What the venv helper answered for this Python last time (its wheels, their template, the
 * scripts' python), remembered by the interpreter's path and stat: with it the links are made
 * while Python creates the venv (~100 ms each, overlapped). The helper's real answer is checked
 * after; a wrong guess is taken out again.
 */
export interface SeedHint {
  key: string;
  /** The base python's file name in bin/ (the scripts' #!). */
  exe: string;
  /** site-packages, venv-relative: made before the helper starts, so the two never race to make it. */
  lib: string;
  /** The interpreter's answers (venv/create.ts HELPER): the next venv is made without asking again. */
  info?: { wheels: string[] | null; version: string; real: string; sysVersion: string };
  /** The venv's own files as this interpreter's venv module writes them (skeleton.ts). */
  skeleton?: Skeleton;
}

function hintId(python: string): string | null {
  try {
    const st = statSync(python);
    // What else changes its answers: the helper runs without -I, as the user's Python does.
    const env = [process.env.PYTHONPATH ?? '', process.env.PYTHONHOME ?? ''];
    return [resolve(python), st.size, st.mtimeMs, st.ino, st.dev, ...env].join('\0');
  } catch {
    return null;
  }
}

export function readHint(cacheDir: string, python: string): SeedHint | null {
  const id = hintId(python);
  try {
    const h = (JSON.parse(readFileSync(join(cacheDir, 'hints.json'), 'utf8')) as Record<string, SeedHint>)[id ?? ''];
    return h && typeof h.key === 'string' && typeof h.exe === 'string' && typeof h.lib === 'string' && typeof h.info?.version === 'string' ? h : null;
  } catch {
    return null;
  }
}

export function writeHint(cacheDir: string, python: string, hint: SeedHint): void {
  const id = hintId(python);
  const file = join(cacheDir, 'hints.json');
  if (!id) return;
  try {
    let all: Record<string, SeedHint> = {};
    try {
      all = JSON.parse(readFileSync(file, 'utf8')) as Record<string, SeedHint>;
    } catch {
      // none yet
    }
    delete all[id];
    all[id] = hint;
    mkdirSync(cacheDir, { recursive: true });
    replaceViaTemp(file, (tmp) => writeFileSync(tmp, JSON.stringify(Object.fromEntries(Object.entries(all).slice(-32)))));
  } catch {
    // only a cache
  }
}

/** Out of the way in one rename (another init may be reading it), then removed. */
function dropTemplate(dir: string): void {
  const old = `${dir}.old-${process.pid}`;
  try {
    renameSync(dir, old);
  } catch {
    return;
  }
  rmSync(old, { recursive: true, force: true });
}

function readText(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}
