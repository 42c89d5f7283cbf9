/**
 * Remove an installed distribution as `pip uninstall -y` (pip 23.2) does, so the tree left
 * behind is the same: RECORD entries, .pyc/.pyo siblings and __pycache__ files of listed .py
 * files, console/gui scripts named in entry_points.txt; whole folders go when every file in
 * them goes (pip's compress_for_rename), and emptied parent folders are pruned like os.removedirs.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { PyctlError } from '../errors.js';
import { parseRecord } from './record.js';
import { parseEntryPoints } from './scripts.js';

/**
 * A folder beside the venv (same filesystem) that whole removed folders are renamed into, to be
 * deleted once the change is done, in the background when they are many: an undo of torch renames
 * 3 folders instead of unlinking 21,000 files while the user waits (their bytes stay in the store).
 */
export interface Trash {
  dir: string;
  used: number;
  /** How many of the removed package's paths (RECORD rows, .pyc files) went in with the folders. */
  paths: number;
}

export function uninstallDist(venv: string, distInfoDir: string, trash?: Trash): void {
  let recordText: string;
  try {
    recordText = readFileSync(join(distInfoDir, 'RECORD'), 'utf8');
  } catch {
    throw new PyctlError(
      'VENV_BROKEN',
      `cannot uninstall ${basename(distInfoDir)}: RECORD file not found`,
      'Reinstall the package (pip install --force-reinstall --no-deps NAME) so it has a RECORD, then retry.',
    );
  }
  const location = dirname(distInfoDir);
  const prefix = realpathSync(venv);
  const tag = cacheTag(venv);
  const paths = new Set<string>();
  const realHeads = new Map<string, string>();
  const exists = folderLister();
  const add = (path: string): void => {
    // pip resolves symlinks in the folder but not the last component (a symlink itself is removed).
    const head = dirname(path);
    let real = realHeads.get(head);
    if (real === undefined) {
      try {
        real = realpathSync(head);
      } catch {
        real = head;
      }
      realHeads.set(head, real);
    }
    const p = join(real, basename(path));
    if (!exists(real, basename(path), p)) return;
    if (p.startsWith(prefix)) paths.add(p); // pip refuses paths outside the environment
    if (p.endsWith('.py')) add(join(dirname(p), '__pycache__', `${basename(p, '.py')}.${tag}.pyc`));
  };
  const seen = new Set<string>();
  for (const row of parseRecord(recordText)) {
    if (!row[0]) continue;
    const path = join(location, row[0]);
    const cands = [path];
    if (path.endsWith('.py')) cands.push(path.slice(0, -3) + '.pyc', path.slice(0, -3) + '.pyo');
    for (const c of cands)
      if (!seen.has(c)) {
        seen.add(c);
        add(c);
      }
  }
  try {
    const ep = parseEntryPoints(readFileSync(join(distInfoDir, 'entry_points.txt'), 'utf8'));
    for (const n of [...ep.console.keys(), ...ep.gui.keys()]) add(join(venv, 'bin', n));
  } catch {
    // no entry points
  }
  for (const p of [...compact(compressForRename(paths))].sort()) {
    if (p.endsWith('/')) {
      // A whole folder: pip moves it away with a trailing slash, so its parent is not pruned.
      if (trash && moveToTrash(p.slice(0, -1), trash)) {
        for (const q of paths) if (q.startsWith(p)) trash.paths++;
      } else rmSync(p, { recursive: true, force: true });
      continue;
    }
    const isDir = lstatSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
    rmSync(p, { recursive: isDir, force: true });
    removeEmptyParents(dirname(p));
  }
  // Unlike pip, the whole dist-info goes: a failed pip run's stray INSTALLER*.tmp (RECORD does
  // not list it) would otherwise keep a METADATA-less folder pip warns about on every run.
  if (existsSync(distInfoDir)) {
    rmSync(distInfoDir, { recursive: true, force: true });
    removeEmptyParents(dirname(distInfoDir));
  }
}

/**
 * os.path.exists by one listing per folder: torch's RECORD and the .pyc/.pyo siblings of its
 * .py files are ~30,000 paths in ~1,800 folders (an existsSync each took ~0.7 s of an undo at
 * load 15). A symlink is still followed (a dangling one does not exist), and a folder that
 * cannot be listed is asked path by path.
 */
function folderLister(): (dir: string, name: string, path: string) => boolean {
  const listed = new Map<string, Map<string, boolean> | null | undefined>();
  return (dir, name, path) => {
    let names = listed.get(dir);
    if (names === undefined && !listed.has(dir)) {
      try {
        names = new Map(readdirSync(dir, { withFileTypes: true }).map((e) => [e.name, e.isSymbolicLink()]));
      } catch (e) {
        // ENOENT/ENOTDIR: nothing in it exists; anything else: ask each path.
        const code = (e as NodeJS.ErrnoException).code;
        names = code === 'ENOENT' || code === 'ENOTDIR' ? null : undefined;
      }
      listed.set(dir, names);
    }
    if (names === undefined) return existsSync(path);
    if (names === null || !names.has(name)) return false;
    return names.get(name) ? existsSync(path) : true;
  };
}

function moveToTrash(dir: string, trash: Trash): boolean {
  try {
    if (!trash.used) mkdirSync(trash.dir, { recursive: true });
    renameSync(dir, join(trash.dir, String(trash.used)));
    trash.used++;
    return true;
  } catch {
    return false; // another filesystem (EXDEV) or no room for the folder: delete it here
  }
}

/** The interpreter's cache tag (cpython-311), from pyvenv.cfg's version. */
function cacheTag(venv: string): string {
  try {
    const cfg = readFileSync(join(venv, 'pyvenv.cfg'), 'utf8');
    const m = /^\s*version(?:_info)?\s*=\s*(\d+)\.(\d+)/m.exec(cfg);
    if (m) return `cpython-${m[1]}${m[2]}`;
  } catch {
    // fall through
  }
  return 'cpython-3';
}

/** os.removedirs: remove the folder and then its parents while they are empty. */
function removeEmptyParents(dir: string): void {
  for (let d = dir; d !== dirname(d); d = dirname(d)) {
    try {
      rmdirSync(d);
    } catch {
      return;
    }
  }
}

/** pip's compress_for_rename: folders whose every file is removed become `folder/` entries. */
function compressForRename(paths: Set<string>): Set<string> {
  const remaining = new Set(paths);
  const roots = [...new Set([...paths].map((p) => dirname(p)))].sort((a, b) => a.length - b.length);
  const wildcards: string[] = [];
  for (const root of roots) {
    if (wildcards.some((w) => root.startsWith(w))) continue;
    const files = filesIfAllIn(root, remaining);
    if (files) {
      for (const f of files) remaining.delete(f);
      wildcards.push(root + '/');
    }
  }
  return new Set([...remaining, ...wildcards]);
}

/**
 * The files under root (as os.walk lists them: symlinks to folders are folders, not descended)
 * if every one is in `set`, else null. Stops at the first foreign file, so checking
 * site-packages itself costs one readdir, not a walk of every installed package.
 */
function filesIfAllIn(root: string, set: Set<string>): string[] | null {
  const out: string[] = [];
  const walk = (d: string): boolean => {
    let ents;
    try {
      ents = readdirSync(d, { withFileTypes: true });
    } catch {
      return true;
    }
    const subdirs: string[] = [];
    for (const e of ents) {
      const p = join(d, e.name);
      if (e.isDirectory()) subdirs.push(p);
      else if (e.isSymbolicLink() && isDirFollow(p)) continue;
      else if (!set.has(p)) return false;
      else out.push(p);
    }
    return subdirs.every(walk);
  };
  return walk(root) ? out : null;
}

function isDirFollow(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** pip's compact: drop paths inside a folder that is itself removed. */
function compact(paths: Set<string>): Set<string> {
  const short: string[] = [];
  for (const p of [...paths].sort((a, b) => a.length - b.length)) {
    const skip = short.some((s) => {
      const base = s.replace(/\*$/, '');
      const stripped = base.replace(/\/$/, '');
      return p.startsWith(base) && p[stripped.length] === '/';
    });
    if (!skip) short.push(p);
  }
  return new Set(short);
}
