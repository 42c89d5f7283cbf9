/**
 * The one importer of execa: running another program (pip from src/pip/run.ts, the git CLI from
 * src/sharing/git-cli.ts). Loaded on first use: execa and its dependencies are ~240 KB that undo and
 * restore from the wheelhouse never need. Never rejects: callers read exitCode.
 */
import type { Options } from 'execa';

export interface ProgramResult {
  /** undefined when the program could not start or was killed. */
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  failed: boolean;
  message: string;
  shortMessage?: string;
}

export async function runProgram(cmd: string, args: string[], options: Options): Promise<ProgramResult> {
  const { execa } = await import('execa');
  const r = await execa(cmd, args, { ...options, reject: false });
  return { exitCode: r.exitCode, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), failed: r.failed, message: r.message ?? '', shortMessage: r.shortMessage };
}
