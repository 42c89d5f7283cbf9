/**
 * pyctl sync: record now what changed outside pip (uv, rm -rf, a hand-made commit) and what a
 * crashed run left, as its own operation. Reading commands only show it (operations/sync.ts);
 * every change and recorded pip run records it first anyway.
 */
import { withLock } from '../gitstore/lock.js';
import { recordDrift } from '../operations/record.js';
import { driftNote } from '../operations/sync.js';
import { changeLine } from '../plan/changes.js';
import { summaryText } from '../render/changes.js';
import type { Context, Output } from '../operations/context.js';

export async function sync(ctx: Context): Promise<Output> {
  const { home } = ctx;
  const { paths } = home.requireInitialized();
  const rec = await withLock(paths.lock, 'pyctl sync', () => recordDrift(home), { note: ctx.note });
  if (!rec) return { text: 'nothing to record: the venv matches the last recorded state\n', json: { op: null, changes: [], lines: [] } };
  return {
    text: `${driftNote(rec)}\n${summaryText(rec.changes, ctx.paint)}`,
    json: { op: rec.op, subject: rec.subject, changes: rec.changes, lines: rec.changes.map(changeLine) },
  };
}
