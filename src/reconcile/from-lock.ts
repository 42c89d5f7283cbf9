/**
 * Pure: what a lock file's packages mean for a restore. Each package becomes the freeze line pip
 * would show once it is installed (`name==version` for index files, `name @ url` for an archive,
 * VCS or directory), the files it may come from (to fetch, with their sha256), and the origin to
 * record, so a restored venv exports the same hashes.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PyctlError } from '../errors.js';
import type { LockFile, LockPackage } from '../packaging/pylock.js';
import { wheelKey } from '../packaging/wheel-name.js';
import { fileNameOf, type Origin } from '../provenance/origins.js';
import { maskSecrets } from '../sharing/mask.js';
import type { KnownFile } from './sources.js';

/** A file a locked version can be installed from (pip picks the best one for the venv). */
export interface LockedFile extends KnownFile {
  url: string;
}

export interface LockTargets {
  /** Freeze lines of the target state. */
  lines: string[];
  /** Files each index-style version may be fetched from, by wheelKey. */
  files: Map<string, LockedFile[]>;
  origins: Origin[];
}

export function lockTargets(packages: LockPackage[], lockDir: string, lockName: string): LockTargets {
  const out: LockTargets = { lines: [], files: new Map(), origins: [] };
  const urlOf = (f: { url?: string; path?: string }) => f.url ?? pathToFileURL(isAbsolute(f.path!) ? f.path! : resolve(lockDir, f.path!)).href;
  const sha = (p: LockPackage, f: LockFile) => {
    const h = f.hashes.sha256;
    if (!h || !/^[0-9a-f]{64}$/.test(h))
      throw new PyctlError('BAD_LOCK', `${lockName}: package ${p.name}: only sha256 hashes are supported (found ${Object.keys(f.hashes).join(', ')})`, 'lock it again with sha256 hashes');
    return h;
  };
  for (const p of packages) {
    if (p.wheels || p.sdist) {
      if (!p.version) throw new PyctlError('BAD_LOCK', `${lockName}: package ${p.name} has files but no version`, 'lock files from pip lock and uv give one');
      const files = [...(p.wheels ?? []), ...(p.sdist ? [p.sdist] : [])].map((f) => {
        const url = urlOf(f);
        return { url, file: f.name ?? fileNameOf(url), sha256: sha(p, f) };
      });
      out.lines.push(`${p.name}==${p.version}`);
      out.files.set(wheelKey(p.name, p.version), files);
      if (files.length === 1) out.origins.push({ name: p.name, version: p.version, kind: 'archive', sha256: files[0].sha256, file: files[0].file, url: maskSecrets(files[0].url) });
    } else if (p.archive) {
      const url = urlOf(p.archive);
      const sub = p.archive.subdirectory ? `&subdirectory=${p.archive.subdirectory}` : '';
      out.lines.push(`${p.name} @ ${url}#sha256=${sha(p, p.archive)}${sub}`);
    } else if (p.vcs) {
      const v = p.vcs;
      const where = v.url ?? pathToFileURL(isAbsolute(v.path!) ? v.path! : resolve(lockDir, v.path!)).href;
      out.lines.push(`${p.name} @ ${v.type}+${where}@${v['commit-id']}${v.subdirectory ? `#subdirectory=${v.subdirectory}` : ''}`);
    } else if (p.directory) {
      const dir = isAbsolute(p.directory.path) ? p.directory.path : resolve(lockDir, p.directory.path);
      const at = p.directory.subdirectory ? resolve(dir, p.directory.subdirectory) : dir;
      out.lines.push(p.directory.editable ? `-e ${at}` : `${p.name} @ ${pathToFileURL(at).href}`);
    }
  }
  return out;
}
