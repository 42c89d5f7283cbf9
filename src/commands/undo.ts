/**
 * pyctl undo [COUNT] | undo --to N | redo [N]: a new operation whose state is the one before the
 * last COUNT operations, the one after operation N, or the one before the last N undos.
 */
import { PyctlError, usage } from '../errors.js';
import { findOp, freezeAt, listOps, type OpEntry } from '../operations/history.js';
import { isUndo, labelUndo, type UndoneOp } from '../operations/undo-label.js';
import { changeState } from '../operations/change.js';
import type { Context, Output } from '../operations/context.js';

const asUndone = (e: OpEntry): UndoneOp => ({ op: e.meta!.op, kind: e.meta!.kind, subject: e.commit.parsed.subject, target: e.meta!.target });
const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;

export async function undo(ctx: Context, n: number | undefined, opts: { dryRun?: boolean; to?: number }): Promise<Output> {
  const { home } = ctx;
  home.requireInitialized();
  if (opts.to !== undefined) {
    if (n !== undefined) throw usage('undo takes a COUNT or --to N, not both', `pyctl undo --to ${opts.to}   # back to the state after operation ${opts.to}`);
    return undoTo(ctx, opts.to, opts);
  }
  const count = n ?? 1;
  const max = home.config.history.max_entries;
  if (count > max) {
    throw new PyctlError('NOTHING_TO_UNDO', `cannot undo ${count} operations: history.max_entries is ${max}`, 'raise history.max_entries in config.toml, or use pyctl undo --to N');
  }
  return changeState(ctx, {
    kind: 'undo',
    dryRun: opts.dryRun,
    async resolve() {
      const ops = (await listOps(home, count)).filter((e) => e.meta);
      const undoable = ops.filter((e) => e.meta!.kind !== 'init' && e.commit.parents.length > 0);
      if (undoable.length < count) {
        throw new PyctlError('NOTHING_TO_UNDO', `cannot undo ${plural(count, 'operation')}: only ${undoable.length} can be undone`, "see 'pyctl history'; nothing was changed");
      }
      const label = labelUndo(ops.map(asUndone));
      return { freeze: await freezeAt(home, ops[count - 1].commit.parents[0]), ...label };
    },
  });
}

/** undo --to N: back to the state right after operation N, undoing everything since as one operation. */
async function undoTo(ctx: Context, to: number, opts: { dryRun?: boolean }): Promise<Output> {
  const { home } = ctx;
  return changeState(ctx, {
    kind: 'undo',
    dryRun: opts.dryRun,
    async resolve() {
      const target = await findOp(home, to);
      const newer: OpEntry[] = [];
      for (const e of await listOps(home, Number.MAX_SAFE_INTEGER)) {
        if (e.commit.oid === target.commit.oid) break;
        if (e.meta) newer.push(e);
      }
      if (!newer.length) throw new PyctlError('NOTHING_TO_UNDO', `operation ${to} is the last one: there is nothing after it to undo`, "see 'pyctl history'; nothing was changed");
      const label = labelUndo(newer.map(asUndone), to);
      return { freeze: await freezeAt(home, target.commit.oid), ...label };
    },
  });
}

/** redo [N]: undo the last N operations, each of which must be an undo. */
export async function redo(ctx: Context, n: number, opts: { dryRun?: boolean }): Promise<Output> {
  const { home } = ctx;
  home.requireInitialized();
  return changeState(ctx, {
    kind: 'redo',
    dryRun: opts.dryRun,
    async resolve() {
      const ops = (await listOps(home, n)).filter((e) => e.meta);
      const firstNot = ops.findIndex((e) => !isUndo(asUndone(e)));
      if (ops.length < n || firstNot !== -1) {
        const e = firstNot === -1 ? undefined : ops[firstNot];
        const what = e ? `operation ${e.meta!.op} (${e.commit.parsed.subject}) is not an undo` : `there are only ${ops.length} operations`;
        const head = n === 1 ? 'nothing to redo: the last operation' : `cannot redo ${n} undos:`;
        throw new PyctlError(
          'NOTHING_TO_REDO',
          n === 1 && e ? `${head}, ${e.meta!.op} (${e.commit.parsed.subject}), is not an undo` : `${head} ${what}`,
          "redo takes back undos made just before it; to go back to any recorded state use 'pyctl restore N' (see 'pyctl history')",
        );
      }
      const label = labelUndo(ops.map(asUndone));
      return { freeze: await freezeAt(home, ops[n - 1].commit.parents[0]), ...label };
    },
  });
}
