/**
 * Record the venv's current installed set as one operation (one commit). The caller holds
 * the home's lock. Nothing is committed when the set is unchanged.
 */
import { FREEZE_FILE, PROVENANCE_FILE } from '../paths.js';
import { formatOrigins, mergeOrigins, parseOrigins } from '../provenance/origins.js';
import { countChanges, diffSets, type Change } from '../plan/changes.js';
import { composeMessage, OP_KINDS, type OpKind, type OpMeta } from '../gitstore/message.js';
import { maskSecrets } from '../sharing/mask.js';
import { freezeText, readInstalled, type Installed } from '../venv/freeze.js';
import { parseFreeze } from '../packaging/parse-freeze.js';
import { Wheelhouse } from '../wheelhouse/wheelhouse.js';
import { interpreterOf, readPyvenvCfg } from '../venv/pyvenv.js';
import type { Home } from './home.js';
import { readLastIfHead, writeLast } from './last.js';
import { rememberRequested } from './requested.js';
import { currentMtime, venvMoved, writeStamp } from './stamp.js';
import { clearCrashMarker, lastKnownGood, readCrashMarker, resetBranch, sweepAfterCrash } from '../gitstore/recover.js';
import { maybeStartMaintenance } from '../gitstore/maintain.js';
import { objectId } from '../gitstore/fastgit.js';
import { readTextOr } from '../fs/read-text.js';
import { flushPending } from '../fs/durable.js';
import { readHeadOid } from '../gitstore/refs.js';
import { ScanCache } from '../venv/scan-cache.js';
import { sweepJournals } from '../wheel/install-journal.js';
import { recoverSwap } from '../venv/swap.js';
import { sidePath } from '../venv/aside.js';
import type { LockHolder } from '../gitstore/lock.js';
import { unfinishedVenv } from '../pip/hook.js';
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { originKey, type Origin } from '../provenance/origins.js';
import { isStoredInstall, storePackage, type SharedFiles, type StoredPackage } from '../wheel/package-store.js';
import type { Prelinked } from '../wheel/prelink.js';
import { silentReporter, thousands, type Reporter } from '../render/progress.js';
import { venvPythonVersion } from '../venv/syspath.js';
import { wheelKey } from '../packaging/wheel-name.js';
import { BASELINE, flushOwed, settleFirstInit } from './first-flush.js';

export interface RecordRequest {
  subject: string;
  kind: OpKind;
  exit?: number;
  status?: OpMeta['status'];
  target?: string;
  /** Commit even when the installed set did not change (e.g. a restore that only moved config). */
  always?: boolean;
  /** Use this installed set instead of reading the venv (callers that just computed it). */
  freeze?: string;
  /** Where the versions this pip run installed came from (its --report). */
  origins?: Origin[];
  /** A commit whose provenance comes along (restore of a snapshot, maybe a fetched one). */
  originsAt?: string;
  /** Recorded after the fact (a pip run whose own record failed): the files may have changed since. */
  late?: boolean;
  /** Progress of keeping new versions in the store (a terminal line after ~1 s). */
  reporter?: Reporter;
  /** --verbose: what the record did and how long each step took (pyctl's own cost of a pip run). */
  note?(line: string): void;
  /**
   * Tag the new commit (init's baseline) with it: the tag's ref is flushed in the commit's own
   * round (gitstore/fastgit.ts), not in a round of its own that on a busy disk waits again.
   */
  tag?: { name: string; message: string };
  /** Files of the venv another folder holds as links already (init: the seed template's): stored entries name them there. */
  shared?: SharedFiles;
}

export interface Recorded {
  op: number;
  subject: string;
  kind: OpKind;
  oid: string;
  changes: Change[];
  freeze: string;
}

/**
 * Milliseconds since the process started, for --verbose notes. Not performance.now(): the
 * global's first use loads perf_hooks (~2 ms of CPU, on every pip run's record).
 */
const clock = () => process.uptime() * 1000;

export async function recordState(home: Home, req: RecordRequest): Promise<Recorded | null> {
  const { paths, repo } = home;
  // A first init's flush still owed: paid (or operation 0 made again) before anything names it.
  if (flushOwed(paths)) await settleFirstInit(home, recordFirst);
  const t0 = clock();
  const mtime = currentMtime(paths);
  const cache = new ScanCache(join(paths.runtime, 'scan-cache.json'));
  const installed = req.freeze === undefined ? readInstalled(paths.venv, { cache }) : null;
  cache.save();
  if (installed) rememberRequested(paths, installed);
  const now = req.freeze ?? freezeText(installed!);
  const head = readHeadOid(paths.gitDir);
  const before = head ? await headFreeze(home, head) : '';
  if (head && now === before && !req.always) {
    writeStamp(paths, mtime);
    return null;
  }
  const changes = diffSets(parseFreeze(before), parseFreeze(now));
  const op = head ? (await lastOpNumber(home, head)) + 1 : 0;
  const cfg = readPyvenvCfg(paths.venv);
  const meta: OpMeta = { op, kind: req.kind, exit: req.exit, status: req.status, target: req.target, python: cfg.version, interpreter: interpreterOf(cfg) };
  const subject = maskSecrets(req.subject);
  const provenance = await provenanceText(home, req);
  const t1 = clock();
  const oid = await repo.commit(now, composeMessage(subject, changes, meta), { stageConfig: home.configParses(), provenance, tag: req.tag });
  const t2 = clock();
  writeStamp(paths, mtime);
  writeLast(paths, {
    commit: oid,
    op,
    kind: req.kind,
    subject,
    time: Math.floor(Date.now() / 1000),
    counts: countChanges(changes),
    packages: parseFreeze(now).size,
    freezeOid: objectId('blob', Buffer.from(now)),
  });
  keepPackages(home, installed, changes, cache, req);
  // Loose objects piling up: pack them in a detached process (never delays this record).
  maybeStartMaintenance(paths);
  const ms = (a: number, b: number) => `${Math.round(b - a)} ms`;
  // clock() counts from the process's start: Node's own start-up included.
  req.note?.(`record: venv read and compared in ${ms(t0, t1)}, committed in ${ms(t1, t2)}, new versions stored in ${ms(t2, clock())}; ${ms(0, clock())} since pyctl started`);
  return { op, subject, kind: req.kind, oid, changes, freeze: now };
}

/**
 * The new provenance.txt, or undefined when nothing new is known (the staged copy stays): the
 * current catalogue, under the restored commit's, under this pip run's report.
 */
async function provenanceText(home: Home, req: RecordRequest): Promise<string | undefined> {
  if (!req.origins?.length && !req.originsAt) return undefined;
  const at = req.originsAt ? await home.repo.readAt(req.originsAt, PROVENANCE_FILE).catch(() => null) : null;
  if (!req.origins?.length && !at) return undefined;
  const current = readTextOr(home.paths.provenance) ?? '';
  const text = formatOrigins(mergeOrigins(parseOrigins(current), at ? parseOrigins(at) : undefined, req.origins));
  return text === current ? undefined : text;
}

/** HEAD's freeze: the work-tree copy when it is the one last recorded (no git load), else from git. */
async function headFreeze(home: Home, head: string): Promise<string> {
  const last = readLastIfHead(home.paths);
  if (last?.freezeOid) {
    const text = readTextOr(home.paths.freeze);
    if (text !== null && objectId('blob', Buffer.from(text)) === last.freezeOid) return text;
  }
  return (await home.repo.readAt(head, FREEZE_FILE)) ?? '';
}

/**
 * Keep each newly arrived version as a stored package: its files hard-linked into the store
 * (no copy, no compression), so undo and restore can bring it back offline, at the cost of a
 * link per file. A venv the store cannot link (another filesystem) gets a wheel rebuilt instead.
 */
function keepPackages(home: Home, installed: Installed[] | null, changes: Change[], cache: ScanCache, req: RecordRequest): void {
  const arrived = new Set(changes.filter((c) => c.kind !== 'removed').map((c) => c.key));
  if (!arrived.size) return;
  const { paths } = home;
  const dirs = { files: paths.store, packages: paths.packages };
  const root = resolve(paths.venv);
  const dists = (installed ?? readInstalled(paths.venv, { cache })).filter((d) => arrived.has(d.key) && Wheelhouse.capturable(d));
  // After an undo/restore everything that arrived was linked from the store already.
  const todo = dists.filter((d) => !isStoredInstall(dirs, d, root));
  if (!todo.length) return;
  // Only a pip run that succeeded and was recorded at once left exactly what RECORD says; a
  // failed one (a full disk cut a file short) or one recorded late is hashed first, and a file
  // that does not match keeps nothing (undo and redo fetch that version through pip instead).
  const trusted = req.kind !== 'external' && !req.status && !req.late;
  const python = storePython(paths.venv);
  const origins = new Map((req.origins ?? []).map((o) => [originKey(o), o]));
  const house = new Wheelhouse(paths.wheelhouse);
  const task = (req.reporter ?? silentReporter).start('keeping the new versions in the store');
  try {
    for (const d of todo) {
      let files = 0;
      const label = `keeping ${d.name} ${d.version} in the store (hard links, no copy)`;
      task.tick(0, label);
      const kept = keepInStore(
        home,
        d,
        python,
        trusted,
        origins,
        (n) => {
          files += n;
          task.tick(n, `${label}: ${thousands(files)} files`);
        },
        req.shared,
      );
      req.note?.(kept.note);
      if (!kept.entry && (trusted || req.kind === 'external')) house.capture(paths.venv, [d]);
    }
  } finally {
    task.end();
  }
}

/** The venv's Python X.Y, as stored packages name it. */
export function storePython(venv: string): string {
  return venvPythonVersion(venv).split('.').slice(0, 2).join('.');
}

/**
 * Keep one installed distribution as a stored package (wheel/package-store.ts), with its local
 * original when pip's report names one; `note` says what happened and how long it took.
 */
export function keepInStore(
  home: Home,
  d: Installed,
  python: string,
  trusted: boolean,
  origins: Map<string, Origin>,
  tick?: (files: number) => void,
  shared?: SharedFiles,
  prelinked?: Prelinked,
): { entry: StoredPackage | null; note: string } {
  const { paths } = home;
  const t = clock();
  const entry = storePackage({ files: paths.store, packages: paths.packages }, resolve(paths.venv), d, python, {
    trusted,
    shared,
    prelinked,
    origin: localOrigin(origins.get(wheelKey(d.name, d.version))),
    tick,
  });
  const note = entry
    ? `kept ${d.name} ${d.version} in the store: ${thousands(entry.files.length)} files linked in ${Math.round(clock() - t)} ms`
    : `could not keep ${d.name} ${d.version} in the store (a wheel is kept instead where its files match RECORD)`;
  return { entry, note };
}

/** pip installed from a local wheel file (a path, --find-links, a file:// index): where it lies now. */
function localOrigin(o: Origin | undefined): StoredPackage['origin'] {
  if (!o || !o.url.startsWith('file:') || !o.url.split('#')[0].endsWith('.whl')) return undefined;
  try {
    const path = fileURLToPath(o.url.split('#')[0]);
    const st = statSync(path);
    return { path, size: st.size, mtimeMs: st.mtimeMs, ...(o.sha256 ? { sha256: o.sha256 } : {}) };
  } catch {
    return undefined;
  }
}

/** The newest operation number on HEAD's first-parent line (hand-made commits have none). */
export async function lastOpNumber(home: Home, head: string): Promise<number> {
  const last = readLastIfHead(home.paths);
  if (last && last.commit === head) return last.op;
  for await (const c of home.repo.walk(head)) if (c.parsed.meta) return c.parsed.meta.op;
  return -1;
}

/**
 * Operation 0 and the baseline tag: what a first init's history is made of (also what settling
 * a first init's owed flush records again when a power cut emptied it: first-flush.ts).
 */
export async function recordFirst(home: Home, shared?: SharedFiles): Promise<{ rec: Recorded | null; baseline: boolean; version: string }> {
  const { paths, repo } = home;
  const version = venvPythonVersion(paths.venv);
  const baseline = home.config.snapshots.auto_baseline && !repo.hasTag(BASELINE);
  const tag = baseline ? { name: BASELINE, message: 'The state right after pyctl init' } : undefined;
  // pip and setuptools linked from the seed template: their store entries name its files (no second ~1,470 links).
  const rec = await recordState(home, { subject: `pyctl init (Python ${version})`, kind: 'init', tag, shared });
  const head = await repo.headOid();
  // Nothing recorded (a killed init's operation 0 was already there): the tag still goes on HEAD.
  if (tag && !rec && head) await repo.tag(tag.name, head, tag.message);
  return { rec, baseline, version };
}

/**
 * Record changes made outside pip-with-pyctl (uv, rm -rf, another tool) as their own operation.
 * After a crash (a dead holder's lock was taken over and left the crash marker) this is where
 * the real state is found: half-written files are swept, an unreadable HEAD is moved back to
 * the last completed operation, and whatever the venv now holds is recorded, marked interrupted
 * (or, for a pip run whose own record failed, as that run).
 */
export async function recordDrift(home: Home, subject = 'external change'): Promise<Recorded | null> {
  if (flushOwed(home.paths)) await settleFirstInit(home, recordFirst);
  const crash = readCrashMarker(home.paths);
  // HEAD not the commit pyctl last wrote (a hand-made commit): compare with HEAD's file too.
  if (!crash && !venvMoved(home.paths) && readLastIfHead(home.paths)) return null;
  if (!crash) return recordState(home, { subject, kind: 'external' });
  await recoverAfterCrash(home, crash);
  const rec = await recordState(home, crashRecord(crash));
  clearCrashMarker(home.paths);
  return rec;
}

/**
 * What a dead holder's change is recorded as: a pip run whose own record failed (a full disk)
 * as itself, marked failed if pip failed (its lock says what that record would have written);
 * anything else as an interrupted outside change.
 */
function crashRecord(crash: LockHolder): RecordRequest {
  const run = crash.unrecorded;
  if (run && (OP_KINDS as readonly string[]).includes(run.kind)) {
    const failed = run.exit !== undefined && run.exit !== 0;
    return { subject: run.subject, kind: run.kind as OpKind, exit: run.exit, status: failed ? 'failed' : undefined, late: true };
  }
  return { subject: `interrupted ${crash.what || 'change'} (found after a crash)`, kind: 'external', status: 'interrupted' };
}

/** The venv holds what HEAD records (false when either cannot be read). */
async function venvIsHead(home: Home): Promise<boolean> {
  try {
    const head = await home.repo.headOid();
    return !!head && freezeText(readInstalled(home.paths.venv)) === (await headFreeze(home, head));
  } catch {
    return false;
  }
}

/** Sweep what a killed writer left, and make sure HEAD names a readable commit. */
export async function recoverAfterCrash(home: Home, crash?: LockHolder): Promise<void> {
  const { paths, repo } = home;
  sweepAfterCrash(paths);
  // The objects a killed run left unflushed reach the disk now, in one concurrent round (only
  // after a crash), whether or not this run writes a ref that names them.
  await flushPending();
  // A killed pip-less install: its half-written files and dist-info go, never recorded as installed.
  sweepJournals(paths.venv);
  // A clean or init --python killed while its new venv was half made: the old one (set aside as
  // venv.old-<pid>) comes back. Half made = no pip or no hook. A clean is all or nothing: killed
  // before its commit, its new venv, even whole, is not what HEAD records, so the old one comes
  // back too. One killed after its commit left the venv HEAD records: kept (doctor offers to
  // delete the old one).
  if (crash) {
    const cleanUnrecorded = /^pyctl clean\b/.test(crash.what) && existsSync(sidePath(paths.venv, 'old', crash.pid)) && !(await venvIsHead(home));
    recoverSwap(paths.venv, crash.pid, () => cleanUnrecorded || unfinishedVenv(paths) !== null);
  }
  const head = await repo.headOid();
  if (!head || (await repo.readable(head))) return;
  const good = lastKnownGood(paths);
  if (good && good !== head && (await repo.readable(good))) await resetBranch(paths, good);
}
