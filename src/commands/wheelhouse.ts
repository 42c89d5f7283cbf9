/**
 * pyctl wheelhouse [--prune] [--build]: the kept versions (stored packages and wheel files),
 * what they share with the venv and what only history needs, and (with --prune) removing the
 * wheels and stored packages no recorded state refers to: neither any commit on HEAD's history
 * nor any snapshot (auto ones included). What undo/restore can still reach is never removed.
 * Link-store files nothing needs any more go too (maintenance removes them after a week).
 * --build makes a wheel file of every stored version a state refers to.
 * --list names every kept wheel; the wheels the current state or a snapshot needs and that are
 * not kept are always reported.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { freezeAt } from '../operations/history.js';
import { withLock } from '../gitstore/lock.js';
import { directUrl, editableTarget, parseFreeze, requirementLine } from '../packaging/parse-freeze.js';
import { storeUsage, sweepStore } from '../wheel/link-store.js';
import { checkStored, listStored, referencedNames, removeStored, storedOnlyForHistory, type StoredPackage } from '../wheel/package-store.js';
import { parseWheelName, wheelKey } from '../packaging/wheel-name.js';
import { Wheelhouse } from '../wheelhouse/wheelhouse.js';
import type { Context, Output } from '../operations/context.js';
import { isAutoSnapshot } from '../gitstore/refname.js';
import { knownFiles, originsAt } from '../operations/provenance.js';

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** Wheel keys (`name==version`) a freeze file's entries are installed from. */
function wheelKeys(freeze: string): string[] {
  const keys: string[] = [];
  for (const e of parseFreeze(freeze).values()) {
    const line = requirementLine(e);
    if (editableTarget(line) !== null) continue; // editable: built from its folder, never a kept wheel
    const url = directUrl(line)?.split('#')[0];
    const w = url?.endsWith('.whl') ? parseWheelName(url) : null;
    if (w) keys.push(`${w.key}==${w.version}`);
    else if (e.version && !url) keys.push(wheelKey(e.name, e.version));
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

export async function wheelhouse(ctx: Context, opts: { prune?: boolean; list?: boolean; build?: boolean }): Promise<Output> {
  const { paths } = ctx.home.requireInitialized();
  const dirs = { files: paths.store, packages: paths.packages };
  return withLock(
    paths.lock,
    'pyctl wheelhouse',
    async () => {
      const wh = new Wheelhouse(paths.wheelhouse);
      const { all: keep, current } = await referenced(ctx);
      let stored = listStored(dirs);
      const storedKey = (e: StoredPackage) => wheelKey(e.name, e.version);
      // --build: a wheel file of every stored version some state refers to (to copy the
      // wheelhouse to another machine, or `pip install --find-links` it).
      const built: string[] = [];
      if (opts.build) {
        for (const e of stored) {
          if (!keep.has(storedKey(e)) || wh.find(e.name, e.version)) continue;
          if (!checkStored(dirs, e).ok) continue;
          const p = wh.fromStored(dirs, e);
          if (p) built.push(p.slice(p.lastIndexOf('/') + 1));
          if (p && ctx.verbose) ctx.note(`built ${p}`);
        }
      }
      const before = wh.size();
      const held = new Map([...wh.files()].map(([k, v]) => [k, ([] as string[]).concat(v)]));
      const unused = [...held].filter(([k]) => !keep.has(k)).flatMap(([, p]) => p);
      const unusedStored = stored.filter((e) => !keep.has(storedKey(e)));
      const storedKeys = new Set(stored.map(storedKey));
      // Versions the current state or a snapshot needs that are kept neither way: undo/restore there needs pip.
      const missing = [...current]
        .filter(([k]) => !held.has(k) && !storedKeys.has(k))
        .map(([k, who]) => ({ wheel: k, neededBy: who }))
        .sort((a, b) => a.wheel.localeCompare(b.wheel));
      const damaged = wh.damagedWheels({ known: knownFiles(await originsAt(ctx.home)) }).map((d) => ({ wheel: d.path.slice(d.path.lastIndexOf('/') + 1), why: d.why }));
      if (opts.prune) for (const d of damaged) rmSync(join(paths.wheelhouse, d.wheel), { force: true });
      const listed = opts.list
        ? [...held.values()]
            .flat()
            .map((p) => p.slice(p.lastIndexOf('/') + 1))
            .sort()
        : [];
      if (opts.prune) {
        for (const p of unused) {
          if (ctx.verbose) ctx.note(`remove ${p}`);
          rmSync(p, { force: true });
        }
        for (const e of unusedStored) {
          if (ctx.verbose) ctx.note(`forget the stored ${e.name} ${e.version}`);
          removeStored(dirs, e);
        }
        stored = stored.filter((e) => keep.has(storedKey(e)));
      }
      const after = opts.prune ? new Wheelhouse(paths.wheelhouse).size() : before;
      const swept = opts.prune ? sweepStore(paths.store, Date.now(), 0, referencedNames(dirs)) : null;
      const store = storeUsage(paths.store);
      // Shared: files the venv links to as well (no space of their own); history: only undo/restore need them.
      const usage = stored.map((e) => ({ e, only: storedOnlyForHistory(dirs, e) })).sort((a, b) => a.e.key.localeCompare(b.e.key) || a.e.version.localeCompare(b.e.version));
      const historyBytes = usage.reduce((n, u) => n + u.only.bytes, 0);
      const inVenv = usage.filter((u) => u.only.files < new Set(u.e.files.map((f) => f[1])).size);
      const names = unused.map((p) => p.slice(p.lastIndexOf('/') + 1)).sort();
      const forgotten = unusedStored.map((e) => `${e.name} ${e.version}`).sort();
      const text = [
        `wheelhouse: ${paths.wheelhouse}`,
        `  ${after.wheels} wheel(s), ${mb(after.bytes)}`,
        ...(built.length ? [`  built ${built.length} wheel(s) from stored packages:`, ...built.map((n) => `    ${n}`)] : []),
        opts.prune
          ? `  removed ${names.length} wheel(s) no recorded state refers to (${mb(before.bytes - after.bytes)} freed)`
          : `  ${names.length} wheel(s) no recorded state refers to${names.length ? ": 'pyctl wheelhouse --prune' removes them" : ''}`,
        ...names.map((n) => `    ${n}`),
        ...(opts.list ? ['  kept wheels:', ...listed.map((n) => `    ${n}`)] : []),
        missing.length
          ? `  ${missing.length} version(s) the current state or a snapshot needs are not kept (undo/restore there downloads them with pip):`
          : '  every version the current state and the snapshots need is kept (a stored package or a wheel)',
        ...missing.map((m) => `    ${m.wheel.replace('==', ' ')}  (${m.neededBy.join(', ')})`),
        ...(damaged.length
          ? [
              `  ${damaged.length} kept wheel(s) are damaged and never used (${opts.prune ? 'removed' : "'pyctl wheelhouse --prune' removes them"}; the next record or pip keeps a good copy):`,
              ...damaged.map((d) => `    ${d.wheel}: ${d.why}`),
            ]
          : []),
        `stored packages: ${paths.packages} (undo/redo, restore and clean link their files back: no unpacking, no compiling)`,
        `  ${stored.length} version(s): ${inVenv.length} share their files with the venv (no space of their own), ${mb(historyBytes)} only for history`,
        ...(opts.list ? usage.map((u) => `    ${u.e.name} ${u.e.version}  ${u.only.files ? `${mb(u.only.bytes)} only for history` : 'shared with the venv'}`) : []),
        opts.prune
          ? `  forgot ${forgotten.length} stored version(s) no recorded state refers to`
          : `  ${forgotten.length} stored version(s) no recorded state refers to${forgotten.length ? ": 'pyctl wheelhouse --prune' removes them" : ''}`,
        ...forgotten.map((n) => `    ${n}`),
        `link store: ${paths.store} (one hard link of each stored file)`,
        `  ${store.files} file(s), ${store.unused} the venv does not use (${mb(store.unusedBytes)})`,
        ...(swept ? [`  removed ${swept.removed} file(s) nothing needs any more (${mb(swept.bytes)} freed)`] : []),
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
          ...(opts.build ? { built } : {}),
          missing,
          stored: usage.map((u) => ({ name: u.e.name, version: u.e.version, files: u.e.files.length, historyFiles: u.only.files, historyBytes: u.only.bytes })),
          storedUnreferenced: opts.prune ? [] : forgotten,
          storedRemoved: opts.prune ? forgotten : [],
          damaged,
          store: { dir: paths.store, files: store.files, unused: store.unused, unusedBytes: store.unusedBytes, removed: swept?.removed ?? 0 },
        },
      };
    },
    { note: ctx.note },
  );
}
