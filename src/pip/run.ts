/**
 * The one place that runs pip (through execa). pyctl records its own changes, so the hook is
 * told to stand aside (PYCTL_NO_RECORD); the user's pip config and PIP_* pass through untouched.
 */
import { execa } from 'execa';
import { join } from 'node:path';

export interface PipResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export async function runPip(venv: string, args: string[], opts: { verbose?: boolean } = {}): Promise<PipResult> {
  const r = await execa(join(venv, 'bin', 'python'), ['-m', 'pip', ...args], {
    env: { PYCTL_NO_RECORD: '1', PIP_DISABLE_PIP_VERSION_CHECK: '1' },
    reject: false,
    stdin: 'ignore',
    // Verbose: pip's own output is shown on stderr, never on pyctl's stdout (--json stays clean).
    stdout: opts.verbose ? ['pipe', 2] : 'pipe',
    stderr: opts.verbose ? ['pipe', 2] : 'pipe',
  });
  return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
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
