/**
 * The one place that runs pip. pyctl records its own changes, so the hook is told to stand aside
 * (PYCTL_NO_RECORD); the user's pip config and PIP_* pass through untouched.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sitePackagesDir } from '../venv/syspath.js';
import { PyctlError } from '../errors.js';
import { runProgram } from '../proc.js';

export interface PipResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export async function runPip(venv: string, args: string[], opts: { verbose?: boolean } = {}): Promise<PipResult> {
  const r = await runProgram(join(venv, 'bin', 'python'), ['-m', 'pip', ...args], {
    env: { PYCTL_NO_RECORD: '1', PIP_DISABLE_PIP_VERSION_CHECK: '1' },
    stdin: 'ignore',
    // Verbose: pip's own output is shown on stderr, never on pyctl's stdout (--json stays clean).
    stdout: opts.verbose ? ['pipe', 2] : 'pipe',
    stderr: opts.verbose ? ['pipe', 2] : 'pipe',
  });
  const res = { exitCode: r.exitCode ?? 1, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
  if (res.exitCode !== 0 && /No module named pip\b/.test(res.stderr)) throw pipMissing(venv, args[0]);
  if (r.failed && r.exitCode === undefined) {
    throw new PyctlError('VENV_BROKEN', `cannot run ${join(venv, 'bin', 'python')}: ${r.shortMessage ?? r.message}`, "run 'pyctl doctor --fix' to rebuild the venv");
  }
  return res;
}

/** pip's last meaningful error line, for one-line messages. */
export function pipError(r: PipResult): string {
  const lines = r.stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('WARNING') && !/^(Looking in|Collecting|Processing|Downloading)/.test(l));
  const err = lines.find((l) => l.startsWith('ERROR:')) ?? lines.pop() ?? `pip exited with status ${r.exitCode}`;
  return err.replace(/^ERROR:\s*/, '');
}

function pipMissing(venv: string, what = ''): PyctlError {
  return new PyctlError(
    'VENV_BROKEN',
    `pip is missing from the venv ${venv}, and this needs it (pip ${what})`,
    `put it back with '${join(venv, 'bin', 'python')} -m ensurepip', or run 'pyctl doctor --fix'`,
  );
}

/** Fail early, before any note or change, when a step needs pip and the venv has none. */
export function requirePip(venv: string, what: string): void {
  let site: string;
  try {
    site = sitePackagesDir(venv);
  } catch {
    return; // cannot tell: let pip itself say
  }
  if (!existsSync(join(site, 'pip', '__init__.py'))) throw pipMissing(venv, what);
}
