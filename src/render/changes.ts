/** Human text for package changes. */
import { changeLine, countChanges, type Change, type ChangeCounts } from '../plan/changes.js';
import type { Paint } from './color.js';

export function countsText(c: ChangeCounts): string {
  const parts: string[] = [];
  if (c.added) parts.push(`+${c.added}`);
  if (c.removed) parts.push(`-${c.removed}`);
  const moved = c.upgraded + c.downgraded + c.changed;
  if (moved) parts.push(`~${moved}`);
  return parts.join(' ') || 'no package changes';
}

export function colorLine(c: Change, p: Paint): string {
  const line = changeLine(c);
  return c.kind === 'added' ? p.green(line) : c.kind === 'removed' ? p.red(line) : p.yellow(line);
}

/**
 * The short note printed after a recorded pip run (stderr, so pip's stdout stays clean). The
 * packages the command named come first, so `pip install torch` never hides torch among its deps.
 */
export function afterPipNote(op: number, changes: Change[], p: Paint, opts: { max?: number; system?: boolean; named?: Set<string> } = {}): string {
  const { max = 8, system = false, named } = opts;
  const cmd = system ? 'pyctl --system' : 'pyctl';
  const head = `pyctl: recorded operation ${op}${system ? ' in the system venv' : ''} (${countsText(countChanges(changes))})`;
  const ordered = named?.size ? [...changes.filter((c) => named.has(c.key)), ...changes.filter((c) => !named.has(c.key))] : changes;
  const shown = ordered.slice(0, max).map((c) => `  ${colorLine(c, p)}`);
  if (changes.length > max) shown.push(p.dim(`  … and ${changes.length - max} more: ${cmd} diff ${op}`));
  return [head, ...shown, p.dim(`  undo with: ${cmd} undo`)].join('\n') + '\n';
}

/** A grouped summary: added / removed / upgraded / downgraded. */
export function summaryText(changes: Change[], p: Paint): string {
  if (!changes.length) return 'no package changes\n';
  const groups: [string, Change['kind'][]][] = [
    ['added', ['added']],
    ['removed', ['removed']],
    ['upgraded', ['upgraded']],
    ['downgraded', ['downgraded']],
    ['changed source', ['changed']],
  ];
  const out: string[] = [];
  for (const [title, kinds] of groups) {
    const items = changes.filter((c) => kinds.includes(c.kind));
    if (!items.length) continue;
    out.push(`${p.bold(title)} (${items.length}):`);
    for (const c of items) out.push(`  ${colorLine(c, p)}`);
  }
  return out.join('\n') + '\n';
}
