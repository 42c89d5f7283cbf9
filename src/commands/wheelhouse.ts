/**
 * pyctl wheelhouse [--prune]: the wheelhouse's size, and (with --prune) removing the wheels no
 * recorded state refers to: neither any commit on HEAD's history nor any snapshot (auto ones
 * included). What undo/restore can still reach is never removed. Also the link store's copies
 * the venv no longer uses (a cache: --prune removes them at once, maintenance after a week).
 * --list names every kept wheel; the wheels the current state or a snapshot needs and that are
 * not kept are always reported.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { freezeAt } from '../operations/history.js';
import { withLock } from '../gitstore/lock.js';
import { parseFreeze } from '../venv/freeze.js';
import { storeUsage, sweepStore } from '../wheel/link-store.js';
import { parseWheelName, wheelKey } from '../packaging/wheel-name.js';
import { Wheelhouse } from '../wheelhouse/wheelhouse.js';
import type { Context, Output } from '../operations/context.js';
import { isAutoSnapshot } from '../gitstore/refname.js';

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** Wheel keys (`name==version`) a freeze file's entries are installed from. */
function wheelKeys(freeze: string): string[] {
  const keys: string[] = [];
  for (const e of parseFreeze(freeze).values()) {
    if (/^-e\s/.test(e.line)) continue; // editable: built from its folder, never a kept wheel
    const url = /@\s*(\S+\.whl)\b/.exec(e.line)?.[1];
    const w = url ? parseWheelName(url) : null;
    if (w) keys.push(`${w.key}==${w.version}`);
    else if (e.version && !/\s@\s/.test(e.line)) keys.push(wheelKey(e.name, e.version));
  }
  return keys;
}

/**
 * Wheel keys any recorded state or snapshot refers to (`all`), and those the current state and
 * the named snapshots need (`current`): the states a user goes back to with undo and restore.
 */
async function referenced(ctx: Context): Promise<{ all: Set<string>; current: Map<string, string[]> }> {
  const { repo } = ctx.home;
  const all = new Set<string>();
  const current = new Map<string, string[]>();
  const need = (key: string, who: string) => current.set(key, [...(current.get(key) ?? []), who]);
  const seen = new Set<string>();
  let first = true;
  for await (const c of repo.walk()) {
    seen.add(c.oid);
    for (const k of wheelKeys(await freezeAt(ctx.home, c.oid))) {
      all.add(k);
      if (first) need(k, 'now');
    }
    first = false;
  }
  // Tags that name no commit (made with plain git) are not snapshots and need no wheels.
  for (const tag of (await repo.snapshots()).tags) {
    const keys = wheelKeys(await freezeAt(ctx.home, tag.commit));
    if (!seen.has(tag.commit)) for (const k of keys) all.add(k);
    if (!isAutoSnapshot(tag.name)) for (const k of keys) need(k, tag.name);
  }
  return { all, current };
}

export async function wheelhouse(ctx: Context, opts: { prune?: boolean; list?: boolean }): Promise<Output> {
  const { paths } = ctx.home.requireInitialized();
  return withLock(paths.lock, 'pyctl wheelhouse', async () => {
    const wh = new Wheelhouse(paths.wheelhouse);
    const before = wh.size();
    const { all: keep, current } = await referenced(ctx);
    const held = new Map([...wh.files()].map(([k, v]) => [k, ([] as string[]).concat(v)]));
    const unused = [...held].filter(([k]) => !keep.has(k)).flatMap(([, p]) => p);
    // Wheels the current state or a snapshot needs that are not kept: undo/restore there needs pip.
    const missing = [...current].filter(([k]) => !held.has(k)).map(([k, who]) => ({ wheel: k, neededBy: who })).sort((a, b) => a.wheel.localeCompare(b.wheel));
    const damaged = wh.damagedWheels().map((d) => ({ wheel: d.path.slice(d.path.lastIndexOf('/') + 1), why: d.why }));
    if (opts.prune) for (const d of damaged) rmSync(join(paths.wheelhouse, d.wheel), { force: true });
    const listed = opts.list ? [...held.values()].flat().map((p) => p.slice(p.lastIndexOf('/') + 1)).sort() : [];
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
      ...(opts.list ? ['  kept wheels:', ...listed.map((n) => `    ${n}`)] : []),
      missing.length
        ? `  ${missing.length} wheel(s) the current state or a snapshot needs are not kept (undo/restore there downloads them with pip):`
        : '  every wheel the current state and the snapshots need is kept',
      ...missing.map((m) => `    ${m.wheel.replace('==', ' ')}  (${m.neededBy.join(', ')})`),
      ...(damaged.length
        ? [
            `  ${damaged.length} kept wheel(s) are damaged and never used (${opts.prune ? 'removed' : "'pyctl wheelhouse --prune' removes them"}; the next record or pip keeps a good copy):`,
            ...damaged.map((d) => `    ${d.wheel}: ${d.why}`),
          ]
        : []),
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
        ...(opts.list ? { list: listed } : {}),
        missing,
        damaged,
        store: { dir: paths.store, files: store.files, unused: store.unused, unusedBytes: store.unusedBytes, removed: swept?.removed ?? 0 },
      },
    };
  });
}
