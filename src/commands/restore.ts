/** pyctl restore NAME|N: bring back a snapshot or an operation's state, as a new operation. */
import { resolveState } from '../ledger/history.js';
import { changeState } from './change.js';
import type { Context, Output } from './context.js';

export async function restore(ctx: Context, ref: string, opts: { dryRun?: boolean }): Promise<Output> {
  const { home } = ctx;
  home.requireInitialized();
  return changeState(ctx, {
    kind: 'restore',
    dryRun: opts.dryRun,
    async resolve() {
      const state = await resolveState(home, ref);
      return { freeze: state.freeze, subject: `pyctl restore ${ref}`, target: ref };
    },
  });
}
