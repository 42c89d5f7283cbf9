/**
 * Pure: where each package version came from, kept as `provenance.txt` in the state repo beside
 * freeze.txt (plain text, one line per version, sorted, so `git diff` reads it and it travels
 * with pushes and snapshots). A catalogue: entries stay when a version is uninstalled, so undo,
 * restore and export of an older state still find them; the newest record of a version wins.
 *
 *   name==version sha256:<hex> <file name> <url>      a file pip downloaded or found (hash of that file)
 *   name==version local-dir - <url>                   built from a local source tree: no made-up hash
 *   name==version vcs - <url>                         built from a VCS checkout (url@commit)
 *
 * URLs are stored with credentials masked (sharing/mask.ts).
 */
import { maskSecrets } from '../sharing/mask.js';
import { wheelKey } from '../packaging/wheel-name.js';

export const PROVENANCE_HEADER =
  "# Where each package version came from, from pip's install report (pyctl keeps it; see docs/sharing.md).\n# name==version  sha256:HASH | local-dir | vcs  file  url\n";

export interface Origin {
  /** As pip reported it. */
  name: string;
  version: string;
  kind: 'archive' | 'local-dir' | 'vcs';
  /** sha256 of the file pip installed from (archives only). */
  sha256?: string;
  /** The file's name (archives only). */
  file?: string;
  /** Credentials masked. */
  url: string;
}

export type Origins = Map<string, Origin>;

export const originKey = (o: { name: string; version: string }) => wheelKey(o.name, o.version);

/** The entries of pip's `--report` JSON (pip >= 22.2), one per installed distribution. */
export function originsFromReport(json: string): Origin[] {
  let report: { install?: unknown[] };
  try {
    report = JSON.parse(json) as { install?: unknown[] };
  } catch {
    return [];
  }
  const out: Origin[] = [];
  for (const raw of report.install ?? []) {
    const item = raw as {
      metadata?: { name?: string; version?: string };
      download_info?: { url?: string; archive_info?: { hash?: string; hashes?: Record<string, string> }; dir_info?: unknown; vcs_info?: { vcs?: string; commit_id?: string } };
    };
    const name = item.metadata?.name;
    const version = item.metadata?.version;
    const info = item.download_info;
    if (!name || !version || !info?.url) continue;
    const url = maskSecrets(info.url);
    if (info.vcs_info) {
      const at = info.vcs_info.commit_id ? `@${info.vcs_info.commit_id}` : '';
      out.push({ name, version, kind: 'vcs', url: `${info.vcs_info.vcs ?? 'vcs'}+${url}${at}` });
    } else if (info.dir_info !== undefined) {
      out.push({ name, version, kind: 'local-dir', url });
    } else {
      const a = info.archive_info ?? {};
      const legacy = /^sha256=([0-9a-f]{64})$/i.exec(a.hash ?? '');
      const sha256 = (a.hashes?.sha256 ?? legacy?.[1])?.toLowerCase();
      const file = fileNameOf(info.url);
      out.push({ name, version, kind: 'archive', url, file, ...(sha256 ? { sha256 } : {}) });
    }
  }
  return out;
}

/** The last path segment of a URL, without query or fragment. */
export function fileNameOf(url: string): string {
  const path = url.split(/[?#]/)[0];
  return decodeURIComponent(path.slice(path.lastIndexOf('/') + 1));
}

export function parseOrigins(text: string): Origins {
  const out: Origins = new Map();
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const [pin, how, file, url] = t.split(/\s+/);
    const m = /^(.+?)==(.+)$/.exec(pin ?? '');
    if (!m || !how || !url) continue;
    const o: Origin =
      how === 'local-dir' || how === 'vcs'
        ? { name: m[1], version: m[2], kind: how, url }
        : { name: m[1], version: m[2], kind: 'archive', url, ...(file && file !== '-' ? { file } : {}), ...(/^sha256:[0-9a-f]{64}$/.test(how) ? { sha256: how.slice(7) } : {}) };
    out.set(originKey(o), o);
  }
  return out;
}

export function formatOrigins(origins: Origins): string {
  const lines = [...origins.values()]
    .map((o) => {
      const how = o.kind === 'archive' ? (o.sha256 ? `sha256:${o.sha256}` : 'unhashed') : o.kind;
      return `${o.name}==${o.version} ${how} ${o.kind === 'archive' ? (o.file ?? '-') : '-'} ${o.url.replace(/\s/g, '%20')}`;
    })
    .map((l) => [l.toLowerCase(), l] as const)
    // Code-unit order, not localeCompare: its first call loads ICU's collator (~10-60 ms of
    // every recorded pip install), and the file's order should not depend on the locale.
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, l]) => l);
  return lines.length ? PROVENANCE_HEADER + lines.join('\n') + '\n' : '';
}

/** The catalogue with newer entries laid over older ones (later arguments win). */
export function mergeOrigins(...layers: (Origins | Origin[] | undefined)[]): Origins {
  const out: Origins = new Map();
  for (const layer of layers) {
    if (!layer) continue;
    for (const o of Array.isArray(layer) ? layer : layer.values()) out.set(originKey(o), o);
  }
  return out;
}
