/**
 * One small long-lived process per vitest worker that starts the test's processes for it
 * (helpers/spawner.py). Node forks the whole worker (150-300 MB) for every process it starts: ~10 ms
 * of the worker's CPU a start (page tables, then copy-on-write faults), over ~3,000 starts a suite
 * run. A Python of a few MB forks for a fraction of that. Started when first asked for, it ends
 * when the worker does (its stdin closes); unref'd while no run is waiting, it never keeps a
 * worker alive. PYCTL_TEST_SPAWNER=0 in the worker's environment: node's own spawn (helpers/run.ts).
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { plainPython3 } from './plain-python.js';
import { sweepGoneWorkers } from './worker-dirs.js';

export interface Started {
  /** The process's id; undefined when it did not start. */
  pid?: number;
  /** -1 when a signal ended it or it did not start (then `stderr` says why). */
  exitCode: number;
  stdout: Buffer;
  stderr: Buffer;
}

const SCRIPT = join(__dirname, 'spawner.py');
const HEADER = 20; // '>IiiII': id, pid, exit code, stdout's length, stderr's length

interface Spawner {
  /** The FIFOs for synchronous runs: requests written to `req`, answers read from `ans`. */
  fifos: string;
  req?: number;
  ans?: number;
  stdin: Socket;
  stdout: Socket;
  waiting: Map<number, (s: Started) => void>;
  chunks: Buffer[];
  buffered: number;
  need: number;
}

let current: Spawner | undefined;
let nextId = 1;

/** Whether runs go through the spawner: unless PYCTL_TEST_SPAWNER=0, or there is no python3 to run it. */
export const spawnerEnabled = () => process.env.PYCTL_TEST_SPAWNER !== '0' && plainPython3() !== '';

/** Its own environment: PATH, and where to write how much CPU it took when asked (PYCTL_TEST_SPAWNER_STATS). */
function spawnerEnv(): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '' };
  if (process.env.PYCTL_TEST_SPAWNER_STATS) env.PYCTL_TEST_SPAWNER_STATS = process.env.PYCTL_TEST_SPAWNER_STATS;
  return env;
}

function spawner(): Spawner {
  if (current) return current;
  // Made here, named for the worker: node has no mkfifo, and the one process it takes is paid once.
  // A spawner removes its own as it ends; one killed (SIGKILL) leaves them, removed here.
  sweepGoneWorkers('pyctl-test-spawner');
  const fifos = mkdtempSync(join(tmpdir(), `pyctl-test-spawner-${process.pid}-`));
  execFileSync('mkfifo', [join(fifos, 'req'), join(fifos, 'ans')]);
  const child = spawn(plainPython3(), ['-S', '-I', SCRIPT, fifos], { env: spawnerEnv(), stdio: ['pipe', 'pipe', 'inherit'] });
  const s: Spawner = { fifos, stdin: child.stdin as Socket, stdout: child.stdout as Socket, waiting: new Map(), chunks: [], buffered: 0, need: HEADER };
  const fail = (why: string) => {
    if (current === s) current = undefined;
    rmSync(fifos, { recursive: true, force: true });
    for (const fd of [s.req, s.ans]) if (fd !== undefined) closeSync(fd);
    s.req = s.ans = undefined;
    for (const done of s.waiting.values()) done({ exitCode: -1, stdout: Buffer.alloc(0), stderr: Buffer.from(`the test spawner ended (${why})`) });
    s.waiting.clear();
  };
  child.on('error', (e) => fail(e.message));
  child.on('exit', (code, signal) => fail(String(signal ?? code)));
  s.stdin.on('error', () => {}); // a write after it ended: 'exit' tells the waiting
  s.stdout.on('data', (chunk: Buffer) => {
    s.chunks.push(chunk);
    s.buffered += chunk.length;
    // Whole answers only, joined once one is all there (an answer can be megabytes): `need` is
    // the header's size until a header is in, then the whole answer's.
    while (s.buffered >= s.need) {
      let buf = s.chunks.length === 1 ? s.chunks[0] : Buffer.concat(s.chunks);
      s.chunks = [buf];
      const size = HEADER + buf.readUInt32BE(12) + buf.readUInt32BE(16);
      if (buf.length < size) {
        s.need = size;
        break;
      }
      const outEnd = HEADER + buf.readUInt32BE(12);
      const id = buf.readUInt32BE(0);
      const pid = buf.readInt32BE(4);
      const started: Started = { pid: pid || undefined, exitCode: buf.readInt32BE(8), stdout: buf.subarray(HEADER, outEnd), stderr: buf.subarray(outEnd, size) };
      buf = buf.subarray(size);
      s.chunks = buf.length ? [buf] : [];
      s.buffered = buf.length;
      s.need = HEADER;
      const done = s.waiting.get(id);
      s.waiting.delete(id);
      done?.(started);
    }
    if (!s.waiting.size) s.stdout.unref();
  });
  child.unref();
  s.stdin.unref();
  s.stdout.unref();
  return (current = s);
}

/**
 * Start `file` with exactly `args`, `env` and `cwd`, as node's spawn would (PATH looked up in
 * `env`), and collect everything it prints. Never rejects. Strings go as UTF-8, as node's spawn
 * sends them; none may hold a NUL (node's spawn refuses those: the caller uses it for them).
 * Its stdin: a pipe nobody writes to, closed when it exits; or, with `input`, that and then its end.
 */
export function spawnerRun(file: string, args: string[], env: Record<string, string>, cwd?: string, input?: Buffer): Promise<Started> {
  const s = spawner();
  const id = nextId++;
  const frame = request(id, file, args, env, cwd, input);
  return new Promise((resolve) => {
    s.waiting.set(id, resolve);
    s.stdout.ref(); // an answer is due: the worker waits for it
    s.stdin.write(frame);
  });
}

function request(id: number, file: string, args: string[], env: Record<string, string>, cwd?: string, input?: Buffer): Buffer {
  const fields = [String(id), file, cwd === undefined ? '-' : `c${cwd}`, String(args.length), ...args];
  for (const [k, v] of Object.entries(env)) fields.push(`${k}=${v}`);
  const payload = Buffer.from(fields.join('\0'), 'utf8');
  const head = Buffer.allocUnsafe(8);
  head.writeUInt32BE(4 + payload.length + (input?.length ?? 0), 0);
  head.writeUInt32BE(input ? input.length : 0xffffffff, 4);
  return Buffer.concat(input ? [head, payload, input] : [head, payload]);
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * spawnerRun for synchronous callers: the worker blocks until the process has exited, as with
 * spawnSync. Undefined when the spawner cannot be reached (the caller uses spawnSync then).
 */
export function spawnerRunSync(file: string, args: string[], env: Record<string, string>, cwd?: string): Started | undefined {
  const s = spawner();
  if (s.req === undefined || s.ans === undefined) {
    // The spawner opens both FIFOs as it starts: until then, opening `req` without waiting fails
    // (ENXIO, no reader yet). Once it has, `ans` is open on its side too and opens at once here.
    for (let waited = 0; s.req === undefined; waited += 5) {
      try {
        s.req = openSync(join(s.fifos, 'req'), constants.O_WRONLY | constants.O_NONBLOCK);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENXIO' || waited > 30_000 || current !== s) return undefined;
        sleep(5);
      }
    }
    s.ans = openSync(join(s.fifos, 'ans'), 'r');
  }
  const frame = request(nextId++, file, args, env, cwd);
  for (let at = 0; at < frame.length;) {
    try {
      at += writeSync(s.req, frame, at);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') return undefined; // EPIPE: it ended
      sleep(1);
    }
  }
  // Blocking reads: one answer, as long as it is. An end (the spawner gone) answers -1.
  const read = (n: number): Buffer | undefined => {
    const b = Buffer.allocUnsafe(n);
    for (let at = 0; at < n;) {
      const got = readSync(s.ans!, b, at, n - at, null);
      if (!got) return undefined;
      at += got;
    }
    return b;
  };
  const head = read(HEADER);
  const body = head && read(head.readUInt32BE(12) + head.readUInt32BE(16));
  if (!head || !body) return { exitCode: -1, stdout: Buffer.alloc(0), stderr: Buffer.from('the test spawner ended') };
  const outLen = head.readUInt32BE(12);
  const pid = head.readInt32BE(4);
  return { pid: pid || undefined, exitCode: head.readInt32BE(8), stdout: body.subarray(0, outLen), stderr: body.subarray(outLen) };
}

/** Whether spawnerRun can take these strings (no NUL in any: the protocol separates fields with it). */
export const spawnerCan = (file: string, args: string[], env: Record<string, string>, cwd?: string): boolean =>
  ![file, cwd ?? '', ...args, ...Object.keys(env), ...Object.values(env)].some((x) => x.includes('\0'));
