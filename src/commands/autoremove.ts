/**
 * pyctl autoremove [--dry-run]: uninstall what no package you asked for needs any more, as one
 * recorded (and undoable) operation; and pyctl why PKG: which requested packages pull PKG in.
 */
import { PyctlError } from '../errors.js';
import { ALWAYS_KEEP, nodesOf, orphans, rootsOf, venvMarkerEnv, whyChains } from '../deps/graph.js';
import { canonicalName, freezeText, readInstalled } from '../venv/freeze.js';
import { changeState } from './change.js';
import type { Context, Output } from './context.js';
import { syncDrift } from './sync.js';

export async function autoremove(ctx: Context, opts: { dryRun?: boolean }): Promise<Output> {
  const { home } = ctx;
  const { paths } = home.requireInitialized();
  let found: string[] = [];
  const out = await changeState(ctx, {
    kind: 'autoremove',
    dryRun: opts.dryRun,
    async resolve() {
      const installed = readInstalled(paths.venv);
      const nodes = nodesOf(installed);
      if (!rootsOf(nodes).some((k) => nodes.get(k)!.requested) && installed.some((d) => !ALWAYS_KEEP.has(d.key))) {
        throw new PyctlError(
          'NOT_INSTALLED',
          'no installed package is marked as asked for (pip writes REQUESTED for the names you give it), so everything would look unneeded',
          "reinstall what you want to keep with 'pip install NAME' (it marks them), then run autoremove again; nothing was changed",
        );
      }
      const gone = new Set(orphans(nodes, venvMarkerEnv(paths.venv)));
      found = installed.filter((d) => gone.has(d.key)).map((d) => `${d.name} ${d.version}`);
      return { freeze: freezeText(installed.filter((d) => !gone.has(d.key))), subject: 'pyctl autoremove' };
    },
  });
  if (!found.length) {
    return { text: 'nothing to remove: every installed package is needed by one you asked for\n', json: { op: null, removed: [], dryRun: !!opts.dryRun } };
  }
  return { ...out, json: { ...(out.json as object), removed: found } };
}

export async function why(ctx: Context, pkg: string): Promise<Output> {
  const { home } = ctx;
  const { paths } = home.requireInitialized();
  await syncDrift(ctx, { readOnlyOk: true });
  const installed = readInstalled(paths.venv);
  const nodes = nodesOf(installed);
  const key = canonicalName(pkg);
  const node = nodes.get(key);
  if (!node) throw new PyctlError('NOT_INSTALLED', `${pkg} is not installed in ${paths.venv}`, "see 'pip list'");
  const chains = whyChains(nodes, key, venvMarkerEnv(paths.venv));
  const kept = ALWAYS_KEEP.has(key);
  const lines = [`${node.name} ${node.version}`];
  if (node.requested) lines.push(`  you asked for it (pip install ${node.name})`);
  if (kept) lines.push('  part of the venv tooling (pip, setuptools, wheel): autoremove never removes it');
  for (const c of chains) lines.push(`  ${c.join(' -> ')}`);
  if (!node.requested && !kept && !chains.length) lines.push("  nothing you asked for needs it: 'pyctl autoremove' would remove it");
  return {
    text: lines.join('\n') + '\n',
    json: { package: node.name, version: node.version, requested: node.requested, kept, chains, orphan: !node.requested && !kept && !chains.length },
  };
}
