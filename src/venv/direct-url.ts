/** PEP 610 direct_url.json: validated like pip's DirectUrl.from_json, printed like pip freeze. */
import { pyAbspath, unquote } from './pypath.js';
import { maskSecrets } from '../sharing/mask.js';

export interface DirectUrl {
  url: string;
  subdirectory?: string;
  dir_info?: { editable?: boolean };
  archive_info?: { hash?: string; hashes?: Record<string, string> };
  vcs_info?: unknown;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parse and validate; undefined when pip would reject it (pip then ignores the file). */
export function parseDirectUrl(text: string): DirectUrl | undefined {
  let d: unknown;
  try {
    d = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObj(d) || typeof d.url !== 'string') return undefined;
  if ('subdirectory' in d && typeof d.subdirectory !== 'string') return undefined;
  let infos = 0;
  for (const k of ['archive_info', 'dir_info', 'vcs_info']) {
    if (!(k in d)) continue;
    if (!isObj(d[k])) return undefined;
    infos++;
  }
  if (infos !== 1) return undefined;
  if (isObj(d.dir_info) && 'editable' in d.dir_info && typeof d.dir_info.editable !== 'boolean') return undefined;
  if (isObj(d.archive_info)) {
    const a = d.archive_info;
    if ('hash' in a && (typeof a.hash !== 'string' || !a.hash.includes('='))) return undefined;
    if ('hashes' in a && !isObj(a.hashes)) return undefined;
  }
  if (isObj(d.vcs_info)) {
    const v = d.vcs_info;
    if (typeof v.vcs !== 'string' || typeof v.commit_id !== 'string') return undefined;
    if ('requested_revision' in v && typeof v.requested_revision !== 'string') return undefined;
  }
  return d as unknown as DirectUrl;
}

export function isLocalEditable(du: DirectUrl): boolean {
  return du.dir_info?.editable === true;
}

/** pip's direct_url_as_pep440_direct_reference: `Name @ url[#hash][&subdirectory=...]`. */
export function directReference(du: DirectUrl, name: string): string {
  let req = `${name} @ `;
  // pip strips user:password from direct_url.json but not tokens in a query string: the freeze
  // line is what gets committed and pushed, so it never carries one.
  du = { ...du, url: maskSecrets(du.url) };
  const fragments: string[] = [];
  const vcs = du.vcs_info as { vcs: string; commit_id: string } | undefined;
  if (vcs) {
    req += `${vcs.vcs}+${du.url}@${vcs.commit_id}`;
  } else if (du.archive_info) {
    req += du.url;
    if (du.archive_info.hash) fragments.push(du.archive_info.hash);
  } else {
    req += du.url;
  }
  if (du.subdirectory) fragments.push(`subdirectory=${du.subdirectory}`);
  if (fragments.length) req += `#${fragments.join('&')}`;
  return req;
}

/** pip's url_to_path on POSIX, then abspath as freeze does for editable locations. */
export function fileUrlToPath(url: string): string {
  let rest = url.replace(/^file:/i, '');
  if (rest.startsWith('//')) {
    const end = rest.slice(2).search(/[/?#]/);
    rest = end < 0 ? '' : rest.slice(2 + end);
  }
  rest = rest.replace(/[?#].*$/s, '');
  return pyAbspath(unquote(rest));
}
