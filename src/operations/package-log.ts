/**
 * How a package got here: every operation that added, removed or changed it, newest first.
 * Read from the commit bodies (`+ x 1`, `- x 1`, `~ x 1 -> 2`), so no freeze blob is read for
 * pyctl's own commits; a commit made by hand is compared with its parent instead.
 */
import { canonicalName } from '../packaging/names.js';
import { compareVersions } from '../packaging/pep440.js';
import { diffSets } from '../plan/changes.js';
import { parseFreeze } from '../packaging/parse-freeze.js';
import type { CommitInfo } from '../gitstore/repo.js';
import { freezeAt } from './history.js';
import type { Home } from './home.js';

export interface PackageEvent {
  op: number | null;
  time: number;
  kind: 'added' | 'removed' | 'upgraded' | 'downgraded' | 'changed';
  name: string;
  from: string | null;
  to: string | null;
  subject: string;
  commit: string;
}

export interface BodyChange {
  kind: PackageEvent['kind'];
  name: string;
  from: string | null;
  to: string | null;
}

/** Pure: the change lines of an operation's commit body. */
export function bodyChanges(body: string): BodyChange[] {
  const out: BodyChange[] = [];
  for (const l of body.split('\n')) {
    let m = /^\+ (\S+) (\S+)$/.exec(l);
    if (m) out.push({ kind: 'added', name: m[1], from: null, to: m[2] });
    else if ((m = /^- (\S+) (\S+)$/.exec(l))) out.push({ kind: 'removed', name: m[1], from: m[2], to: null });
    else if ((m = /^~ (\S+) (\S*) -> (\S*)$/.exec(l))) out.push({ kind: 'changed', name: m[1], from: m[2], to: m[3] });
  }
  return out;
}

async function changesOf(home: Home, c: CommitInfo): Promise<BodyChange[]> {
  if (c.parsed.meta) return bodyChanges(c.parsed.body);
  const before = parseFreeze(await freezeAt(home, c.parents[0]));
  const after = parseFreeze(await freezeAt(home, c.oid));
  return diffSets(before, after).map((d) => ({
    kind: d.kind,
    name: d.name,
    from: d.kind === 'added' ? null : d.from,
    to: d.kind === 'removed' ? null : d.to,
  }));
}

/** Every event of `pkg` (any spelling), newest first; `names`: every package name seen, for suggestions. */
export async function packageLog(home: Home, pkg: string): Promise<{ events: PackageEvent[]; names: Set<string> }> {
  const key = canonicalName(pkg);
  const events: PackageEvent[] = [];
  const names = new Set<string>();
  for await (const c of home.repo.walk()) {
    for (const ch of await changesOf(home, c)) {
      names.add(ch.name);
      if (canonicalName(ch.name) !== key) continue;
      events.push({ op: c.parsed.meta?.op ?? null, time: c.time, ...ch, kind: ch.kind === 'changed' ? refine(ch) : ch.kind, subject: c.parsed.subject, commit: c.oid });
    }
  }
  return { events, names };
}

function refine(ch: BodyChange): PackageEvent['kind'] {
  const c = compareVersions(ch.from ?? '', ch.to ?? '');
  return c < 0 ? 'upgraded' : c > 0 ? 'downgraded' : 'changed';
}
