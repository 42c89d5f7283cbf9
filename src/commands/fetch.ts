/** pyctl fetch [REMOTE]: bring a remote's snapshots in as REMOTE/NAME, never touching local ones. */
import { pythonMismatchWarning } from '../operations/history.js';
import { Remotes, type FetchResult } from '../sharing/remotes.js';
import type { Context, Output } from '../operations/context.js';

export async function fetch(ctx: Context, remote: string | undefined): Promise<Output> {
  const { home, paint: p } = ctx;
  home.requireInitialized();
  const name = remote ?? 'origin';
  const r: FetchResult = await new Remotes(home.paths, ctx.note).fetch(name);
  for (const t of r.tags) {
    if (t.status === 'unchanged') continue;
    const w = await pythonMismatchWarning(home, `${name}/${t.name}`).catch(() => undefined);
    if (w) ctx.note(w);
  }
  if (!r.looksLikePyctl) ctx.note(`${name}/main has no pyctl operations in its last commits: is this a pyctl environment repository?`);
  const lines = r.tags.map((t) => {
    const s = t.status === 'new' ? p.green('new') : t.status === 'updated' ? p.yellow('updated') : p.dim('unchanged');
    const c = t.conflictsWithLocal ? p.yellow(`  (your own '${t.name}' differs and was kept)`) : '';
    return `  ${p.bold(`${name}/${t.name}`)}: ${s}${c}`;
  });
  for (const gone of r.removed) lines.push(`  ${name}/${gone}: ${p.dim('gone from the remote')}`);
  if (!r.tags.length) lines.push(p.dim('  the remote has no snapshots'));
  // The hint names what just arrived (new, else updated), not the first name alphabetically.
  const arrived = r.tags.find((t) => t.status === 'new') ?? r.tags.find((t) => t.status === 'updated');
  const tip = arrived ? `\n${p.dim(`compare with: pyctl diff ${name}/${arrived.name} now`)}\n` : '';
  return { text: `${p.bold(`fetched ${name}`)} ${p.dim(r.url)}\n${lines.join('\n')}\n${tip}`, json: r };
}
