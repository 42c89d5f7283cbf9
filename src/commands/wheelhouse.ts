/**
 * pyctl wheelhouse [--prune]: the wheelhouse's size, and (with --prune) removing the wheels no
 * recorded state refers to: neither any commit on HEAD's history nor any snapshot (auto ones
 * included). What undo/restore can still reach is never removed. Also the link store's copies
 * the venv no longer uses (a cache: --prune removes them at once, maintenance after a week).
 */
import { rmSync } from 'node:fs';
import { freezeAt } from '../operations/history.js';
import { withLock } from '../gitstore/lock.js';
import { parseFreeze } from '../venv/freeze.js';
import { storeUsage, sweepStore } from '../wheel/link-store.js';
import { parseWheelName, wheelKey } from '../packaging/wheel-name.js';
import { Wheelhouse } from '../wheelhouse/wheelhouse.js';
import type { Context, Output } from '../operations/context.js';

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** Wheel keys (`name==version`) any recorded state or snapshot needs. */
async function referenced(ctx: Context): Promise<Set<string>> {
  const { repo } = ctx.home;
  const keys = new Set<string>();
  const add = (freeze: string) => {
    for (const e of parseFreeze(freeze).values()) {
      if (e.version) keys.add(wheelKey(e.name, e.version));
      const url = /@\s*(\S+\.whl)\b/.exec(e.line)?.[1];
      const w = url ? parseWheelName(url) : null;
      if (w) keys.add(`${w.key}==${w.version}`);
    }
  };
  const seen = new Set<string>();
  for await (const c of repo.walk()) {
    seen.add(c.oid);
    add(await freezeAt(ctx.home, c.oid));
  }
  // Tags that name no commit (made with plain git) are not snapshots and need no wheels.
  for (const tag of (await repo.snapshots()).tags) if (!seen.has(tag.commit)) add(await freezeAt(ctx.home, tag.commit));
  return keys;
}

export async function wheelhouse(ctx: Context, opts: { prune?: boolean }): Promise<Output> {
  const { paths } = ctx.home.requireInitialized();
  return withLock(paths.lock, 'pyctl wheelhouse', async () => {
    const wh = new Wheelhouse(paths.wheelhouse);
    const before = wh.size();
    const keep = await referenced(ctx);
    const unused = [...wh.files()].filter(([k]) => !keep.has(k)).map(([, p]) => p);
    if (opts.prune) {
      for (const p of unused) {
        if (ctx.verbose) ctx.note(`remove ${p}`);
        rmSync(p, { force: true });
      }
    }
    const after = opts.prune ? new Wheelhouse(paths.wheelhouse).size() : before;
    const swept = opts.prune ? sweepStore(paths.store, Date.now(), 0) : null;
    const store = storeUsage(paths.store);
    const unusedCopies = store.unused ? `; ${store.unused} the venv no longer uses (${mb(store.unusedBytes)})` : '';
    const names = unused.map((p) => p.slice(p.lastIndexOf('/') + 1)).sort();
    const text = [
      `wheelhouse: ${paths.wheelhouse}`,
      `  ${after.wheels} wheel(s), ${mb(after.bytes)}`,
      opts.prune
        ? `  removed ${names.length} wheel(s) no recorded state refers to (${mb(before.bytes - after.bytes)} freed)`
        : `  ${names.length} wheel(s) no recorded state refers to${names.length ? ": 'pyctl wheelhouse --prune' removes them" : ''}`,
      ...names.map((n) => `    ${n}`),
      `link store: ${paths.store} (files undo/redo, restore and clean link back instead of writing)`,
      `  ${store.files} file(s)${unusedCopies}`,
      ...(swept ? [`  removed ${swept.removed} file(s) the venv no longer used (${mb(swept.bytes)} freed)`] : []),
      ...(!swept && store.unused ? ["  'pyctl wheelhouse --prune' removes those now; otherwise they go after a week unused"] : []),
    ];
    return {
      text: text.join('\n') + '\n',
      json: {
        dir: paths.wheelhouse,
        wheels: after.wheels,
        bytes: after.bytes,
        unreferenced: opts.prune ? [] : names,
        removed: opts.prune ? names : [],
        store: { dir: paths.store, files: store.files, unused: store.unused, unusedBytes: store.unusedBytes, removed: swept?.removed ?? 0 },
      },
    };
  });
}
