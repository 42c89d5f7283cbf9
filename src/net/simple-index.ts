/**
 * A minimal client of the simple repository API for one job: the newest pip wheel a Python can
 * run, from the indexes pip is configured with (PEP 503 HTML or PEP 691 JSON), downloaded and
 * checked against the sha256 the index publishes. Pure parsing is separate from fetching.
 */
import { createHash } from 'node:crypto';
import { PyctlError } from '../errors.js';
import { compareVersions } from '../packaging/pep440.js';
import { versionSpec } from '../packaging/pep508.js';
import { canonicalName } from '../packaging/names.js';
import { get, redact, urlCredentials, type GetOptions } from './http.js';

export interface IndexFile {
  filename: string;
  url: string;
  sha256?: string;
  requiresPython?: string;
  yanked: boolean;
  /** Bytes (PEP 691 JSON; PEP 503 pages do not say). */
  size?: number;
}

// pip's Accept header: JSON preferred, HTML accepted.
const ACCEPT = 'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01';

function unescapeHtml(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[e.toLowerCase()] ?? m;
  });
}

function attrs(tag: string): Map<string, string | true> {
  const out = new Map<string, string | true>();
  const re = /([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g;
  for (const m of tag.matchAll(re)) out.set(m[1].toLowerCase(), m[2] ?? m[3] ?? m[4] ?? true);
  return out;
}

/** Files of a PEP 503 HTML project page; hrefs resolved against `pageUrl` (or a <base href>). */
export function parseHtml(html: string, pageUrl: string): IndexFile[] {
  const base = /<base\s([^>]*)>/i.exec(html);
  const baseHref = base ? attrs(base[1]).get('href') : undefined;
  const root = typeof baseHref === 'string' ? new URL(unescapeHtml(baseHref), pageUrl).toString() : pageUrl;
  const files: IndexFile[] = [];
  for (const m of html.matchAll(/<a\s([^>]*)>([\s\S]*?)<\/a>/gi)) {
    const a = attrs(m[1]);
    const href = a.get('href');
    if (typeof href !== 'string') continue;
    const url = new URL(unescapeHtml(href), root);
    const frag = /^#?sha256=([0-9a-f]{64})$/i.exec(url.hash);
    url.hash = '';
    const rp = a.get('data-requires-python');
    files.push({
      filename: decodeURIComponent(url.pathname.slice(url.pathname.lastIndexOf('/') + 1)),
      url: url.toString(),
      sha256: frag?.[1]?.toLowerCase(),
      requiresPython: typeof rp === 'string' ? unescapeHtml(rp) : undefined,
      yanked: a.has('data-yanked'),
    });
  }
  return files;
}

/** Files of a PEP 691 JSON project page. */
export function parseJson(text: string, pageUrl: string): IndexFile[] {
  const doc = JSON.parse(text) as { files?: { filename: string; url: string; hashes?: Record<string, string>; 'requires-python'?: string; yanked?: boolean | string; size?: number }[] };
  return (doc.files ?? []).map((f) => ({
    filename: f.filename,
    url: new URL(f.url, pageUrl).toString(),
    sha256: f.hashes?.sha256?.toLowerCase(),
    requiresPython: f['requires-python'] || undefined,
    yanked: f.yanked !== undefined && f.yanked !== false,
    ...(typeof f.size === 'number' ? { size: f.size } : {}),
  }));
}

/** Does a Requires-Python specifier set (">=3.8,!=3.9.0") admit this Python version? */
export function pythonAllowed(spec: string | undefined, python: string): boolean {
  if (!spec) return true;
  return spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .every((clause) => {
      const m = /^(~=|===|==|!=|<=|>=|<|>)\s*(.+)$/.exec(clause);
      return m ? versionSpec(python, m[1] === '===' ? '==' : m[1], m[2].trim()) : true;
    });
}

/** The best pure-Python wheel of `project` for `python` (newest final release, not yanked), or undefined. */
export function pickWheel(files: IndexFile[], project: string, python: string): (IndexFile & { version: string }) | undefined {
  const key = canonicalName(project);
  const ok = files.flatMap((f) => {
    const m = /^([^-]+)-([^-]+)(?:-\d[^-]*)?-([^-]+)-([^-]+)-([^-]+)\.whl$/.exec(f.filename);
    if (!m || canonicalName(m[1]) !== key || f.yanked) return [];
    if (!m[3].split('.').some((t) => t === 'py3' || t === `py${python.split('.').slice(0, 2).join('')}`)) return [];
    if (m[4] !== 'none' || m[5] !== 'any') return [];
    if (!pythonAllowed(f.requiresPython, python)) return [];
    return [{ ...f, version: m[2] }];
  });
  const finals = ok.filter((f) => /^\d+(\.\d+)*(\.post\d+)?$/.test(f.version));
  const pool = finals.length ? finals : ok;
  return pool.sort((a, b) => compareVersions(b.version, a.version))[0];
}

/** The project page URL under an index (PEP 503: <index>/<normalized name>/). */
function projectUrl(index: string, project: string): string {
  return `${index.replace(/\/+$/, '')}/${canonicalName(project)}/`;
}

export interface Downloaded {
  filename: string;
  data: Buffer;
  index: string;
  version: string;
}

/**
 * Find and download `project`'s best wheel for `python` from `indexes` (merged, as pip does),
 * verified against the index's sha256. Nothing is written: the caller keeps the bytes.
 */
export async function downloadWheel(project: string, python: string, indexes: string[], opts: GetOptions): Promise<Downloaded> {
  const auth = new Map(opts.auth ?? []);
  const found: { file: IndexFile & { version: string }; index: string }[] = [];
  const failures: string[] = [];
  for (const index of indexes) {
    const u = new URL(index);
    const cred = urlCredentials(u);
    if (cred) auth.set(u.host, cred); // pip sends an index's credentials to its files on the same host too
    const page = projectUrl(index, project);
    try {
      const res = await get(page, { ...opts, auth, accept: ACCEPT });
      const files = /json/.test(res.contentType) ? parseJson(res.body.toString('utf8'), res.url) : parseHtml(res.body.toString('utf8'), res.url);
      const best = pickWheel(files, project, python);
      if (best) found.push({ file: best, index });
      else failures.push(`${redact(page)} lists no ${project} wheel for Python ${python}`);
    } catch (e) {
      failures.push((e as Error).message);
    }
  }
  found.sort((a, b) => compareVersions(b.file.version, a.file.version));
  const pick = found[0];
  if (!pick) {
    throw new PyctlError('MISSING_WHEEL', `cannot get a ${project} wheel from ${indexes.map(redact).join(', ')}: ${failures[0] ?? 'nothing found'}`, HINT);
  }
  const { file, index } = pick;
  if (!file.sha256) {
    throw new PyctlError('MISSING_WHEEL', `refusing ${file.filename} from ${redact(index)}: the index publishes no sha256 for it, so the download cannot be checked`, HINT);
  }
  const res = await get(file.url, { ...opts, auth }).catch((e: Error) => {
    throw new PyctlError('MISSING_WHEEL', `cannot download ${file.filename}: ${e.message}`, HINT);
  });
  const got = createHash('sha256').update(res.body).digest('hex');
  if (got !== file.sha256) {
    throw new PyctlError('MISSING_WHEEL', `refusing ${file.filename} from ${redact(index)}: its sha256 is ${got}, the index says ${file.sha256}`, HINT);
  }
  return { filename: file.filename, data: res.body, index, version: file.version };
}

const HINT = 'download a pip wheel yourself (e.g. from https://pypi.org/project/pip/#files) and pass it with --pip-wheel FILE; nothing was changed';
