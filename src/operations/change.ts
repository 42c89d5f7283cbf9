/**
 * The shared path of undo, restore and clean: under the home's lock, record outside changes
 * first, tag the state being left (history.auto_snapshot), reconcile the venv to the target,
 * and record the result as one operation. A dry run only plans.
 */
import { recordDrift, recordState } from './record.js';
import { changeLine } from '../plan/changes.js';
import { PyctlError } from '../errors.js';
import type { PinHashes } from '../reconcile/hashes.js';
import { plannedChanges } from '../plan/reconcile.js';
import { reconcile } from '../reconcile/apply.js';
import { readRequested } from './requested.js';
import { countsText, summaryText } from '../render/changes.js';
import { countChanges } from '../plan/changes.js';
import { withLock } from '../gitstore/lock.js';
import type { OpKind } from '../gitstore/message.js';
import { readFreeze } from '../venv/freeze.js';
import { parseFreeze } from '../packaging/parse-freeze.js';
import { Wheelhouse } from '../wheelhouse/wheelhouse.js';
import { ScanCache } from '../venv/scan-cache.js';
import { defaultPycCache } from '../venv/create.js';
import { join } from 'node:path';
import type { Context, Output } from './context.js';
import { driftNote } from './sync.js';
import { autoSnapshotName } from '../gitstore/refname.js';
import { knownFiles, mergeKnown, originsAt } from './provenance.js';
import type { LockedFile } from '../reconcile/from-lock.js';
import type { Origin } from '../provenance/origins.js';

export interface ResolvedTarget {
  /** null: whatever `before` leaves (clean's fresh venv). */
  freeze: string | null;
  subject: string;
  target?: string;
  kind?: OpKind;
  /** The recorded state brought back (its provenance comes along). */
  commit?: string;
  /** A lock file's: each version's files (fetched from there) and their hashes, and the origins to record. */
  locked?: ReadonlyMap<string, readonly LockedFile[]>;
  origins?: Origin[];
}

export interface ChangeRequest {
  kind: OpKind;
  /** Under the lock, after outside changes are recorded: the target state, how to name the
   * operation, and the trailer naming what was brought back. */
  resolve: () => Promise<ResolvedTarget>;
  // freeze null: whatever `before` leaves (clean's fresh venv).
  dryRun?: boolean;
  /** restore --file's --hash values by package key: what is installed must come from such a file. */
  hashes?: Map<string, PinHashes>;
  /** Work to do before reconciling (clean recreates the venv), under the same lock... */
  before?: () => Promise<void>;
  /** ...undone if anything after it fails, */
  undoBefore?: () => void;
  /** ...and finished once the operation is recorded. */
  finish?: () => void;
}

export async function changeState(ctx: Context, req: ChangeRequest): Promise<Output> {
  const { home } = ctx;
  const { paths } = home.requireInitialized();
  const wheelhouse = new Wheelhouse(paths.wheelhouse);
  return withLock(
    paths.lock,
    `pyctl ${req.kind}`,
    async () => {
      // Ctrl-C anywhere in here (not only mid-reconcile) rolls back and says so, exit 130.
      let interrupted = false;
      const onInt = () => {
        interrupted = true;
      };
      process.on('SIGINT', onInt);
      try {
        return await changeLocked(ctx, req, wheelhouse, () => interrupted);
      } finally {
        process.off('SIGINT', onInt);
      }
    },
    { note: ctx.note },
  );
}

const ctrlC = () => new PyctlError('RECONCILE_FAILED', 'interrupted (Ctrl-C): rolled back', 'the venv was put back exactly as it was; nothing was recorded', 130);

async function changeLocked(ctx: Context, req: ChangeRequest, wheelhouse: Wheelhouse, interrupted: () => boolean): Promise<Output> {
  const { home } = ctx;
  const { paths } = home;
  {
    if (!req.dryRun) {
      const drift = await recordDrift(home);
      if (drift) ctx.note(driftNote(drift));
    }
    const resolved = await req.resolve();
    const { freeze: target, subject, target: targetName, commit: targetCommit } = resolved;
    // An undo of an undo is a redo (and the other way round): resolve knows which.
    const kind = resolved.kind ?? req.kind;
    const head = (await home.repo.headOid())!;
    const scanCache = new ScanCache(join(paths.runtime, 'scan-cache.json'));
    let res;
    let rec;
    const opts = {
      venv: paths.venv,
      scanCache,
      pycCache: defaultPycCache(),
      store: paths.store,
      packages: paths.packages,
      wheelhouse,
      note: ctx.note,
      reporter: ctx.reporter,
      verbose: ctx.verbose,
      dryRun: req.dryRun,
      requested: readRequested(paths),
      // Originals' recorded hashes: the target's provenance, and a lock file's own.
      known: async () => mergeKnown(knownFiles(await originsAt(home, targetCommit)), resolved.locked),
      locked: resolved.locked,
      hashes: req.hashes,
    };
    try {
      if (!req.dryRun) await req.before?.();
      if (interrupted()) throw ctrlC();
      res = await reconcile(target ?? readFreeze(paths.venv), opts);
      scanCache.save();
      if (!req.dryRun) {
        try {
          rec = await recordState(home, { subject, kind, target: targetName, freeze: res.after, originsAt: targetCommit, origins: resolved.origins, note: ctx.verbose ? ctx.note : undefined });
        } catch (e) {
          // The change could not be recorded (a full disk): put the venv back, so what is
          // installed is what history says. Removing what came in frees the space it took.
          await reconcile(res.before, opts).catch((e2: Error) => ctx.note(`could not put the venv back either: ${e2.message}; 'pyctl sync' records it as it is`));
          throw e;
        }
      }
      if (rec && ctx.verbose) ctx.note(`git: committed freeze.txt as ${rec.oid.slice(0, 12)} (operation ${rec.op}, kind ${kind})`);
    } catch (e) {
      req.undoBefore?.();
      // A Ctrl-C also kills the group's children (python -m venv, pip): that failure is the Ctrl-C.
      if (interrupted() && !(e instanceof PyctlError && e.exitCode === 130)) throw ctrlC();
      throw e;
    }
    req.finish?.();
    if (rec && home.config.history.auto_snapshot) {
      // Tagged only once the operation landed: a failed one leaves nothing behind.
      await home.repo.tag(autoSnapshotName(rec.op), head, `State before operation ${rec.op} (${subject}), kept by history.auto_snapshot`, true);
      if (ctx.verbose) ctx.note(`git: tagged the state left behind as ${autoSnapshotName(rec.op)}`);
    }
    if (req.dryRun) {
      const changes = plannedChanges(parseFreeze(res.before), parseFreeze(target ?? res.before));
      const head = changes.length ? `would change ${countsText(countChanges(changes))}` : 'nothing would change: the venv already matches';
      return {
        text: `${subject}: ${head}\n${changes.length ? summaryText(changes, ctx.paint) : ''}(dry run: nothing changed)\n`,
        json: { dryRun: true, changes, lines: changes.map(changeLine), remove: res.plan.remove, install: res.plan.install, keep: res.plan.keep },
      };
    }
    const changes = rec?.changes ?? [];
    const head2 = rec ? `recorded as operation ${rec.op} (${countsText(countChanges(changes))})` : 'the venv already matched; nothing to do';
    const redoLine = rec && kind === 'undo' ? ctx.paint.dim(`redo with: ${ctx.system ? 'pyctl --system' : 'pyctl'} redo`) + '\n' : '';
    return {
      text: `${subject}: ${head2}\n${rec ? summaryText(changes, ctx.paint) : ''}${redoLine}`,
      json: { op: rec?.op ?? null, kind, changes, lines: changes.map(changeLine) },
    };
  }
}
