/** Reading operations back from the state repo. */
import { PyctlError } from '../errors.js';
import { FREEZE_FILE } from '../paths.js';
import { countChanges, countsFromBody, diffSets, type ChangeCounts } from '../plan/changes.js';
import { parseFreeze } from '../packaging/parse-freeze.js';
import type { CommitInfo } from '../gitstore/repo.js';
import type { OpMeta } from '../gitstore/message.js';
import type { Home } from './home.js';
import { readPyvenvCfg } from '../venv/pyvenv.js';
import { parseTimeSpec } from './time-spec.js';
import { shortDate } from '../render/time.js';

export interface OpEntry {
  commit: CommitInfo;
  /** Undefined for commits made by hand with plain git. */
  meta?: OpMeta;
  counts: ChangeCounts;
}

function entry(c: CommitInfo): OpEntry {
  return { commit: c, meta: c.parsed.meta, counts: countsFromBody(c.parsed.body) };
}

/**
 * A hand-made commit (plain git) has no change lines of pyctl's: its counts come from diffing its
 * freeze.txt with its parent's, like any other change (issue 17, row 12).
 */
async function entryOf(home: Home, c: CommitInfo): Promise<OpEntry> {
  if (c.parsed.meta) return entry(c);
  const [now, before] = await Promise.all([freezeAt(home, c.oid).catch(() => ''), freezeAt(home, c.parents[0]).catch(() => '')]);
  return { commit: c, counts: countChanges(diffSets(parseFreeze(before), parseFreeze(now))) };
}

/** Newest first, at most `limit` pyctl operations (hand-made commits in between are included). */
export async function listOps(home: Home, limit: number): Promise<OpEntry[]> {
  const out: OpEntry[] = [];
  let ops = 0;
  for await (const c of home.repo.walk()) {
    if (ops >= limit) break;
    out.push(await entryOf(home, c));
    if (c.parsed.meta) ops++;
  }
  return out;
}

/** The last `n + 1` pyctl operations, newest first: enough to undo n of them. */
export async function recentOps(home: Home, n: number): Promise<OpEntry[]> {
  return (await listOps(home, n + 1)).filter((e) => e.meta);
}

export async function findOp(home: Home, n: number): Promise<OpEntry> {
  for await (const c of home.repo.walk()) {
    const op = c.parsed.meta?.op;
    if (op === n) return entry(c);
    if (op !== undefined && op < n) break;
  }
  throw new PyctlError('UNKNOWN_OPERATION', `there is no operation ${n}`, "see 'pyctl history' for the operation numbers");
}

export async function freezeAt(home: Home, oid: string | undefined): Promise<string> {
  if (!oid) return '';
  return (await home.repo.readAt(oid, FREEZE_FILE)) ?? '';
}

export interface ResolvedState {
  label: string;
  commit: string;
  freeze: string;
}

/**
 * The one place a state's name is read: an operation number, `@TIME` (the last state at or
 * before that moment), HEAD/now, a snapshot name, or REMOTE/NAME → a recorded state.
 */
export async function resolveState(home: Home, ref: string): Promise<ResolvedState> {
  if (ref.startsWith('@')) return stateAt(home, ref.slice(1));
  if (/^\d+$/.test(ref)) {
    const e = await findOp(home, Number(ref));
    return { label: `operation ${ref}`, commit: e.commit.oid, freeze: await freezeAt(home, e.commit.oid) };
  }
  if (ref === 'HEAD' || ref === 'now') {
    const head = await home.repo.headOid();
    if (!head) throw new PyctlError('NOT_INITIALIZED', 'nothing is recorded yet', "run 'pyctl init'");
    return { label: 'now', commit: head, freeze: await freezeAt(home, head) };
  }
  // A local snapshot first; then REMOTE/NAME, a snapshot fetched from a remote.
  const slash = ref.indexOf('/');
  const tag = (await home.repo.readTag(ref)) ?? (slash > 0 ? await home.repo.readTag(ref, `refs/remotes/${ref.slice(0, slash)}/tags/${ref.slice(slash + 1)}`) : null);
  if (!tag) {
    const names = await home.repo.listTags();
    const close = names.filter((n) => similar(n, ref)).slice(0, 5);
    throw new PyctlError('UNKNOWN_SNAPSHOT', `no snapshot or operation named '${ref}'`, close.length ? `did you mean: ${close.join(', ')}?` : "see 'pyctl list-snapshots' and 'pyctl history'");
  }
  return { label: `snapshot ${ref}`, commit: tag.commit, freeze: await freezeAt(home, tag.commit) };
}

/** The last state recorded at or before a moment (`2026-12-01 14:00`, `3 hours ago`). */
export async function stateAt(home: Home, when: string): Promise<ResolvedState> {
  const t = parseTimeSpec(when);
  let oldest: CommitInfo | undefined;
  for await (const c of home.repo.walk()) {
    if (c.time <= t) {
      const op = c.parsed.meta?.op;
      const what = op === undefined ? `commit ${c.oid.slice(0, 12)}` : `operation ${op}`;
      return { label: `${what} (the state at ${when.trim()})`, commit: c.oid, freeze: await freezeAt(home, c.oid) };
    }
    oldest = c;
  }
  if (!oldest) throw new PyctlError('NOT_INITIALIZED', 'nothing is recorded yet', "run 'pyctl init'");
  throw new PyctlError(
    'UNKNOWN_OPERATION',
    `nothing was recorded at or before ${when.trim()} (${shortDate(Math.floor(t))}): the first operation is from ${shortDate(oldest.time)}`,
    "see 'pyctl history' for when each operation happened",
  );
}

/** Close enough to suggest: a shared prefix/substring, or a small edit distance. */
export function similar(a: string, b: string): boolean {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  if (x.includes(y) || y.includes(x)) return true;
  return editDistance(x, y) <= Math.max(1, Math.floor(Math.min(x.length, y.length) / 3));
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/**
 * A warning when a state (a fetched REMOTE/NAME, typically) was recorded with another Python
 * major.minor than this home's venv; undefined when they match or either is unknown.
 */
export async function pythonMismatchWarning(home: Home, ref: string): Promise<string | undefined> {
  const state = await resolveState(home, ref);
  const recorded = (await home.repo.readCommit(state.commit)).parsed.meta?.python;
  const local = readPyvenvCfg(home.paths.venv).version;
  return pythonMismatch(recorded, local, state.label);
}

/** Pure: the mismatch warning itself (compares major.minor). */
export function pythonMismatch(recorded: string | undefined, local: string | undefined, label: string): string | undefined {
  const mm = (v?: string) =>
    v
      ?.match(/^(\d+)\.(\d+)/)
      ?.slice(1, 3)
      .join('.');
  const a = mm(recorded);
  const b = mm(local);
  if (!a || !b || a === b) return undefined;
  return `${label} was recorded with Python ${recorded}, this venv has Python ${local}: some pinned versions may not install`;
}
