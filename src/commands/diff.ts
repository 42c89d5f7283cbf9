/** pyctl diff [N] | diff A B: what an operation changed, or the difference between two states. */
import { PyctlError, usage } from '../errors.js';
import { findOp, freezeAt, resolveState, listOps } from '../operations/history.js';
import { diffSets } from '../plan/changes.js';
import { summaryText } from '../render/changes.js';
import { unifiedFreezeDiff } from '../render/unified.js';
import { parseFreeze } from '../packaging/parse-freeze.js';
import type { Context, Output } from '../operations/context.js';
import { notePending } from '../operations/sync.js';

export async function diff(ctx: Context, refs: string[], opts: { unified?: boolean }): Promise<Output> {
  const { home, paint: p } = ctx;
  home.requireInitialized();
  await notePending(ctx); // shown, not recorded: reading writes nothing
  let before: string;
  let after: string;
  let fromLabel: string;
  let toLabel: string;
  let title: string;
  if (refs.length > 2) throw usage(`diff takes at most two states, got ${refs.length}`, 'pyctl diff [N] or pyctl diff A B');
  if (refs.length === 2) {
    const [a, b] = await Promise.all(refs.map((r) => resolveState(home, r)));
    [before, after, fromLabel, toLabel] = [a.freeze, b.freeze, a.label, b.label];
    title = `${a.label} -> ${b.label}`;
  } else {
    let entry;
    if (refs.length === 1) {
      if (!/^\d+$/.test(refs[0])) {
        // A snapshot name alone: compare it with now.
        const [a, b] = [await resolveState(home, refs[0]), await resolveState(home, 'HEAD')];
        [before, after, fromLabel, toLabel] = [a.freeze, b.freeze, a.label, b.label];
        title = `${a.label} -> now`;
        return render();
      }
      entry = await findOp(home, Number(refs[0]));
    } else {
      entry = (await listOps(home, 1)).find((e) => e.meta);
      if (!entry) throw new PyctlError('UNKNOWN_OPERATION', 'no operation recorded yet', "run 'pyctl init'");
    }
    before = await freezeAt(home, entry.commit.parents[0]);
    after = await freezeAt(home, entry.commit.oid);
    fromLabel = 'before';
    toLabel = `operation ${entry.meta?.op}`;
    title = `operation ${entry.meta?.op}: ${entry.commit.parsed.subject}`;
  }
  return render();

  function render(): Output {
    const changes = diffSets(parseFreeze(before), parseFreeze(after));
    const body = opts.unified ? unifiedFreezeDiff(before, after, fromLabel, toLabel, p) : summaryText(changes, p);
    return { text: `${p.bold(title)}\n${body}`, json: { title, from: fromLabel, to: toLabel, changes } };
  }
}
