/**
 * The wheelhouse (<home>/wheelhouse): wheel files, made only when something needs a file: a
 * restore that fetched one through pip, export --hashes, `pyctl wheelhouse --build`, a venv the
 * link store cannot hold (another filesystem), a rebuild onto another Python. Every version the
 * venv has held is kept as a stored package (wheel/package-store.ts: hard links, no
 * compression); a wheel is made from it on demand, or the original file pip installed from is
 * taken when it is still where it was.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, linkSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { replaceViaTemp } from '../fs/durable.js';
import { wheelDamage } from './intact.js';
import type { WholeWheels } from './whole.js';
import { basename, join } from 'node:path';
import { storedFiles, type StoreDirs, type StoredPackage } from '../wheel/package-store.js';
import type { Installed } from '../venv/freeze.js';
import { isRebuiltWheel, rebuildWheel } from '../wheel/rebuild.js';
import { openWheel } from '../wheel/wheel-file.js';
import { sha256File } from '../sha256.js';
import { parseWheelName, wheelKey } from '../packaging/wheel-name.js';
import { tagsOfWheelFile, tagsOfWheelMeta, tagTriple } from '../packaging/wheel-tags.js';

/** The tag triple of a wheel file name (`cp311-cp311-linux_x86_64`). */
const tripleOf = (file: string) => tagTriple(tagsOfWheelFile(file) ?? []);

export class Wheelhouse {
  /** name==version -> every kept build of it (one per tag set: a cp311 and a cp312 build may both be kept). */
  private index?: Map<string, string[]>;
  /** Wheels fromStored made in this process (they come from the home, not from an index). */
  readonly fromStore = new Set<string>();
  constructor(readonly dir: string) {}

  private put(key: string, path: string): void {
    const list = this.load().get(key) ?? [];
    const t = tripleOf(path);
    this.index!.set(key, [...list.filter((p) => tripleOf(p) !== t), path]);
  }

  private load(): Map<string, string[]> {
    if (this.index) return this.index;
    this.index = new Map();
    let files: string[] = [];
    try {
      files = readdirSync(this.dir);
    } catch {
      // Not made yet.
    }
    for (const f of files) {
      const w = parseWheelName(f);
      if (!w) continue;
      const key = `${w.key}==${w.version}`;
      this.index.set(key, [...(this.index.get(key) ?? []), join(this.dir, f)]);
    }
    return this.index;
  }

  /** A kept wheel of this version (any build: use findAll and reconcile/sources.ts to pick one that fits). */
  find(name: string, version: string): string | null {
    return this.findAll(name, version)[0] ?? null;
  }

  /** Every kept build of this version that is whole: a damaged one is never used (the caller fetches it). */
  findAll(name: string, version: string): string[] {
    return (this.load().get(wheelKey(name, version)) ?? []).filter((p) => this.intact(p));
  }

  private checked = new Set<string>();
  /** Kept wheels found damaged in this process (a changed original): never offered again. */
  private distrusted = new Set<string>();

  /** Never offer this kept wheel again in this process (its bytes are not the recorded ones). */
  distrust(path: string): void {
    this.distrusted.add(path);
  }

  /** Whether a path is one of the kept wheels. */
  holds(path: string): boolean {
    return [...this.load().values()].some((list) => list.includes(path));
  }

  private intact(path: string): boolean {
    if (this.distrusted.has(path)) return false;
    if (this.checked.has(path)) return true;
    if (wheelDamage(path)) return false;
    this.checked.add(path);
    return true;
  }

  /**
   * Kept wheels that are damaged, with why, checked now (`pyctl wheelhouse` and `pyctl doctor`):
   * truncated (by a full disk or a crash: the zip's directory is cut off), a recorded original
   * (its file name is the one `known` names for its version, from provenance.txt) whose sha256
   * is not the recorded one, and with `full` (doctor) any whose files fail the zip's CRC or the
   * wheel's RECORD (every byte inflated: ~1-2 s per GB; only hashed when `whole` remembers its
   * sha256 from an earlier full check).
   */
  damagedWheels(opts: { known?: ReadonlyMap<string, readonly KnownHash[]>; full?: boolean; whole?: WholeWheels } = {}): { path: string; why: string }[] {
    const out: { path: string; why: string }[] = [];
    for (const [key, paths] of this.load()) {
      for (const p of paths) {
        const why = wheelDamage(p) ?? (opts.full ? fullDamage(p, opts.known?.get(key), opts.whole) : hashDamage(p, opts.known?.get(key)));
        if (why) out.push({ path: p, why });
      }
    }
    opts.whole?.save();
    return out.sort((a, b) => a.path.localeCompare(b.path));
  }

  /** Is the build this installed distribution came from (its WHEEL tags) kept? */
  keeps(d: Installed): boolean {
    const kept = this.findAll(d.name, d.version);
    if (!kept.length) return false;
    let tags: string[];
    try {
      tags = tagsOfWheelMeta(readFileSync(join(d.infoPath, 'WHEEL'), 'utf8'));
    } catch {
      return true; // no WHEEL to compare: any build of the version will do as before
    }
    const t = tagTriple(tags);
    return !tags.length || kept.some((p) => tripleOf(p) === t);
  }

  /** Keep a wheel file: a copy (e.g. one pip downloaded for a restore), moved, or a hard link where allowed, else a copy. */
  add(path: string, how: 'copy' | 'move' | 'link' = 'copy'): string {
    mkdirSync(this.dir, { recursive: true });
    const w = parseWheelName(path);
    const dest = join(this.dir, w?.file ?? path.slice(path.lastIndexOf('/') + 1));
    if (how === 'move') renameSync(path, dest);
    else {
      // Beside, then renamed: a full disk never leaves a truncated wheel under the real name.
      // 'link': a file nobody edits in place (ensurepip's own wheels): no 3 MB written where a
      // hard link is allowed (same file system; the file's owner, or root).
      replaceViaTemp(dest, (tmp) => {
        if (how === 'link') {
          try {
            return linkSync(path, tmp);
          } catch {
            // another file system, or not ours to link: a copy
          }
        }
        copyFileSync(path, tmp);
      });
    }
    this.checked.delete(dest);
    this.distrusted.delete(dest);
    if (w) this.put(`${w.key}==${w.version}`, dest);
    return dest;
  }

  /** Whether an installed distribution can be rebuilt into a wheel (plain dist-info, not editable). */
  static capturable(d: Installed): boolean {
    return d.format === 'dist-info' && !d.editable && !(d.directUrl && 'dir_info' in d.directUrl);
  }

  /** Rebuild wheels for installed distributions the wheelhouse lacks. Returns how many were made. */
  capture(venv: string, dists: Installed[]): number {
    let made = 0;
    for (const d of dists) {
      if (!Wheelhouse.capturable(d) || this.keeps(d)) continue;
      mkdirSync(this.dir, { recursive: true });
      try {
        const path = rebuildWheel(venv, d.infoPath, this.dir);
        const w = parseWheelName(path);
        if (w) this.put(`${w.key}==${w.version}`, path);
        this.checked.add(path);
        made++;
      } catch {
        // A distribution whose RECORD is broken cannot be rebuilt; restore will fetch it instead.
      }
    }
    return made;
  }

  /**
   * A wheel of a stored package (the build its WHEEL tags name): the original file pip
   * installed from when it is still there unchanged (linked, else copied: it is also the file
   * whose hash the index publishes), else one rebuilt from the stored files. Null when neither
   * works. The caller checks the stored files first (package-store.ts checkStored).
   */
  fromStored(dirs: StoreDirs, e: StoredPackage): string | null {
    const t = tagTriple(e.tags);
    const have = this.findAll(e.name, e.version).find((p) => !e.tags.length || tripleOf(p) === t);
    if (have) return have;
    mkdirSync(this.dir, { recursive: true });
    const o = e.origin;
    if (o) {
      try {
        const st = statSync(o.path);
        const w = parseWheelName(o.path);
        if (w && st.size === o.size && st.mtimeMs === o.mtimeMs) {
          const dest = this.add(o.path, 'link');
          this.fromStore.add(dest);
          return dest;
        }
      } catch {
        // moved or gone: rebuild from the stored files
      }
    }
    const at = storedFiles(dirs, e);
    const where = new Map(e.files.map((f) => [join(e.venv, f[0]), at(f[1])]));
    try {
      const path = rebuildWheel(e.venv, join(e.venv, e.info), this.dir, (abs) => where.get(abs) ?? join(dirs.files, 'absent'));
      const w = parseWheelName(path);
      if (w) this.put(`${w.key}==${w.version}`, path);
      this.fromStore.add(path);
      return path;
    } catch {
      return null;
    }
  }

  /** Total size in bytes and number of wheels. */
  size(): { bytes: number; wheels: number } {
    let bytes = 0;
    const all = [...this.load().values()].flat();
    for (const p of all) {
      try {
        bytes += statSync(p).size;
      } catch {
        // removed meanwhile
      }
    }
    return { bytes, wheels: all.length };
  }

  /** Every kept wheel file, by name==version (each version's builds). */
  files(): Map<string, string[]> {
    return new Map(this.load());
  }
}

/** A recorded original's file name and sha256 (hex), as provenance.txt knows them. */
export interface KnownHash {
  file: string;
  sha256: string;
}

/**
 * A recorded original (by file name; pyctl's rebuilds have no recorded hash) whose sha256 is not
 * one recorded for it: the one rule undo/restore (reconcile/sources.ts), doctor and
 * `pyctl wheelhouse` apply. Hashing costs ~1 s per GB.
 */
export function originalMismatch(path: string, known: readonly KnownHash[] | undefined, sha256?: string): { got: string; want: string } | null {
  const want = known?.filter((k) => k.file === basename(path));
  if (!want?.length || isRebuiltWheel(path)) return null;
  const got = sha256 ?? sha256File(path);
  return want.some((k) => k.sha256 === got) ? null : { got, want: want[0].sha256 };
}

function hashDamage(path: string, known: readonly KnownHash[] | undefined, sha256?: string): string | null {
  let bad: ReturnType<typeof originalMismatch>;
  try {
    bad = originalMismatch(path, known, sha256);
  } catch (e) {
    return `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
  }
  return bad && `its sha256 ${bad.got.slice(0, 16)}… is not the recorded ${bad.want.slice(0, 16)}… (changed since it was downloaded)`;
}

/**
 * Doctor's check of one wheel: every file inflated against the zip's CRC and RECORD unless a file
 * with its sha256 passed that check before (`whole`), then the recorded original's hash.
 */
function fullDamage(path: string, known: readonly KnownHash[] | undefined, whole: WholeWheels | undefined): string | null {
  let sha: string;
  try {
    sha = sha256File(path);
  } catch (e) {
    return `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
  }
  if (!whole?.has(sha)) {
    let buf: Buffer;
    try {
      buf = readFileSync(path);
    } catch (e) {
      return `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
    }
    const why = zipDamage(path, buf);
    if (why) return why;
    // The digest of the bytes just checked (the file may have changed since it was hashed above).
    whole?.add(createHash('sha256').update(buf).digest('hex'));
  }
  return hashDamage(path, known, sha);
}

function zipDamage(path: string, buf: Buffer): string | null {
  try {
    openWheel(path, buf);
    return null;
  } catch (e) {
    const m = /is not a valid wheel: (.*)$/.exec((e as Error).message);
    return `corrupt (${m ? m[1] : (e as Error).message})`;
  }
}

/**
 * Keep the wheels a new venv was seeded from (ensurepip's pip/setuptools) as they are: the
 * installed files came from exactly these, so rebuilding them (~1 s for pip) is wasted work.
 * `ensurepip`: they are the interpreter's own (seededFrom unset), which nobody edits in place:
 * hard-linked where allowed. A wheel given with --pip-wheel or found elsewhere is copied.
 */
export function seedWheelhouse(dir: string, wheels: string[], ensurepip = false): void {
  const house = new Wheelhouse(dir);
  for (const w of wheels) {
    const n = parseWheelName(w);
    if (!n || house.find(n.key, n.version)) continue;
    try {
      house.add(w, ensurepip ? 'link' : 'copy');
    } catch {
      // Unreadable: the record rebuilds it from the installed files instead.
    }
  }
}
