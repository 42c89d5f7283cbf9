/** The git command, for the git-CLI transport and for `git credential` (never required). */
import { runProgram, type ProgramResult } from '../proc.js';

let available: Promise<boolean> | undefined;
export function gitCliAvailable(): Promise<boolean> {
  return (available ??= (async () => {
    try {
      const r = await runProgram('git', ['--version'], { timeout: 10_000 });
      return r.exitCode === 0;
    } catch {
      return false;
    }
  })());
}

export async function runGit(args: string[], opts: { input?: string; cwd?: string; env?: Record<string, string> } = {}): Promise<ProgramResult> {
  return runProgram('git', args, {
    input: opts.input,
    cwd: opts.cwd,
    // Prompt for a password only when a person is there to answer.
    env: { GIT_TERMINAL_PROMPT: process.stdin.isTTY ? '1' : '0', ...opts.env },
    stdin: opts.input === undefined ? (process.stdin.isTTY ? 'inherit' : 'ignore') : undefined,
  });
}
