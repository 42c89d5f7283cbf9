/** Before a command reads or changes history: commit changes made outside pyctl as their own operation. */
import { PyctlError } from '../errors.js';
import { recordDrift, type Recorded } from './record.js';
import { venvMoved } from './stamp.js';
import { staleLockPresent, withLock } from '../gitstore/lock.js';
import { readCrashMarker } from '../gitstore/recover.js';
import type { Context } from './context.js';

export async function syncDrift(ctx: Context, opts: { readOnlyOk?: boolean } = {}): Promise<Recorded | null> {
  const { home } = ctx;
  // Also after a crash (a dead holder's lock, or its marker): that is where it gets recorded.
  if (!venvMoved(home.paths) && !readCrashMarker(home.paths) && !staleLockPresent(home.paths.lock)) return null;
  try {
    const rec = await withLock(home.paths.lock, 'record external change', () => recordDrift(home));
    if (rec) ctx.note(driftNote(rec));
    return rec;
  } catch (e) {
    if (opts.readOnlyOk && e instanceof PyctlError && e.code === 'PERMISSION') return null;
    throw e;
  }
}

/** The note shown when outside changes (or what a crashed run left) were recorded. */
export function driftNote(rec: Recorded): string {
  return rec.subject.startsWith('interrupted ')
    ? `recorded what a crashed run left behind as operation ${rec.op}: ${rec.subject}`
    : `recorded changes made outside pip as operation ${rec.op} (external change)`;
}
