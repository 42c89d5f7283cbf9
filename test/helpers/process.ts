/**
 * A real process stopped at a known moment: started in its own process group, handed back once a
 * marker shows on its stderr (a test pause point, a line of the test command), so a test can
 * signal or kill it there instead of hoping a race happens.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { hermeticEnv } from './env.js';

export interface Started {
  child: ChildProcess;
  /** Everything it wrote on stderr so far (it keeps collecting after the marker). */
  stderr: () => string;
  /** Everything it wrote on stdout so far. */
  stdout: () => string;
  /** Its exit code (null when a signal ended it). */
  exit: Promise<number | null>;
}

export interface StartOptions {
  /** Added to a hermetic environment (helpers/env.ts). */
  env?: Record<string, string | undefined>;
  /** How long the marker may take; a generous bound, for a machine busy with other work. */
  timeoutMs?: number;
}

/** Start cmd in its own process group; resolve once `marker` matches its stderr. */
export function startUntil(cmd: string, args: string[], marker: RegExp, opts: StartOptions = {}): Promise<Started> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const child = spawn(cmd, args, { env: hermeticEnv(opts.env), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      killGroup(child).catch(() => {});
      reject(new Error(`no ${marker} on stderr within ${timeoutMs / 1000} s; stderr: ${err}`));
    }, timeoutMs);
    child.stderr.on('data', (d) => {
      err += d;
      if (marker.test(err)) {
        clearTimeout(timer);
        resolve({ child, stderr: () => err, stdout: () => out, exit });
      }
    });
    void exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before ${marker}; stderr: ${err}`));
    });
  });
}

/** Signal the child's whole process group (default SIGKILL) and wait until the child is gone. */
export async function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // the group is already gone
  }
  await gone;
}
