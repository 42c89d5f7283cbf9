/**
 * Pure: what a push sends, and whether what it sends looks like it holds a credential.
 * remotes.ts gathers the facts (refs, ancestry, object texts); this decides.
 */
import { PyctlError } from '../errors.js';
import { looksSecret, maskSecrets } from './mask.js';
import { BRANCH_REF, type RefUpdate } from './transport.js';
import { isAutoSnapshot } from '../gitstore/refname.js';

/** Snapshots under this prefix are pyctl's own automatic ones: not pushed unless named. */
/**
 * Not pushed unless named either: `pyctl init` tags its own first state `baseline` on every
 * machine, so a second machine pushing it would always collide with the first one's.
 */
export const MACHINE_TAGS = ['baseline'];

export type MainStatus = 'pushed' | 'up-to-date' | 'replaced' | 'diverged';
export interface PushTagResult {
  name: string;
  status: 'pushed' | 'up-to-date' | 'replaced';
}

/** The snapshots a push sends: those named, else every tag but automatic and machine ones. */
export function snapshotsToPush(requested: string[], localTags: string[]): string[] {
  const names = requested.length ? [...new Set(requested)] : localTags.filter((t) => !isAutoSnapshot(t) && !MACHINE_TAGS.includes(t));
  const missing = names.filter((n) => !localTags.includes(n));
  if (missing.length) throw new PyctlError('UNKNOWN_SNAPSHOT', `no snapshot named '${missing[0]}'`, "see 'pyctl list-snapshots'; push without names sends all snapshots");
  return names;
}

export interface PushFacts {
  remoteName: string;
  head: string;
  tags: { name: string; oid: string }[];
  /** The server's refs (full name -> oid). */
  remote: Map<string, string>;
  /** Whether the server's main (when it has one) is an ancestor of head. */
  remoteMainIsAncestor: boolean;
  /** Replace snapshots that differ on the remote. */
  force: boolean;
  /** Replace the remote's main when it has history head lacks (its own flag: it drops that history). */
  forceMain?: boolean;
}

export interface PushPlan {
  main: MainStatus;
  tags: PushTagResult[];
  /** In order: main first (a remote must never hold tags without a branch), then tags. */
  updates: RefUpdate[];
}

export function planPush(f: PushFacts): PushPlan {
  const remoteMain = f.remote.get(BRANCH_REF);
  let main: MainStatus;
  if (!remoteMain) main = 'pushed';
  else if (remoteMain === f.head) main = 'up-to-date';
  else if (f.remoteMainIsAncestor) main = 'pushed';
  else main = f.forceMain ? 'replaced' : 'diverged';

  const conflicts: string[] = [];
  const tags: PushTagResult[] = [];
  for (const tg of f.tags) {
    const there = f.remote.get(`refs/tags/${tg.name}`);
    if (!there) tags.push({ name: tg.name, status: 'pushed' });
    else if (there === tg.oid) tags.push({ name: tg.name, status: 'up-to-date' });
    else if (f.force) tags.push({ name: tg.name, status: 'replaced' });
    else conflicts.push(tg.name);
  }
  if (conflicts.length) {
    const list = conflicts.map((c) => `'${c}'`).join(', ');
    const s = conflicts.length > 1;
    throw new PyctlError(
      'REMOTE',
      `snapshot${s ? 's' : ''} ${list} already exist${s ? '' : 's'} on ${f.remoteName} with other content; nothing was pushed`,
      `'pyctl fetch ${f.remoteName}' and 'pyctl diff ${f.remoteName}/${conflicts[0]} ${conflicts[0]}' show the difference; --force replaces the remote one; or snapshot under another name`,
    );
  }
  const updates: RefUpdate[] = [];
  if (main === 'pushed' || main === 'replaced') updates.push({ ref: BRANCH_REF, force: main === 'replaced' });
  for (const t of tags) if (t.status !== 'up-to-date') updates.push({ ref: `refs/tags/${t.name}`, force: t.status === 'replaced' });
  return { main, tags, updates };
}

/** What a push would send, as text: commits (message, tracked files) and tag messages. */
export interface OutgoingText {
  commits: { oid: string; op?: number; message: string; files: { name: string; text: string }[] }[];
  tags: { name: string; message: string }[];
}

/** Masked findings of credential-looking lines, in the order given. */
export function secretFindings(out: OutgoingText): string[] {
  const findings: string[] = [];
  const scan = (text: string, where: (line: number) => string) =>
    text.split('\n').forEach((l, i) => {
      if (looksSecret(l)) findings.push(`${where(i + 1)}: ${maskSecrets(l).trim()}`);
    });
  for (const c of out.commits) {
    const what = `commit ${c.oid.slice(0, 7)}${c.op ? ` (operation ${c.op})` : ''}`;
    scan(c.message, (n) => `${what} message line ${n}`);
    for (const f of c.files) scan(f.text, (n) => `${what} ${f.name} line ${n}`);
  }
  for (const t of out.tags) scan(t.message, (n) => `snapshot ${t.name} message line ${n}`);
  return findings;
}

export function refuseSecrets(findings: string[]): PyctlError {
  const more = findings.length > 1 ? ` (and ${findings.length - 1} more)` : '';
  return new PyctlError(
    'REMOTE',
    `refusing to push what looks like a credential: ${findings[0]}${more}`,
    'it is in the recorded history; if it is a real secret, rotate it and do not push this history; --allow-secrets pushes anyway',
  );
}
