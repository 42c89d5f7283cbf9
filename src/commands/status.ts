/** pyctl status: where things are, what is first on PATH, the last operation, and drift. */
import { openHome, type Home } from '../operations/home.js';
import { readLastIfHead } from '../operations/last.js';
import { listOps } from '../operations/history.js';
import { renderStatus, type StatusData, type TierSummary } from '../render/status.js';
import { parseFreeze } from '../packaging/parse-freeze.js';
import { readTextOr } from '../fs/read-text.js';
import type { Context, Output } from '../operations/context.js';
import { notePending } from '../operations/sync.js';
import { quickTier, statusData } from '../operations/status-data.js';

/** A short read-only look at another tier (the system venv from a user's status): never writes. */
export async function tierSummary(home: Home): Promise<TierSummary> {
  const { paths } = home;
  const base = { home: paths.home, venv: paths.venv };
  try {
    const quick = quickTier(paths);
    if (quick) return quick;
    const mine = (await listOps(home, 1)).find((x) => x.meta);
    return {
      ...base,
      installed: true,
      packages: parseFreeze(readTextOr(paths.freeze, '') ?? '').size,
      lastOperation: mine ? { op: mine.meta!.op, subject: mine.commit.parsed.subject, time: mine.commit.time } : null,
    };
  } catch (e) {
    return { ...base, installed: true, error: (e as Error).message };
  }
}

export async function status(ctx: Context): Promise<Output> {
  const { home, paint: p } = ctx;
  const { paths } = home.requireInitialized();
  const pending = await notePending(ctx); // shown, not recorded: reading writes nothing
  const cached = readLastIfHead(paths);
  let last: StatusData['last'] = cached ?? undefined;
  let packages = cached?.packages;
  if (!cached) {
    // HEAD moved without pyctl (a hand-made commit): read it the slow way.
    const mine = (await listOps(home, 1)).find((x) => x.meta);
    last = mine ? { op: mine.meta!.op, subject: mine.commit.parsed.subject, time: mine.commit.time } : undefined;
    packages = parseFreeze(readTextOr(paths.freeze, '') ?? '').size;
  }
  // The other tier: a user's status names the system venv; --system status says who may change it.
  const other = ctx.system ? null : await tierSummary(openHome(undefined, { system: true }));
  return renderStatus(statusData(paths, { packages, last, inSync: !pending, system: !!ctx.system, other }), p);
}
