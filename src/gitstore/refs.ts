/**
 * Read refs straight from the files, without loading isomorphic-git: the fast path of
 * `status` and of the pip hook's record. Falls back to null where it cannot be sure.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAutoSnapshot } from './refname.js';

export function readHeadOid(gitDir: string): string | null {
  let head: string;
  try {
    head = readFileSync(join(gitDir, 'HEAD'), 'utf8').trim();
  } catch {
    return null;
  }
  if (/^[0-9a-f]{40}$/.test(head)) return head;
  const m = /^ref: (.+)$/.exec(head);
  return m ? readRef(gitDir, m[1]) : null;
}

export function readRef(gitDir: string, ref: string): string | null {
  try {
    const oid = readFileSync(join(gitDir, ref), 'utf8').trim();
    if (/^[0-9a-f]{40}$/.test(oid)) return oid;
  } catch {
    // Not loose: look in packed-refs.
  }
  for (const [oid, name] of packedRefs(gitDir)) if (name === ref) return oid;
  return null;
}

function packedRefs(gitDir: string): [string, string][] {
  try {
    return readFileSync(join(gitDir, 'packed-refs'), 'utf8')
      .split('\n')
      .filter((l) => /^[0-9a-f]{40} /.test(l))
      .map((l) => [l.slice(0, 40), l.slice(41)] as [string, string]);
  } catch {
    return [];
  }
}

/** Tag names (loose and packed), without reading any object. */
export function tagNames(gitDir: string): string[] {
  return refNames(gitDir, 'tags');
}

/**
 * Snapshots by kind: named ones (yours and fetched-in names aside) and the automatic auto/...
 * ones. status and doctor both count with this, so they agree.
 */
export function snapshotCounts(gitDir: string): { named: number; auto: number } {
  const names = tagNames(gitDir);
  const auto = names.filter(isAutoSnapshot).length;
  return { named: names.length - auto, auto };
}

/** Snapshots fetched from a remote: the names under refs/remotes/REMOTE/tags/ (see sharing/remotes.ts). */
export function fetchedTagNames(gitDir: string, remote: string): string[] {
  return refNames(gitDir, `remotes/${remote}/tags`);
}

/** Local branch names (loose and packed). */
export function branchNames(gitDir: string): string[] {
  return refNames(gitDir, 'heads');
}

/** The remotes named in the repo's config (`[remote "NAME"]`). */
export function remoteNames(gitDir: string): string[] {
  let text: string;
  try {
    text = readFileSync(join(gitDir, 'config'), 'utf8');
  } catch {
    return [];
  }
  return [...text.matchAll(/^\s*\[remote "((?:[^"\\]|\\.)*)"\]/gm)].map((m) => m[1].replace(/\\(.)/g, '$1'));
}

function refNames(gitDir: string, kind: string): string[] {
  const names = new Set<string>();
  const walk = (dir: string, prefix: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isDirectory()) walk(join(dir, e.name), `${prefix}${e.name}/`);
      else names.add(`${prefix}${e.name}`);
    }
  };
  walk(join(gitDir, 'refs', ...kind.split('/')), '');
  const prefix = `refs/${kind}/`;
  for (const [, name] of packedRefs(gitDir)) if (name.startsWith(prefix)) names.add(name.slice(prefix.length));
  return [...names].sort();
}
