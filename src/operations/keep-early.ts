/**
 * Keeping packages in the store while pip still runs. The pip hook starts the record of a
 * mutating pip run when pip starts (`_record --wait stdin`, lanes/record.ts), not when it ends:
 * Node starts and loads on the other core while pip resolves and downloads, and each
 * distribution pip finishes installing is linked into the store at once. pip's last write for a
 * distribution is its final RECORD (after its files, .pyc, scripts and INSTALLER), put in place
 * by a rename over the wheel's own RECORD, which pip unpacked early with the other files: a
 * RECORD that lists INSTALLER is the final one, and that distribution is complete. The record after pip then finds it stored (isStoredInstall)
 * and only commits: in a first `pip install pandas` the links of numpy, six and dateutil are made
 * while pip installs pandas, and pandas' while pip prints its summary and exits.
 *
 * Only under pip's own lock (the hook holds it for install and uninstall), as that run's helper
 * (gitstore/lock.ts), as the record itself works. Silent: pip owns the terminal until it ends;
 * what was kept is said afterwards (--verbose). The first distribution that cannot be stored
 * (a venv on another filesystem than the home) stops it: the record after pip decides for it
 * as it always did. If pip then fails, what was kept here goes (`discard`): a failed run's
 * files are checked against RECORD by the record, as before.
 */
import { mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import type { Home } from './home.js';
import { keepInStore, storePython } from './record.js';
import { helpHolder } from '../gitstore/lock.js';
import { readInstalled } from '../venv/freeze.js';
import { ScanCache } from '../venv/scan-cache.js';
import { sitePackagesDir } from '../venv/syspath.js';
import { Wheelhouse } from '../wheelhouse/wheelhouse.js';
import { isStoredInstall, removeStored, type StoredPackage } from '../wheel/package-store.js';
import { originKey, originsFromReport, type Origin } from '../provenance/origins.js';
import { readTextOr } from '../fs/read-text.js';
import { parseRecord } from '../wheel/record.js';
import { dropUnused, prelinkFile, type EarlyFile, type Prelinked } from '../wheel/prelink.js';
import { ODD_PATH } from '../wheel/package-store.js';

/** How often site-packages is looked at: one stat when nothing changed. */
const EVERY_MS = 25;

export class EarlyKeeper {
  /** What --verbose says after pip: each package kept while it ran. */
  readonly notes: string[] = [];
  private readonly site: string;
  /** .dist-info folders there before pip started (their RECORD is older), by folder inode: a reinstall is a new folder. */
  private readonly before = new Map<string, number>();
  /** .dist-info folders pip may be writing, with the inode of the RECORD last read (-1: none yet). */
  private readonly pending = new Map<string, number>();
  private readonly finished = new Set<string>();
  private readonly kept: StoredPackage[] = [];
  private siteMtime = -1;
  /** Look again at the next tick: a change in the same clock tick as the last look keeps the folder's mtime. */
  private again = false;
  private timer: ReturnType<typeof setInterval> | undefined;
  private release: (() => void) | null = null;
  private off = false;
  private python?: string;
  private origins?: Map<string, Origin>;
  /** Packages pip is compiling: their files linked as they become complete (wheel/prelink.ts). */
  private readonly early = new Map<string, EarlyLinks>();
  /** The length of a wheel's RECORD read before it was whole. */
  private readonly partial = new Map<string, number>();
  private tag?: string | null;

  constructor(
    private readonly home: Home,
    /** pip's pid: the holder of the lock this works under. */
    private readonly pid: number,
    /** When pip started (ms since the epoch): a RECORD written since is this run's. */
    private readonly since: number,
    /** pip's --report for this run (pip writes it before it installs anything). */
    private readonly report?: string,
  ) {
    this.site = sitePackagesDir(home.paths.venv);
  }

  /** Look at site-packages now (Node may start after pip installed something), then every EVERY_MS. */
  start(): void {
    if (!this.home.repo.exists()) return;
    this.tick();
    if (this.off) return;
    this.timer = setInterval(() => this.tick(), EVERY_MS);
    this.timer.unref();
  }

  /** pip has ended well: one last look (its last package's final RECORD may have come since the last one, up to 25 ms ago), then stop. */
  finish(): void {
    this.tick();
    this.stop();
  }

  /** pip has ended: look no more (what is left is the record's, after its commit). */
  stop(): void {
    clearInterval(this.timer);
    this.off = true;
  }

  /** pip failed: the packages kept while it ran go; the record keeps them, checked against RECORD. */
  discard(): void {
    for (const e of this.early.values()) e.drop();
    this.early.clear();
    const dirs = { files: this.home.paths.store, packages: this.home.paths.packages };
    for (const e of this.kept) removeStored(dirs, e);
    this.kept.length = 0;
    this.notes.length = 0;
  }

  /** Let go of pip's lock's helper file (after the record, which works under it too). */
  done(): void {
    this.stop();
    this.release?.();
    this.release = null;
  }

  private tick(): void {
    if (this.off) return;
    try {
      const mtime = statSync(this.site).mtimeMs;
      if (mtime !== this.siteMtime || this.again) {
        this.again = mtime !== this.siteMtime;
        this.siteMtime = mtime;
        this.look();
      }
      for (const [name, seen] of this.pending) {
        if (this.off) break;
        const record = join(this.site, name, 'RECORD');
        const st = statSync(record, { throwIfNoEntry: false });
        if (!st) continue;
        if (st.ino === seen) {
          this.early.get(name)?.more(); // the .pyc files pip compiled since the last look
          continue;
        }
        this.pending.set(name, st.ino);
        if (st.mtimeMs < this.since) {
          // There before pip started: not this run's (unless pip replaces the folder).
          this.pending.delete(name);
          const dir = statSync(join(this.site, name), { throwIfNoEntry: false });
          if (dir) this.before.set(name, dir.ino);
          continue;
        }
        const text = readFileSync(record, 'utf8');
        if (!isFinalRecord(text, name)) {
          // The wheel's own RECORD: pip has unpacked (nearly) everything and compiles next.
          // Only once it is whole: pip writes it in place, and wheels list RECORD itself last.
          // Read again at the next look while it grows (one without that row is whole when it stops).
          if (this.early.has(name)) continue;
          if (text.includes(`\n${name}/RECORD,`)) {
            if (this.helping()) this.early.set(name, new EarlyLinks(this.home.paths.store, this.home.paths.venv, this.site, name, text, this.pycTag()));
          } else if (text.length === 0 || this.partial.get(name) !== text.length) {
            this.partial.set(name, text.length);
            this.pending.set(name, -1);
          }
          continue;
        }
        this.pending.delete(name);
        this.finished.add(name);
        this.keep(name);
      }
    } catch {
      this.off = true; // best effort: the record after pip does it all
    }
  }

  /** site-packages' .dist-info folders not known to be older than pip's start wait for pip's final RECORD. */
  private look(): void {
    for (const name of readdirSync(this.site)) {
      // `~…` folders are pip's stash of what it uninstalls (and leftovers of interrupted runs).
      if (!name.endsWith('.dist-info') || name.startsWith('~') || this.pending.has(name) || this.finished.has(name)) continue;
      const old = this.before.get(name);
      if (old !== undefined && statSync(join(this.site, name), { throwIfNoEntry: false })?.ino === old) continue;
      this.pending.set(name, -1);
    }
  }

  /** Under pip's lock only, as its helper: taken once, let go after the record (done()). */
  private helping(): boolean {
    this.release ??= helpHolder(this.home.paths.lock, this.pid);
    if (!this.release) this.off = true;
    return !!this.release;
  }

  /** The interpreter's .pyc tag (`cpython-311`), from pip's own compiled files in the venv; null: unknown (no .pyc linked early). */
  private pycTag(): string | null {
    if (this.tag === undefined) {
      let names: string[] = [];
      try {
        names = readdirSync(join(this.site, 'pip', '__pycache__'));
      } catch {
        // no pip here
      }
      const m = names.map((n) => /^__init__\.([\w-]+)\.pyc$/.exec(n)).find(Boolean);
      this.tag = m ? m[1] : null;
    }
    return this.tag;
  }

  private keep(name: string): void {
    const { paths } = this.home;
    const early = this.early.get(name);
    this.early.delete(name);
    if (!this.helping()) return;
    const infoPath = resolve(this.site, name);
    // The scan cache: only the new .dist-info folders are read (one stat for the others).
    const cache = new ScanCache(join(paths.runtime, 'scan-cache.json'));
    const d = readInstalled(paths.venv, { cache }).find((x) => resolve(x.infoPath) === infoPath);
    cache.save();
    const dirs = { files: paths.store, packages: paths.packages };
    if (!d || !Wheelhouse.capturable(d) || isStoredInstall(dirs, d, resolve(paths.venv))) {
      early?.drop();
      return;
    }
    this.python ??= storePython(paths.venv);
    this.origins ??= new Map(originsFromReport((this.report && readTextOr(this.report)) || '').map((o) => [originKey(o), o]));
    const kept = keepInStore(this.home, d, this.python, true, this.origins, undefined, undefined, early?.linked);
    if (!kept.entry) {
      early?.drop();
      this.off = true;
      return;
    }
    this.kept.push(kept.entry);
    this.notes.push(`${kept.note} (while pip ran)`);
  }
}

/** pip's final RECORD of the .dist-info folder `info`: it lists the INSTALLER file pip writes just before it (the wheel's own RECORD does not). */
export function isFinalRecord(text: string, info: string): boolean {
  const row = `${info}/INSTALLER,`;
  return text.startsWith(row) || text.includes(`\n${row}`);
}

/**
 * One package pip has unpacked and is compiling: its files, linked into the store as each becomes
 * complete (wheel/prelink.ts), so that its final RECORD finds them there. The sources in one pass
 * when the wheel's RECORD appears; the .pyc files in pip's order (it compiles the sources sorted by
 * path), from a cursor, at each look: one lstat when pip has compiled nothing new.
 */
class EarlyLinks {
  readonly linked: Prelinked = new Map();
  private readonly base: string;
  private readonly siteRel: string;
  /** The sources pip compiles, in its order (sorted by path). */
  private readonly sources: string[] = [];
  private readonly pycs: EarlyFile[] = [];
  private next = 0;

  constructor(
    store: string,
    venv: string,
    private readonly site: string,
    info: string,
    wheelRecord: string,
    /** The .pyc tag (`cpython-311`); null: read from the first .pyc pip writes for this package. */
    private tag: string | null,
  ) {
    this.base = join(store, sep);
    this.siteRel = relative(resolve(venv), site);
    try {
      mkdirSync(store, { recursive: true });
    } catch {
      return;
    }
    for (const [rp, hash, size] of parseRecord(wheelRecord)) {
      // Plain relative paths only, with a whole sha256 and size (the file may still be being written).
      if (!rp || ODD_PATH.test(rp) || rp.startsWith(`${info}/`) || !/^sha256=[\w-]{43}$/.test(hash ?? '') || !/^\d+$/.test(size ?? '')) continue;
      prelinkFile(this.base, { abs: `${site}/${rp}`, inVenv: `${this.siteRel}/${rp}`, sha: hash.slice(7), size: Number(size) }, this.linked);
      if (rp.endsWith('.py')) this.sources.push(rp);
    }
    this.sources.sort();
    this.more();
  }

  /** Link the .pyc files pip has put in place since the last call (one that never comes, a source that did not compile, is stepped over once the next one is there). */
  more(): void {
    if (!this.pycs.length && !this.listPycs()) return;
    while (this.next < this.pycs.length) {
      if (prelinkFile(this.base, this.pycs[this.next], this.linked)) this.next++;
      else if (this.next + 1 < this.pycs.length && prelinkFile(this.base, this.pycs[this.next + 1], this.linked)) this.next += 2;
      else break;
    }
  }

  /** The .pyc paths, once the tag is known (else from the first source's __pycache__, when pip has written it). */
  private listPycs(): boolean {
    if (!this.sources.length) return false;
    const split = (rp: string) => [rp.slice(0, rp.lastIndexOf('/') + 1), rp.slice(rp.lastIndexOf('/') + 1, -3)];
    if (!this.tag) {
      const [dir, stem] = split(this.sources[0]);
      let names: string[] = [];
      try {
        names = readdirSync(`${this.site}/${dir}__pycache__`);
      } catch {
        return false; // not compiled yet
      }
      const m = names.map((n) => (n.startsWith(`${stem}.`) && n.endsWith('.pyc') ? n.slice(stem.length + 1, -4) : '')).find((t) => /^[\w-]+$/.test(t));
      if (!m) return false;
      this.tag = m;
    }
    for (const rp of this.sources) {
      const [dir, stem] = split(rp);
      const pyc = `${dir}__pycache__/${stem}.${this.tag}.pyc`;
      this.pycs.push({ abs: `${this.site}/${pyc}`, inVenv: `${this.siteRel}/${pyc}`, sha: '', size: -1 });
    }
    return true;
  }

  /** Not stored after all (pip failed, or the store refused it): the links made here go. */
  drop(): void {
    dropUnused(this.linked, this.base, new Set());
  }
}
