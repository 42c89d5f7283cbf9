/**
 * Install wheels into a venv file for file as `pip install --no-deps` (pip 23.2) would,
 * without starting pip: unpack, map .data folders, write script wrappers, INSTALLER,
 * REQUESTED, direct_url.json and RECORD, and byte-compile with one interpreter per batch.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { replaceViaTemp } from '../fs/durable.js';
import { basename, dirname, isAbsolute, join, normalize, relative } from 'node:path';
import { PyctlError } from '../errors.js';
import { forgetDirs, pyJson, umask } from './fsutil.js';
import { LinkStore } from './link-store.js';
import { cachedPyc, pycCacheUsable, pycFromCache, storePyc } from './pyc-cache.js';
import { formatRecord, recordHash, type RecordRow } from './record.js';
import { consoleScriptSpecs, fixScript, makeScript, parseEntryPoints, type EntryPoints } from './scripts.js';
import { uninstallDist } from './uninstall.js';
import { dropJournal, undoJournal, writeJournal, type JournalEntry } from './install-journal.js';
import { testFail, testPause } from '../debug/faults.js';
import { VenvPython, type VenvScheme } from './venv-python.js';
import { openWheel, type WheelFile } from './wheel-file.js';
import { headerIn } from '../packaging/headers.js';
import { canonicalName } from '../packaging/names.js';

export interface InstallOptions {
  /** Write REQUESTED (the package was named by the user, not pulled in as a dependency). */
  requested?: boolean;
  /** PEP 610 direct_url.json content. */
  directUrl?: object;
}

export interface WheelRequest extends InstallOptions {
  path: string;
}

export interface BatchOptions {
  /** Interpreter to run (and put in shebangs, as pip uses its sys.executable). Default <venv>/bin/python. */
  python?: string;
  /** Folder for the content-addressed .pyc cache; omitted = always compile. */
  pycCache?: string;
  /** The home's LinkStore folder (on the venv's filesystem): files are hard-linked from it. */
  store?: string;
}

export interface InstalledDist {
  name: string;
  version: string;
  distInfo: string;
}

export async function installWheel(venv: string, wheelPath: string, opts: InstallOptions = {}, batch: BatchOptions = {}): Promise<InstalledDist> {
  return (await installWheels(venv, [{ path: wheelPath, ...opts }], batch))[0];
}

/** One planned file write. */
interface Write {
  src: string;
  dest: string;
  data: Uint8Array;
  executable: boolean;
  /** Content was changed from the wheel's (a fixed #!python script): RECORD gets a new hash. */
  changed: boolean;
}

interface Job {
  wheel: WheelFile;
  req: WheelRequest;
  libDir: string;
  entryPoints: EntryPoints;
  writes: Write[];
  /** pip's `installed`: wheel RECORD path -> installed RECORD path (relative to libDir). */
  installed: Map<string, string>;
  /** Installed RECORD path -> [hash, size] for changed files. */
  changed: Map<string, [string, string]>;
}

export async function installWheels(venv: string, wheels: (string | WheelRequest)[], batch: BatchOptions = {}): Promise<InstalledDist[]> {
  const reqs = wheels.map((w) => (typeof w === 'string' ? { path: w } : w));
  const python = batch.python ?? join(venv, 'bin', 'python');
  // The venv's scheme is remembered beside the .pyc cache; when every .pyc also comes from that
  // cache no interpreter starts at all. Otherwise start it first: it reports the scheme while we
  // read and verify the wheels.
  const known = batch.pycCache ? readSchemeCache(batch.pycCache, python, venv) : null;
  let py: VenvPython | undefined = known ? undefined : new VenvPython(python, venv);
  const interpreter = () => (py ??= new VenvPython(python, venv));
  try {
    const opened = reqs.map((r) => openWheel(r.path));
    const scheme = known ?? (await interpreter().scheme());
    if (!known && batch.pycCache) writeSchemeCache(batch.pycCache, python, venv, scheme);
    // Plan everything before writing anything: a bad path in wheel N must not leave wheels 1..N-1 half done.
    const jobs = opened.map((w, i) => plan(w, reqs[i], scheme));
    forgetDirs();
    const files = new LinkStore(batch.store);
    const existing = distInfoIndex(scheme);
    // Named before the first file is written: a failure or a crash from here on is undone whole.
    const journal = journalEntries(jobs, scheme);
    const journalFile = writeJournal(venv, journal);
    try {
      for (const job of jobs) {
        removeExisting(venv, job, existing);
        for (const f of job.writes) {
          // pip: zip members with any x bit get 0o777 & ~umask | 0o111, the rest open()'s 0o666 & ~umask.
          const mode = f.executable ? (0o777 & ~umask()) | 0o111 : 0o666 & ~umask();
          files.put(f.dest, f.data, mode, f.changed ? undefined : job.wheel.hashes.get(f.src));
          job.installed.set(f.src, rel(job.libDir, f.dest));
          if (f.changed) job.changed.set(rel(job.libDir, f.dest), [recordHash(f.data), String(f.data.length)]);
        }
        await testPause('install');
        testFail('install', join(job.libDir, job.wheel.infoDir, 'RECORD'));
      }
      await compileAll(jobs, interpreter, scheme, batch, files);
      const done = jobs.map((job) => finish(job, scheme, files));
      dropJournal(journalFile);
      return done;
    } catch (e) {
      // A full disk, a bad file: take out what this batch created, so nothing is left half installed.
      undoJournal(venv, journal);
      dropJournal(journalFile);
      throw e;
    }
  } finally {
    py?.kill();
  }
}

/** Every file each job may create: its writes, their .pyc files, its scripts, and its dist-info. */
function journalEntries(jobs: Job[], scheme: VenvScheme): JournalEntry[] {
  return jobs.map((job) => {
    const files = job.writes.map((w) => w.dest);
    for (const w of job.writes) if (w.dest.endsWith('.py')) files.push(join(dirname(w.dest), '__pycache__', `${basename(w.dest, '.py')}.${scheme.cacheTag}.pyc`));
    for (const [n] of [...consoleScriptSpecs(job.entryPoints.console, scheme.pyXY), ...job.entryPoints.gui]) files.push(join(scheme.scripts, n));
    return { distInfo: join(job.libDir, job.wheel.infoDir), files };
  });
}

/** Where a venv's scheme is remembered: keyed by the interpreter and its venv's pyvenv.cfg. */
function schemeCachePath(cacheDir: string, python: string, venv: string): string | null {
  try {
    const key = [python, venv, statSync(join(venv, 'pyvenv.cfg')).mtimeMs, statSync(realpathSync(python)).mtimeMs].join('\0');
    return join(cacheDir, 'schemes', `${createHash('sha1').update(key).digest('hex')}.json`);
  } catch {
    return null;
  }
}

function readSchemeCache(cacheDir: string, python: string, venv: string): VenvScheme | null {
  const path = schemeCachePath(cacheDir, python, venv);
  try {
    return path ? (JSON.parse(readFileSync(path, 'utf8')) as VenvScheme) : null;
  } catch {
    return null;
  }
}

function writeSchemeCache(cacheDir: string, python: string, venv: string, scheme: VenvScheme): void {
  const path = schemeCachePath(cacheDir, python, venv);
  if (!path) return;
  try {
    mkdirSync(dirname(path), { recursive: true });
    replaceViaTemp(path, (tmp) => writeFileSync(tmp, JSON.stringify(scheme)));
  } catch {
    // A cache that cannot be written only costs the next install an interpreter start.
  }
}

const rel = (from: string, to: string) => relative(from, to).split('\\').join('/');

function within(dir: string, target: string): boolean {
  const r = relative(dir, target);
  return r === '' || (!r.startsWith('..') && !isAbsolute(r));
}

function plan(wheel: WheelFile, req: WheelRequest, scheme: VenvScheme): Job {
  const libDir = wheel.rootIsPurelib ? scheme.purelib : scheme.platlib;
  const schemePaths: Record<string, string> = {
    purelib: scheme.purelib,
    platlib: scheme.platlib,
    headers: join(scheme.include, wheel.name),
    scripts: scheme.scripts,
    data: scheme.data,
  };
  const epData = wheel.data.get(`${wheel.infoDir}/entry_points.txt`);
  const entryPoints = parseEntryPoints(epData ? Buffer.from(epData).toString('utf8') : '');
  const writes: Write[] = [];
  const fail = (why: string) => new PyctlError('PIP_FAILED', `${basename(wheel.path)}: ${why}`, 'The wheel is malformed; nothing was installed.');
  for (const e of wheel.entries) {
    // The wheel's RECORD is rewritten by finish(), last: not written here, so a dist-info
    // without RECORD always means an install that did not finish.
    if (e.name.endsWith('/') || e.name === `${wheel.infoDir}/RECORD`) continue;
    const data = wheel.data.get(e.name)!;
    const executable = e.mode !== 0 && (e.mode & 0o170000) === 0o100000 && (e.mode & 0o111) !== 0;
    const normed = normalize(e.name);
    if (!e.name.split('/')[0].endsWith('.data')) {
      const dest = join(libDir, normed);
      if (!within(libDir, dest)) throw fail(`file ${e.name} would install outside ${libDir}`);
      writes.push({ src: e.name, dest, data, executable, changed: false });
      continue;
    }
    const parts = normed.split('/');
    if (parts.length < 3) throw fail(`unexpected file in .data: ${e.name}`);
    const base = schemePaths[parts[1]];
    if (base === undefined) throw fail(`unknown scheme key ${parts[1]} for ${e.name}`);
    const dest = join(base, parts.slice(2).join('/'));
    if (!within(base, dest)) throw fail(`file ${e.name} would install outside ${base}`);
    const rawParts = e.name.split('/');
    if (rawParts.length > 2 && rawParts[1] === 'scripts') {
      // setuptools-made wrappers for entry points are skipped: pip regenerates them.
      const n = basename(dest);
      const lower = n.toLowerCase();
      const match = lower.endsWith('.exe') || lower.endsWith('.pya') ? n.slice(0, -4) : lower.endsWith('-script.py') ? n.slice(0, -10) : n;
      if (entryPoints.console.has(match) || entryPoints.gui.has(match)) continue;
      const fixed = fixScript(data, scheme.executable);
      writes.push({ src: e.name, dest, data: fixed ?? data, executable, changed: fixed !== null });
      continue;
    }
    writes.push({ src: e.name, dest, data, executable, changed: false });
  }
  // The dist-info last (and RECORD, in finish, after everything): until it is whole, nothing
  // reads the package as installed.
  const info = join(libDir, wheel.infoDir) + '/';
  writes.sort((a, b) => Number(a.dest.startsWith(info)) - Number(b.dest.startsWith(info)));
  return { wheel, req, libDir, entryPoints, writes, installed: new Map(), changed: new Map() };
}

/**
 * The .dist-info directories in purelib/platlib by the canonical project name their directory
 * name suggests (both readings of "name-version"), listed once per batch: a batch of 20 wheels
 * read the folder 20 times.
 */
function distInfoIndex(scheme: VenvScheme): Map<string, string[]> {
  const index = new Map<string, string[]>();
  for (const dir of new Set([scheme.purelib, scheme.platlib])) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names) {
      if (!n.endsWith('.dist-info')) continue;
      const stem = n.slice(0, -'.dist-info'.length);
      for (const key of new Set([canonicalName(stem.split('-')[0]), canonicalName(stem.slice(0, stem.lastIndexOf('-')))])) {
        const list = index.get(key) ?? [];
        list.push(join(dir, n));
        index.set(key, list);
      }
    }
  }
  return index;
}

/** pip uninstalls an installed version of the same project before installing (upgrade, reinstall). */
function removeExisting(venv: string, job: Job, index: Map<string, string[]>): void {
  const want = canonicalName(job.wheel.name);
  for (const info of index.get(want) ?? []) {
    let md: string;
    try {
      md = readFileSync(join(info, 'METADATA'), 'utf8');
    } catch {
      continue; // gone (uninstalled just now) or unreadable
    }
    if (canonicalName(headerIn(md, 'Name') ?? '') !== want) continue;
    uninstallDist(venv, info);
    forgetDirs();
  }
}

/** pip compiles every installed *.py file (sorted, deduplicated) that exists, in the venv's interpreter. */
async function compileAll(jobs: Job[], interpreter: () => VenvPython, scheme: VenvScheme, batch: BatchOptions, files: LinkStore): Promise<void> {
  const cache = batch.pycCache && pycCacheUsable() ? batch.pycCache : undefined;
  const misses: { job: Job; src: string; hash: string }[] = [];
  for (const job of jobs) {
    const hashOf = new Map(job.writes.map((w) => [w.dest, recordHash(w.data)]));
    for (const p of [...new Set(job.installed.values())].sort()) {
      const src = join(job.libDir, p);
      if (!src.endsWith('.py') || !isFile(src)) continue;
      const hash = hashOf.get(src) ?? recordHash(readFileSync(src));
      const hit = cache ? cachedPyc(cache, scheme.cacheTag, scheme.magic, hash) : null;
      if (hit) {
        const pyc = join(dirname(src), '__pycache__', `${basename(src, '.py')}.${scheme.cacheTag}.pyc`);
        const { data, mode } = pycFromCache(hit, src);
        files.put(pyc, data, mode);
        job.installed.set(pyc, rel(job.libDir, pyc));
      } else {
        misses.push({ job, src, hash });
      }
    }
  }
  if (!misses.length) return;
  const out = await interpreter().compile(misses.map((m) => m.src));
  misses.forEach((m, i) => {
    const pyc = out[i];
    if (!pyc) return;
    m.job.installed.set(pyc, rel(m.job.libDir, pyc));
    let data: Buffer;
    try {
      data = readFileSync(pyc); // read once for both caches
    } catch {
      return;
    }
    if (cache) storePyc(cache, scheme.cacheTag, scheme.magic, m.hash, data);
    files.adopt(pyc, data);
  });
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Script wrappers, INSTALLER, direct_url.json, REQUESTED, then RECORD: pip's order and format. */
function finish(job: Job, scheme: VenvScheme, files: LinkStore): InstalledDist {
  const generated: [string, Uint8Array][] = [];
  const specs = consoleScriptSpecs(job.entryPoints.console, scheme.pyXY);
  for (const [n, v] of [...specs, ...job.entryPoints.gui]) {
    const { file, text } = makeScript(n, v, scheme.executable);
    const dest = join(scheme.scripts, file);
    // distlib writes it (0o666 & ~umask), then set_mode: current mode | 0o555.
    files.put(dest, text, (0o666 & ~umask()) | 0o555);
    generated.push([dest, text]);
  }
  const infoDir = join(job.libDir, job.wheel.infoDir);
  const gen = (name: string, data: Uint8Array | string) => {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    files.put(join(infoDir, name), bytes, 0o666 & ~umask()); // pip's _generate_file mode
    generated.push([join(infoDir, name), bytes]);
  };
  gen('INSTALLER', 'pip\n');
  if (job.req.directUrl !== undefined) gen('direct_url.json', pyJson(job.req.directUrl));
  if (job.req.requested) gen('REQUESTED', '');

  const installed = new Map(job.installed);
  const rows: RecordRow[] = [];
  for (const row of job.wheel.record) {
    const old = row[0];
    const now = installed.get(old) ?? old;
    installed.delete(old);
    const ch = job.changed.get(now);
    rows.push(ch ? [now, ch[0], ch[1]] : [now, row[1] ?? '', row[2] ?? '']);
  }
  for (const [p, d] of generated) rows.push([rel(job.libDir, p), recordHash(d), String(d.length)]);
  for (const p of installed.values()) rows.push([p, '', '']);
  files.put(join(infoDir, 'RECORD'), Buffer.from(formatRecord(rows)), 0o666 & ~umask());
  return { name: job.wheel.name, version: job.wheel.version, distInfo: infoDir };
}
