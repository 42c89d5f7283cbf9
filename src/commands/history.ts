/** pyctl history: newest first, one line per operation. */
import { listOps } from '../operations/history.js';
import { countsText } from '../render/changes.js';
import { shortDate } from '../render/time.js';
import type { Context, Output } from '../operations/context.js';
import { notePending } from '../operations/sync.js';

export async function history(ctx: Context, opts: { limit?: number }): Promise<Output> {
  const { home, paint: p } = ctx;
  home.requireInitialized();
  await notePending(ctx); // shown, not recorded: reading writes nothing
  const max = home.config.history.max_entries;
  const limit = Math.min(opts.limit ?? 20, max);
  const ops = await listOps(home, limit);
  const rows = ops.map((e) => {
    const op = e.meta ? String(e.meta.op) : '-';
    const flag = e.meta?.status ? p.yellow(` [${e.meta.status}]`) : e.meta ? '' : p.dim(' [commit made outside pyctl]');
    return `${p.bold(op.padStart(5))}  ${shortDate(e.commit.time)}  ${e.commit.parsed.subject}${flag}  ${p.dim(countsText(e.counts))}`;
  });
  return {
    text: rows.length ? rows.join('\n') + '\n' : 'no operations recorded\n',
    json: ops.map((e) => ({
      op: e.meta?.op ?? null,
      kind: e.meta?.kind ?? null,
      time: new Date(e.commit.time * 1000).toISOString(),
      subject: e.commit.parsed.subject,
      status: e.meta?.status ?? (e.meta?.exit ? 'failed' : 'ok'),
      exit: e.meta?.exit ?? null,
      python: e.meta?.python ?? null,
      counts: e.counts,
      commit: e.commit.oid,
    })),
  };
}
