/**
 * Asking a package index for a version's files and their sha256, as pip-compile does for hashes
 * it has not seen downloaded. Fetching and PEP 503/691 parsing are net/'s (http.ts,
 * simple-index.ts); which indexes, pip's configuration as net/pip-config.ts reads it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { get, urlCredentials } from '../net/http.js';
import { pipSettings } from '../net/pip-config.js';
import { parseHtml, parseJson } from '../net/simple-index.js';
import { normalizeVersion } from '../packaging/pep440.js';
import { canonicalName } from '../packaging/names.js';
import { parseWheelName } from '../packaging/wheel-name.js';
import { maskSecrets } from '../sharing/mask.js';

export interface VersionFile {
  file: string;
  url: string;
  sha256: string;
  size?: number;
  /** The index that lists it (credentials masked). */
  index: string;
}

const ACCEPT = 'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01';

/** The index URLs pip would use for this venv, in pip's order (none with no-index). */
export function pipIndexUrls(venv: string, env: NodeJS.ProcessEnv = process.env): string[] {
  return pipSettings(env, venv).indexes;
}

/** A version's distribution files on one index, with their sha256 ([] when it cannot tell). */
export async function indexFiles(index: string, name: string, version: string, env: NodeJS.ProcessEnv = process.env): Promise<VersionFile[]> {
  const page = `${index.replace(/\/+$/, '')}/${canonicalName(name)}/`;
  let files;
  try {
    if (page.startsWith('file:')) {
      files = parseHtml(readFileSync(`${fileURLToPath(page)}index.html`, 'utf8'), page);
    } else {
      const u = new URL(index);
      const cred = urlCredentials(u);
      const settings = pipSettings(env);
      const res = await get(page, { env, accept: ACCEPT, proxy: settings.proxy, cert: settings.cert, auth: cred ? new Map([[u.host, cred]]) : undefined, timeoutMs: 20_000 });
      const body = res.body.toString('utf8');
      files = /json/.test(res.contentType) ? parseJson(body, res.url) : parseHtml(body, res.url);
    }
  } catch {
    return [];
  }
  const want = normalizeVersion(version) ?? version;
  const where = maskSecrets(index);
  return files
    .filter((f) => f.sha256 && versionOfFile(f.filename, name) === want)
    .map((f) => ({ file: f.filename, url: f.url, sha256: f.sha256!, index: where, ...(f.size !== undefined ? { size: f.size } : {}) }));
}

/** The version in a wheel's or sdist's file name, normalized; null when it is neither or another project's. */
export function versionOfFile(file: string, name: string): string | null {
  const w = parseWheelName(file);
  if (w) return w.key === canonicalName(name) ? w.version : null;
  const m = /^(.+)-([^-]+)\.(tar\.gz|zip|tar\.bz2)$/i.exec(file);
  if (!m || canonicalName(m[1]) !== canonicalName(name)) return null;
  return normalizeVersion(m[2]) ?? m[2];
}
