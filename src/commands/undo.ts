/** pyctl undo [N]: a new operation whose state is the one before the last N operations. */
import { PyctlError } from '../errors.js';
import { freezeAt, listOps } from '../ledger/history.js';
import { changeState } from './change.js';
import type { Context, Output } from './context.js';

export async function undo(ctx: Context, n: number, opts: { dryRun?: boolean }): Promise<Output> {
  const { home } = ctx;
  home.requireInitialized();
  const max = home.config.history.max_entries;
  if (n > max) {
    throw new PyctlError('NOTHING_TO_UNDO', `cannot undo ${n} operations: history.max_entries is ${max}`, 'raise history.max_entries in config.toml, or restore an older operation by number');
  }
  return changeState(ctx, {
    kind: 'undo',
    dryRun: opts.dryRun,
    async resolve() {
      const ops = (await listOps(home, n)).filter((e) => e.meta);
      const undoable = ops.filter((e) => e.meta!.kind !== 'init' && e.commit.parents.length > 0);
      if (undoable.length < n) {
        const k = undoable.length;
        throw new PyctlError('NOTHING_TO_UNDO', `cannot undo ${n} operation${n === 1 ? '' : 's'}: only ${k} can be undone`, "see 'pyctl history'; nothing was changed");
      }
      const [newest, oldest] = [ops[0]!, ops[n - 1]!];
      const first = newest.meta!.op;
      const last = oldest.meta!.op;
      return {
        freeze: await freezeAt(home, oldest.commit.parents[0]),
        subject: n === 1 ? `pyctl undo (operation ${first}: ${describe(newest)})` : `pyctl undo ${n} (operations ${last}-${first})`,
        target: n === 1 ? String(first) : `${last}-${first}`,
      };
    },
  });
}

/** What the undone operation was, kept short: undoing an undo names it, not its whole chain. */
function describe(e: { meta?: { kind: string; target?: string }; commit: { parsed: { subject: string } } }): string {
  if (e.meta?.kind === 'undo') return e.meta.target ? `an undo of operation ${e.meta.target}` : 'an undo';
  return e.commit.parsed.subject;
}
