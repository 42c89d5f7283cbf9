/**
 * A recorded state as PEP 751 packages (export --format pylock): each version's file as pip
 * installed it (provenance.txt: url and sha256), with its index and size when the index lists it;
 * a version with no recorded origin gets every file the index has for it (as uv and pip-compile
 * do). Editables, local directories and VCS checkouts become `directory` and `vcs` entries.
 */
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PyctlError } from '../errors.js';
import { canonicalName } from '../packaging/names.js';
import type { LockFile, LockPackage } from '../packaging/pylock.js';
import { wheelKey } from '../packaging/wheel-name.js';
import { directUrl, editableTarget, parseFreeze, requirementLine } from '../packaging/parse-freeze.js';
import type { VersionFile } from './index.js';
import { fileNameOf, type Origins } from './origins.js';

/** Installed by venv creation itself; without a recorded origin they have no index file. */
const SEED = new Set(['pip', 'setuptools', 'wheel', 'distribute']);

export interface LockSources {
  origins: Origins;
  /** The index's files for a version (PEP 503/691), with the index that lists them. */
  index: (name: string, version: string) => Promise<VersionFile[]>;
}

const sizeOfFileUrl = (url: string): number | undefined => {
  try {
    return url.startsWith('file:') ? statSync(fileURLToPath(url.split('#')[0])).size : undefined;
  } catch {
    return undefined;
  }
};

const fileEntry = (file: string, url: string, sha256: string, size?: number): LockFile => ({ name: file, url, ...(size !== undefined ? { size } : {}), hashes: { sha256 } });

/** `git+https://host/repo@commit` (pip's VCS URL form) -> a PEP 751 vcs table. */
function vcsTable(url: string): LockPackage['vcs'] | null {
  const m = /^(git|hg|svn|bzr)\+(.+)@([0-9a-f]{7,64})(?:#.*)?$/i.exec(url);
  return m ? { type: m[1].toLowerCase(), url: m[2], 'commit-id': m[3] } : null;
}

export async function lockPackages(freeze: string, sources: LockSources): Promise<{ packages: LockPackage[]; leftOut: string[] }> {
  const packages: LockPackage[] = [];
  const leftOut: string[] = [];
  const unknown: string[] = [];
  for (const e of parseFreeze(freeze).values()) {
    const last = requirementLine(e);
    const name = canonicalName(e.name);
    const editable = editableTarget(last);
    if (editable) {
      const vcs = vcsTable(editable.replace(/#egg=.*$/, ''));
      if (vcs) packages.push({ name, vcs });
      else packages.push({ name, directory: { path: editable.startsWith('file:') ? fileURLToPath(editable) : editable, editable: true } });
      continue;
    }
    const direct = directUrl(last);
    const origin = e.version ? sources.origins.get(wheelKey(e.name, e.version)) : undefined;
    if (direct) {
      const vcs = vcsTable(direct) ?? (origin?.kind === 'vcs' ? vcsTable(origin.url) : null);
      if (vcs) {
        packages.push({ name, vcs });
        continue;
      }
      const bare = direct.split('#')[0];
      if (origin?.kind === 'local-dir' || (bare.startsWith('file:') && !/\.(whl|tar\.gz|zip|tar\.bz2)$/i.test(bare))) {
        packages.push({ name, directory: { path: bare.startsWith('file:') ? fileURLToPath(bare) : bare } });
        continue;
      }
      const sha = /(?:^|&)sha256=([0-9a-f]{64})/i.exec(direct.split('#')[1] ?? '')?.[1]?.toLowerCase() ?? (origin?.kind === 'archive' ? origin.sha256 : undefined);
      if (!sha) {
        unknown.push(`${e.name} (${bare}: no recorded sha256)`);
        continue;
      }
      const size = sizeOfFileUrl(bare);
      packages.push({ name, ...(e.version ? { version: e.version } : {}), archive: { url: bare, ...(size !== undefined ? { size } : {}), hashes: { sha256: sha } } });
      continue;
    }
    if (origin?.kind === 'vcs') {
      const vcs = vcsTable(origin.url);
      if (vcs) packages.push({ name, vcs });
      else unknown.push(`${e.name} (built from ${origin.url})`);
      continue;
    }
    if (origin?.kind === 'local-dir') {
      packages.push({ name, directory: { path: origin.url.startsWith('file:') ? fileURLToPath(origin.url) : origin.url } });
      continue;
    }
    if (origin?.kind === 'archive' && origin.sha256) {
      const file = origin.file ?? fileNameOf(origin.url);
      // The index that served it, and its size, when the index lists this very file.
      const listed = origin.url.startsWith('file:') ? undefined : (await sources.index(e.name, e.version)).find((f) => f.sha256 === origin.sha256);
      const entry = fileEntry(file, origin.url, origin.sha256, listed?.size ?? sizeOfFileUrl(origin.url));
      const where = listed ? { index: listed.index } : {};
      packages.push(file.endsWith('.whl') ? { name, version: e.version, ...where, wheels: [entry] } : { name, version: e.version, ...where, sdist: entry });
      continue;
    }
    const files = await sources.index(e.name, e.version);
    if (files.length) {
      const wheels = files.filter((f) => f.file.endsWith('.whl')).map((f) => fileEntry(f.file, f.url, f.sha256, f.size));
      const sdist = files.find((f) => !f.file.endsWith('.whl'));
      packages.push({ name, version: e.version, index: files[0].index, ...(wheels.length ? { wheels } : {}), ...(sdist ? { sdist: fileEntry(sdist.file, sdist.url, sdist.sha256, sdist.size) } : {}) });
      continue;
    }
    if (SEED.has(name)) {
      leftOut.push(`${e.name}==${e.version}`);
      continue;
    }
    unknown.push(`${e.name}==${e.version}`);
  }
  if (unknown.length) {
    throw new PyctlError(
      'MISSING_WHEEL',
      `cannot lock ${unknown.join(', ')}: no recorded origin and not on the index, so there is no file to name`,
      'reinstall them with pip so pyctl records where they came from, or export a requirements file (--format requirements)',
    );
  }
  return { packages, leftOut };
}
