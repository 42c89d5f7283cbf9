/** Pure: the text of `pyctl doctor`: one line per check, what --fix did or would do, a summary. */
import type { Status } from '../doctor/check.js';
import type { DoctorResult } from '../doctor/run.js';
import type { Paint } from './color.js';

export function renderDoctor(home: string, results: DoctorResult[], fixMode: boolean, p: Paint): string {
  const problems = results.filter((r) => r.status === 'problem').length;
  const warnings = results.filter((r) => r.status === 'warning').length;
  const colour = (s: Status) => (s === 'ok' ? p.green('ok     ') : s === 'warning' ? p.yellow('warning') : p.red('PROBLEM'));
  const w = Math.max(...results.map((r) => r.check.length));
  const pad = ' '.repeat(13 + w);
  const lines = [`pyctl doctor: ${home}`];
  for (const r of results) {
    lines.push(`  ${colour(r.status)}  ${r.check.padEnd(w)}  ${r.message}`);
    if (r.fixed) lines.push(...r.fixed.split('\n').map((l, i) => `${pad}${i ? '' : r.fixed!.startsWith('failed') ? 'fix ' : 'fixed: '}${l}`));
    // 'fix:' is what --fix would do; 'to do:' is advice --fix cannot carry out.
    if (r.status !== 'ok' && r.fix) lines.push(`${pad}${fixMode || !r.fixable ? 'to do' : 'fix'}: ${r.fix}`);
  }
  // --fix is suggested only when it would repair something found.
  const fixable = results.filter((r) => r.status !== 'ok' && r.fixable).length;
  const advice = fixMode
    ? ''
    : fixable
      ? `: run 'pyctl doctor --fix' to repair ${fixable === problems + warnings ? 'them' : `${fixable} of them`}`
      : ": --fix cannot repair these; see each 'to do:' line";
  const summary = problems ? `${problems} problem(s), ${warnings} warning(s)${advice}` : warnings ? `no problems, ${warnings} warning(s)` : 'everything is ok';
  lines.push(summary);
  return lines.join('\n') + '\n';
}
