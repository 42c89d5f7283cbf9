/**
 * pyctl autoremove [--dry-run]: uninstall what no package you asked for needs any more, as one
 * recorded (and undoable) operation; and pyctl why PKG: which requested packages pull PKG in.
 */
import { PyctlError } from '../errors.js';
import { ALWAYS_KEEP, nodesOf, orphans, rootsOf, venvMarkerEnv, whyChains } from '../deps/graph.js';
import { freezeText, readInstalled } from '../venv/freeze.js';
import { canonicalName } from '../packaging/names.js';
import { changeState } from '../operations/change.js';
import type { Context, Output } from '../operations/context.js';
import { syncDrift } from '../operations/sync.js';
import { askedFor } from '../operations/asked.js';

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
  const env = venvMarkerEnv(paths.venv);
  const asked = await askedFor(home);
  // Extras count only where a recorded command asked for them (pip install 'black[d]').
  const rootExtras = new Map([...nodes.keys()].map((k) => [k, asked.get(k)?.extras ?? new Set<string>()]));
  const chains = whyChains(nodes, key, env, rootExtras);
  const kept = ALWAYS_KEEP.has(key);
  const command = asked.get(key)?.command;
  // pip, setuptools and wheel arrive with the venv; they were asked for only if a command named them.
  const requested = kept ? !!command : node.requested;
  const lines = [`${node.name} ${node.version}`];
  if (requested) lines.push(`  you asked for it (${command ?? 'pip marked it REQUESTED'})`);
  if (kept) lines.push(`  part of the venv (${[...ALWAYS_KEEP].join(', ')}): autoremove never removes it`);
  for (const c of chains) lines.push(`  ${c.join(' -> ')}`);
  const orphan = !requested && !kept && !chains.length;
  let viaExtras: string[][] = [];
  if (orphan) {
    // Not needed by anything asked for, unless through an extra nobody is known to have asked for:
    // autoremove keeps those (it cannot tell), so say so rather than promise a removal.
    viaExtras = whyChains(nodes, key, env);
    if (viaExtras.length) {
      lines.push('  nothing you asked for needs it, unless you installed one of these with an extra (pip does not record which):');
      for (const c of viaExtras) lines.push(`    ${c.join(' -> ')}`);
      lines.push("  'pyctl autoremove' keeps it");
    } else lines.push("  nothing you asked for needs it: 'pyctl autoremove' would remove it");
  }
  return {
    text: lines.join('\n') + '\n',
    json: { package: node.name, version: node.version, requested, command: command ?? null, kept, chains, viaUnaskedExtras: viaExtras, orphan: orphan && !viaExtras.length },
  };
}
