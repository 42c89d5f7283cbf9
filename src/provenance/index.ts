/**
 * Asking a package index for a version's files and their sha256 (PEP 691 JSON, else PEP 503
 * HTML with `#sha256=` fragments), as pip-compile does for hashes it has not seen downloaded.
 * Which indexes: pip's own configuration for the venv (`pip config list`, PIP_INDEX_URL,
 * PIP_EXTRA_INDEX_URL), in pip's order.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { canonicalName, normalizeVersion } from '../packaging/pep440.js';
import { parseWheelName } from '../packaging/wheel-name.js';
import { runPip } from '../pip/run.js';

export interface IndexFile {
  file: string;
  url: string;
  sha256: string;
  size?: number;
}

const JSON_TYPE = 'application/vnd.pypi.simple.v1+json';

/** The index URLs pip would use for this venv (none configured: PyPI). */
export async function pipIndexUrls(venv: string, env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  let index = env.PIP_INDEX_URL;
  const extra = (env.PIP_EXTRA_INDEX_URL ?? '').split(/\s+/).filter(Boolean);
  if (env.PIP_NO_INDEX && env.PIP_NO_INDEX !== '0' && env.PIP_NO_INDEX.toLowerCase() !== 'false') return [];
  const r = await runPip(venv, ['config', 'list']).catch(() => null);
  for (const line of r?.exitCode === 0 ? r.stdout.split('\n') : []) {
    const m = /^[^.]*\.(index-url|extra-index-url)='(.*)'$/.exec(line.trim());
    if (!m) continue;
    if (m[1] === 'index-url') index ??= m[2];
    else extra.push(...m[2]!.split(/\s+/).filter(Boolean));
  }
  return [...new Set([index ?? 'https://pypi.org/simple/', ...extra])];
}

/** A version's distribution files on one index, with their sha256 ([] when it cannot tell). */
export async function indexFiles(index: string, name: string, version: string): Promise<IndexFile[]> {
  const page = `${index.replace(/\/+$/, '')}/${canonicalName(name)}/`;
  let files: { filename: string; url: string; sha256?: string; size?: number }[];
  try {
    if (page.startsWith('file:')) {
      let path = fileURLToPath(page);
      let html: string;
      try {
        html = readFileSync(`${path}index.html`, 'utf8');
      } catch {
        path = path.replace(/\/$/, '.html');
        html = readFileSync(path, 'utf8');
      }
      files = fromHtml(html, page);
    } else {
      const res = await fetch(page, { headers: { Accept: `${JSON_TYPE}, text/html;q=0.1` }, signal: AbortSignal.timeout(20_000) });
      if (!res.ok) return [];
      const type = res.headers.get('content-type') ?? '';
      const body = await res.text();
      files = type.includes('json') ? fromJson(body, res.url || page) : fromHtml(body, res.url || page);
    }
  } catch {
    return [];
  }
  const want = normalizeVersion(version) ?? version;
  return files
    .filter((f) => f.sha256 && versionOfFile(f.filename, name) === want)
    .map((f) => ({ file: f.filename, url: f.url, sha256: f.sha256!, ...(f.size !== undefined ? { size: f.size } : {}) }));
}

/** The version in a wheel's or sdist's file name, normalized; null when it is neither. */
export function versionOfFile(file: string, name: string): string | null {
  const w = parseWheelName(file);
  if (w) return w.key === canonicalName(name) ? w.version : null;
  const m = /^(.+)-([^-]+)\.(tar\.gz|zip|tar\.bz2)$/i.exec(file);
  if (!m || canonicalName(m[1]!) !== canonicalName(name)) return null;
  return normalizeVersion(m[2]!) ?? m[2]!;
}

export function fromJson(body: string, base: string): { filename: string; url: string; sha256?: string; size?: number }[] {
  const doc = JSON.parse(body) as { files?: { filename: string; url: string; hashes?: Record<string, string>; size?: number }[] };
  return (doc.files ?? []).map((f) => ({ filename: f.filename, url: new URL(f.url, base).toString(), sha256: f.hashes?.sha256, size: f.size }));
}

export function fromHtml(body: string, base: string): { filename: string; url: string; sha256?: string }[] {
  const out: { filename: string; url: string; sha256?: string }[] = [];
  for (const m of body.matchAll(/<a\s[^>]*href="([^"]+)"[^>]*>([^<]*)<\/a>/gi)) {
    const href = m[1]!.replace(/&amp;/g, '&');
    const abs = new URL(href, base);
    const sha = /(?:^|&)sha256=([0-9a-f]{64})/i.exec(abs.hash.slice(1))?.[1];
    abs.hash = '';
    const filename = m[2]!.trim() || decodeURIComponent(abs.pathname.slice(abs.pathname.lastIndexOf('/') + 1));
    out.push({ filename, url: abs.toString(), ...(sha ? { sha256: sha.toLowerCase() } : {}) });
  }
  return out;
}
