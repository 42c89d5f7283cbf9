/**
 * Run a program and collect what it prints, as execa does for the test helpers (stdin an open
 * pipe, one final newline stripped from stdout and stderr, exit code -1 when a signal ended it or
 * it could not start), on node's own spawn: execa's machinery costs the worker ~6 ms of CPU a run
 * more (~12 ms against ~7 measured in a vitest worker), over ~3,000 runs a suite. Started by the
 * worker's spawner (helpers/spawner.ts: node forks the whole worker for every start) unless
 * PYCTL_TEST_SPAWNER=0.
 */
import { spawn, spawnSync } from 'node:child_process';
import { spawnerCan, spawnerEnabled, spawnerRun, spawnerRunSync, type Started } from './spawner.js';

export interface Run {
  exitCode: number;
  stdout: string;
  stderr: string;
}

const stripFinalNewline = (s: string) => (s.endsWith('\r\n') ? s.slice(0, -2) : s.endsWith('\n') ? s.slice(0, -1) : s);

export interface RunOptions {
  cwd?: string;
}

/** Never rejects: a failure to start is exit code -1 with the reason on stderr. `pid`: the process's. */
export async function run(file: string, args: string[], env: Record<string, string>, opts: RunOptions = {}): Promise<Run & { pid?: number }> {
  if (spawnerEnabled() && spawnerCan(file, args, env, opts.cwd)) {
    return fromSpawner(await spawnerRun(file, args, env, opts.cwd));
  }
  return nodeRun(file, args, env, opts);
}

/** run() on node's own spawn. */
export function nodeRun(file: string, args: string[], env: Record<string, string>, opts: RunOptions = {}): Promise<Run & { pid?: number }> {
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let done = false;
    const finish = (exitCode: number, why = '') => {
      if (done) return;
      done = true;
      const stderr = stripFinalNewline(Buffer.concat(err).toString('utf8'));
      resolve({ exitCode, stdout: stripFinalNewline(Buffer.concat(out).toString('utf8')), stderr: why && !stderr ? why : stderr, pid: child.pid });
    };
    const child = spawn(file, args, { env, cwd: opts.cwd });
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => {}); // it ended without reading: nothing was written to it
    child.on('error', (e) => finish(-1, e.message));
    // 'close': it exited and its stdout and stderr are read to the end.
    child.on('close', (code) => finish(code ?? -1));
  });
}

/** The same, throwing (with the command and what it printed on stderr) unless it exits 0. */
export async function runOk(file: string, args: string[], env: Record<string, string>, opts: RunOptions = {}): Promise<Run> {
  return ok(await run(file, args, env, opts), file, args);
}

function ok(r: Run, file: string, args: string[]): Run {
  if (r.exitCode !== 0) throw new Error(`Command failed with exit code ${r.exitCode}: ${[file, ...args].join(' ')}\n\n${r.stderr}`);
  return r;
}

/** What the spawner answered, as run() gives it: text, one final newline stripped. */
function fromSpawner(r: Started): Run & { pid?: number } {
  return { exitCode: r.exitCode, stdout: stripFinalNewline(r.stdout.toString('utf8')), stderr: stripFinalNewline(r.stderr.toString('utf8')), pid: r.pid };
}

/**
 * run() for synchronous callers (the worker blocks until it has exited, as with spawnSync), by
 * default in the worker's own environment.
 */
export function runSync(file: string, args: string[], env: Record<string, string> = processEnv(), opts: RunOptions = {}): Run & { pid?: number } {
  const r = spawnerEnabled() && spawnerCan(file, args, env, opts.cwd) ? spawnerRunSync(file, args, env, opts.cwd) : undefined;
  if (r) return fromSpawner(r);
  const n = spawnSync(file, args, { env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  const stderr = stripFinalNewline(n.stderr?.toString('utf8') ?? '');
  return { exitCode: n.status ?? -1, stdout: stripFinalNewline(n.stdout?.toString('utf8') ?? ''), stderr: n.error && !stderr ? n.error.message : stderr, pid: n.pid || undefined };
}

/** The same, throwing (with the command and what it printed on stderr) unless it exits 0. */
export function runSyncOk(file: string, args: string[], env: Record<string, string> = processEnv(), opts: RunOptions = {}): Run {
  return ok(runSync(file, args, env, opts), file, args);
}

/** The worker's own environment, without unset entries. */
export function processEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  return env;
}
