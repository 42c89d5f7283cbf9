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
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Home } from './home.js';
import { keepInStore, storePython } from './record.js';
import { helpHolder } from '../gitstore/lock.js';
import { readInstalled } from '../venv/freeze.js';
import { sitePackagesDir } from '../venv/syspath.js';
import { Wheelhouse } from '../wheelhouse/wheelhouse.js';
import { isStoredInstall, removeStored, type StoredPackage } from '../wheel/package-store.js';
import { originKey, originsFromReport, type Origin } from '../provenance/origins.js';
import { readTextOr } from '../fs/read-text.js';

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

  /** pip has ended: look no more (what is left is the record's, after its commit). */
  stop(): void {
    clearInterval(this.timer);
    this.off = true;
  }

  /** pip failed: the packages kept while it ran go; the record keeps them, checked against RECORD. */
  discard(): void {
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
        if (!st || st.ino === seen) continue;
        this.pending.set(name, st.ino);
        if (st.mtimeMs < this.since) {
          // There before pip started: not this run's (unless pip replaces the folder).
          this.pending.delete(name);
          const dir = statSync(join(this.site, name), { throwIfNoEntry: false });
          if (dir) this.before.set(name, dir.ino);
          continue;
        }
        if (!isFinalRecord(readFileSync(record, 'utf8'), name)) continue;
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

  private keep(name: string): void {
    const { paths } = this.home;
    // Under pip's lock only; taken once, let go after the record (done()).
    this.release ??= helpHolder(paths.lock, this.pid);
    if (!this.release) {
      this.off = true;
      return;
    }
    const infoPath = resolve(this.site, name);
    const d = readInstalled(paths.venv).find((x) => resolve(x.infoPath) === infoPath);
    const dirs = { files: paths.store, packages: paths.packages };
    if (!d || !Wheelhouse.capturable(d) || isStoredInstall(dirs, d, resolve(paths.venv))) return;
    this.python ??= storePython(paths.venv);
    this.origins ??= new Map(originsFromReport((this.report && readTextOr(this.report)) || '').map((o) => [originKey(o), o]));
    const kept = keepInStore(this.home, d, this.python, true, this.origins);
    if (!kept.entry) {
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
