/**
 * What an install is creating, written before the first file (issue 17, row 1). pip-less installs
 * write package files, then the dist-info, RECORD last; a kill, Ctrl-C or full disk in between
 * leaves files no RECORD names and maybe a dist-info with METADATA but no RECORD, which pip and
 * every later uninstall choke on. The journal names each dist-info and the files it creates, so
 * the failing install removes them at once, and a crashed one is swept by the next command
 * under the home's lock (operations/record.ts recoverAfterCrash) and by doctor --fix.
 *
 * `<venv>/.pyctl-install-<pid>.json`: [{ distInfo, files, stored? }]; removed once every RECORD is
 * written. `stored`: a stored package's index (wheel/link-back.ts), whose venv-relative files are
 * the ones created, so linking torch back does not write its 21,000 names first.
 */
import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { writeAtomic } from '../fs/durable.js';
import { holderAlive } from '../gitstore/lock.js';

export interface JournalEntry {
  distInfo: string;
  files: string[];
  /** The index (.git/pyctl/packages/*.json) of a stored package being linked back: its files too. */
  stored?: string;
}

const NAME = /^\.pyctl-install-(\d+)\.json$/;

export const journalPath = (venv: string) => join(venv, `.pyctl-install-${process.pid}.json`);

export function writeJournal(venv: string, entries: JournalEntry[]): string {
  const path = journalPath(venv);
  // Flushed: after a power cut the files it names may be there, so must the list be.
  writeAtomic(path, JSON.stringify(entries));
  return path;
}

export function dropJournal(path: string): void {
  rmSync(path, { force: true });
}

function pruneEmpty(dir: string, stop: string): void {
  for (let d = dir; d.startsWith(stop + '/') && d !== stop; d = dirname(d)) {
    try {
      rmdirSync(d);
    } catch {
      return;
    }
  }
}

/**
 * Remove what the journal's unfinished installs created: each entry whose dist-info has no
 * RECORD loses its files and its whole dist-info. Returns the dist-info folders removed.
 */
export function undoJournal(venv: string, entries: JournalEntry[]): string[] {
  const removed: string[] = [];
  for (const e of entries) {
    if (existsSync(join(e.distInfo, 'RECORD'))) continue; // finished: a whole install
    for (const f of [...e.files, ...storedFiles(venv, e.stored)]) {
      rmSync(f, { force: true });
      pruneEmpty(dirname(f), venv);
    }
    if (existsSync(e.distInfo)) removed.push(e.distInfo);
    rmSync(e.distInfo, { recursive: true, force: true });
    pruneEmpty(dirname(e.distInfo), venv);
  }
  return removed;
}

/** A stored package's files in the venv, from its index (none when it cannot be read: the dist-info still goes). */
function storedFiles(venv: string, index?: string): string[] {
  if (!index) return [];
  try {
    const e = JSON.parse(readFileSync(index, 'utf8')) as { files?: unknown };
    return Array.isArray(e.files) ? e.files.filter((f): f is [string] => Array.isArray(f) && typeof f[0] === 'string').map((f) => join(venv, f[0])) : [];
  } catch {
    return [];
  }
}

/** Journals of installs whose process is gone. */
export function deadJournals(venv: string): string[] {
  let names: string[];
  try {
    names = readdirSync(venv);
  } catch {
    return [];
  }
  return names
    .filter((n) => {
      const m = NAME.exec(n);
      return m && !holderAlive({ pid: Number(m[1]), host: hostname(), what: '' });
    })
    .map((n) => join(venv, n));
}

/** Sweep every dead install's leftovers; the dist-info folders removed (what was half installed). */
export function sweepJournals(venv: string): string[] {
  const removed: string[] = [];
  for (const path of deadJournals(venv)) {
    let entries: JournalEntry[] = [];
    try {
      entries = JSON.parse(readFileSync(path, 'utf8')) as JournalEntry[];
    } catch {
      // a journal cut short: its writer died before the first file, so nothing to undo
    }
    removed.push(...undoJournal(venv, Array.isArray(entries) ? entries : []));
    dropJournal(path);
  }
  return removed;
}
