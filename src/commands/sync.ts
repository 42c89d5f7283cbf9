/** Before a command reads or changes history: commit changes made outside pyctl as their own operation. */
import { PyctlError } from '../errors.js';
import { recordDrift, type Recorded } from '../ledger/record.js';
import { venvMoved } from '../ledger/stamp.js';
import { withLock } from '../state/lock.js';
import { readCrashMarker } from '../state/recover.js';
import type { Context } from './context.js';

export async function syncDrift(ctx: Context, opts: { readOnlyOk?: boolean } = {}): Promise<Recorded | null> {
  const { home } = ctx;
  if (!venvMoved(home.paths) && !readCrashMarker(home.paths)) return null;
  try {
    const rec = await withLock(home.paths.lock, 'record external change', () => recordDrift(home));
    if (rec) ctx.note(`recorded changes made outside pip as operation ${rec.op} (${rec.subject})`);
    return rec;
  } catch (e) {
    if (opts.readOnlyOk && e instanceof PyctlError && e.code === 'PERMISSION') return null;
    throw e;
  }
}
