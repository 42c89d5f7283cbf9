/**
 * Find distributions in sys.path entries the way pip 23.2's importlib backend does
 * (importlib.metadata's Lookup + pip's _DistributionFinder): per entry, *.dist-info and
 * *.egg-info grouped by normalized directory-name prefix in directory order, then the targets of
 * *.egg-link files; the first distribution of each canonical METADATA Name wins.
 */
import { type Dirent, opendirSync, readFileSync, statSync } from 'node:fs';
import { canonicalName } from '../packaging/names.js';
import { header, parseHeaders, readHeaderText } from '../packaging/headers.js';
import { pathlibStr } from './pypath.js';
import type { CachedDist, ScanCache } from './scan-cache.js';

export interface FoundDist {
  name: string;
  key: string;
  rawVersion: string | undefined;
  /** What a ScanCache held for this directory (then nothing inside it needs reading). */
  cached?: CachedDist;
  /** The .dist-info / .egg-info directory or file. */
  infoPath: string;
  infoIsDir: boolean;
  /** The .egg-link file this was reached through, if any. */
  eggLink?: string;
}

export interface Entry {
  dir: string;
  names: Dirent[];
}

/** Directory entries in the OS's raw order (os.listdir order), or null when unreadable. */
export function listDir(dir: string): Dirent[] | null {
  let d;
  try {
    d = opendirSync(dir, { bufferSize: 256 });
  } catch {
    return null;
  }
  const out: Dirent[] = [];
  try {
    for (let e = d.readSync(); e !== null; e = d.readSync()) out.push(e);
  } catch {
    /* keep what was read */
  } finally {
    d.closeSync();
  }
  return out;
}

function isDir(dir: string, e: Dirent): boolean {
  if (e.isDirectory()) return true;
  if (!e.isSymbolicLink()) return false;
  try {
    return statSync(`${dir}/${e.name}`).isDirectory();
  } catch {
    return false;
  }
}

export function isFileEntry(dir: string, e: Dirent): boolean {
  if (e.isFile()) return true;
  if (!e.isSymbolicLink()) return false;
  try {
    return statSync(`${dir}/${e.name}`).isFile();
  } catch {
    return false;
  }
}

/** importlib.metadata Prepared.normalize of the directory-name prefix. */
const groupKey = (low: string) => {
  const stem = low.slice(0, low.lastIndexOf('.'));
  const i = stem.indexOf('-');
  return (i < 0 ? stem : stem.slice(0, i)).replace(/[-_.]+/g, '-').replace(/-/g, '_');
};

/** importlib.metadata's PathDistribution.metadata text: METADATA, else PKG-INFO, else the file itself. */
function metadataText(path: string, dir: boolean): string | null {
  if (!dir) return readHeaderText(path);
  return readHeaderText(`${path}/METADATA`) || readHeaderText(`${path}/PKG-INFO`);
}

export class Finder {
  readonly found: FoundDist[] = [];
  private readonly seen = new Set<string>();
  constructor(private readonly cache?: ScanCache) {}

  /** Distributions directly in a directory whose entries are given. */
  find(dir: string, names: Dirent[], eggLink?: string): void {
    const groups = new Map<string, Dirent[]>();
    for (const e of names) {
      const low = e.name.toLowerCase();
      if (!low.endsWith('.dist-info') && !low.endsWith('.egg-info')) continue;
      const k = groupKey(low);
      const g = groups.get(k);
      if (g) g.push(e);
      else groups.set(k, [e]);
    }
    for (const group of groups.values()) {
      for (const e of group) {
        const infoPath = `${dir}/${e.name}`;
        const infoIsDir = isDir(dir, e);
        const cached = infoIsDir ? this.cache?.get(infoPath) : undefined;
        let name: string | undefined;
        let rawVersion: string | undefined;
        if (cached) {
          name = cached.name;
          rawVersion = cached.rawVersion;
        } else {
          const headers = parseHeaders(metadataText(infoPath, infoIsDir) ?? '');
          name = header(headers, 'Name');
          rawVersion = header(headers, 'Version');
        }
        if (name === undefined) continue; // pip: "Skipping ... invalid metadata entry 'name'"
        const key = canonicalName(name);
        if (this.seen.has(key)) continue;
        this.seen.add(key);
        this.found.push({ name, key, rawVersion, infoPath, infoIsDir, eggLink, ...(cached ? { cached } : {}) });
      }
    }
  }

  /** Distributions in the targets of the *.egg-link files of a directory (pip's find_linked). */
  findLinked(dir: string, names: Dirent[]): void {
    for (const e of names) {
      const dot = e.name.lastIndexOf('.');
      if (dot <= 0 || e.name.slice(dot) !== '.egg-link') continue;
      const link = `${dir}/${e.name}`;
      let text: string;
      try {
        text = readFileSync(link, 'utf8');
      } catch {
        continue;
      }
      const target = text
        .split(/\r\n|\r|\n/)
        .map((l) => l.trim())
        .find((l) => l);
      if (!target) continue;
      const targetDir = pathlibStr(target.startsWith('/') ? target : `${dir}/${target}`);
      const targetNames = listDir(targetDir);
      if (targetNames) this.find(targetDir, targetNames, link);
    }
  }
}
