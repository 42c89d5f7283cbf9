/** pyctl log PKG: how a package got here, one line per operation that touched it (`why` says who needs it now). */
import { PyctlError } from '../errors.js';
import { similar } from '../operations/history.js';
import { packageLog, type PackageEvent } from '../operations/package-log.js';
import { shortDate } from '../render/time.js';
import type { Context, Output } from '../operations/context.js';
import { syncDrift } from '../operations/sync.js';

function versions(e: PackageEvent): string {
  if (e.kind === 'added') return `added ${e.to}`;
  if (e.kind === 'removed') return `removed ${e.from}`;
  return `${e.from} -> ${e.to}`;
}

export async function log(ctx: Context, pkg: string): Promise<Output> {
  const { home, paint: p } = ctx;
  home.requireInitialized();
  await syncDrift(ctx, { readOnlyOk: true });
  const { events, names } = await packageLog(home, pkg);
  if (!events.length) {
    const close = [...names].filter((n) => similar(n, pkg)).slice(0, 5);
    throw new PyctlError('UNKNOWN_PACKAGE', `no operation ever added, removed or changed '${pkg}'`, close.length ? `did you mean: ${close.join(', ')}?` : "see 'pyctl history' and 'pip list'");
  }
  const rows = events.map((e) => `${p.bold(String(e.op ?? '-').padStart(5))}  ${shortDate(e.time)}  ${versions(e)}  ${p.dim(e.subject)}`);
  return {
    text: `${p.bold(events[0].name)}\n${rows.join('\n')}\n`,
    json: {
      package: events[0].name,
      events: events.map((e) => ({ op: e.op, time: new Date(e.time * 1000).toISOString(), change: e.kind, from: e.from, to: e.to, subject: e.subject, commit: e.commit })),
    },
  };
}
