/** Run the user's test command in a scratch venv: first on PATH, VIRTUAL_ENV set, in the current directory. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export interface TestExit {
  code: number | null;
  signal: string | null;
  /** Set when the command could not be started at all (not found, not executable). */
  error?: string;
}

export function scratchEnv(scratch: string, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env, VIRTUAL_ENV: scratch, PATH: `${join(scratch, 'bin')}:${env.PATH ?? '/usr/bin:/bin'}` };
  // A PYTHONHOME would point Python away from the venv; the scratch venv is never recorded.
  delete out.PYTHONHOME;
  delete out.VIRTUAL_ENV_PROMPT;
  out.PYCTL_NO_RECORD = '1';
  return out;
}

/** Output goes to stderr (stdout carries pyctl's result); `onChild` lets Ctrl-C/SIGTERM handlers reach it. */
export function runTest(cmd: string[], scratch: string, onChild?: (c: ChildProcess | null) => void): Promise<TestExit> {
  return new Promise((resolve) => {
    const child = spawn(cmd[0], cmd.slice(1), { stdio: ['inherit', 2, 2], env: scratchEnv(scratch) });
    onChild?.(child);
    child.once('error', (e: NodeJS.ErrnoException) => {
      onChild?.(null);
      resolve({ code: null, signal: null, error: e.code === 'ENOENT' ? `${cmd[0]}: command not found` : e.message });
    });
    child.once('exit', (code, signal) => {
      onChild?.(null);
      resolve({ code, signal });
    });
  });
}
