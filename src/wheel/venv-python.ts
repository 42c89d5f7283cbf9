/**
 * One interpreter start per install batch: the venv's python first reports its install scheme
 * (so files land where pip would put them), then stays up to byte-compile what we unpacked
 * (pip compiles every installed .py with compileall.compile_file in the venv's interpreter).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { PyctlError } from '../errors.js';

export interface VenvScheme {
  purelib: string;
  platlib: string;
  scripts: string;
  data: string;
  /** pip's header base inside a venv: <prefix>/include/site/pythonX.Y (+ /<dist name>). */
  include: string;
  /** sys.executable: what pip puts in shebangs. */
  executable: string;
  /** "3.11": pip names its versioned scripts after it. */
  pyXY: string;
  cacheTag: string;
  /** importlib.util.MAGIC_NUMBER as hex. */
  magic: string;
}

// Compatible with old Pythons (no f-strings). stdout is captured around compile_file because
// compileall prints syntax errors there, as pip does (pip hides them in a debug log).
const SCRIPT = String.raw`
import sys, os, json, sysconfig, importlib.util
try:
    scheme = sysconfig.get_preferred_scheme('prefix')
except AttributeError:
    scheme = 'posix_prefix'
p = sysconfig.get_paths(scheme=scheme)
sys.stdout.write(json.dumps(dict(purelib=p['purelib'], platlib=p['platlib'], scripts=p['scripts'],
    data=p['data'], include=os.path.join(sys.prefix, 'include', 'site', 'python%d.%d' % sys.version_info[:2]),
    executable=sys.executable, pyXY='%d.%d' % sys.version_info[:2], cacheTag=sys.implementation.cache_tag,
    magic=importlib.util.MAGIC_NUMBER.hex())) + '\n')
sys.stdout.flush()
paths = json.loads(sys.stdin.read() or '[]')
def one(path):
    import compileall, io, contextlib, warnings
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.filterwarnings('ignore')
        ok = compileall.compile_file(path, force=True, quiet=True)
    return importlib.util.cache_from_source(path) if ok else None
workers = min(os.cpu_count() or 1, 4)
out = None
if len(paths) >= 150 and workers > 1:
    # Big batches (pip itself: ~500 files) are CPU bound; fork workers share the startup cost.
    # No POSIX semaphores (no /dev/shm in some containers and chroots): compile in this process.
    try:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context('fork')) as ex:
            out = list(ex.map(one, paths, chunksize=32))
    except (OSError, ImportError):
        out = None
if out is None:
    out = [one(x) for x in paths]
sys.stdout.write(json.dumps(out) + '\n')
`;

export class VenvPython {
  private proc: ChildProcess;
  private out = '';
  private err = '';
  private lines: string[] = [];
  private waiters: ((l: string | Error) => void)[] = [];
  private exited: Error | null = null;

  constructor(
    readonly python: string,
    cwd: string,
  ) {
    // cwd: -c puts the cwd first on sys.path; the venv root holds no modules to shadow compileall.
    this.proc = spawn(python, ['-c', SCRIPT], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      this.out += d;
      let i;
      while ((i = this.out.indexOf('\n')) >= 0) {
        this.push(this.out.slice(0, i));
        this.out = this.out.slice(i + 1);
      }
    });
    this.proc.stderr!.setEncoding('utf8').on('data', (d: string) => (this.err += d));
    this.proc.stdin!.on('error', () => {}); // reported through 'close' instead
    const fail = (why: string) => {
      this.exited = new PyctlError(
        'VENV_BROKEN',
        `${python} failed: ${why}${this.err ? `\n${this.err.trim()}` : ''}`,
        'Check that the venv works: run its bin/python; recreate it if its base Python is gone.',
      );
      for (const w of this.waiters.splice(0)) w(this.exited);
    };
    this.proc.on('error', (e) => fail(e.message));
    this.proc.on('close', (code) => fail(`exit status ${code}`));
  }

  private push(line: string) {
    const w = this.waiters.shift();
    if (w) w(line);
    else this.lines.push(line);
  }

  private nextLine(): Promise<string> {
    const l = this.lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((res, rej) => this.waiters.push((x) => (typeof x === 'string' ? res(x) : rej(x))));
  }

  private schemeP?: Promise<VenvScheme>;
  scheme(): Promise<VenvScheme> {
    return (this.schemeP ??= this.nextLine().then((l) => JSON.parse(l) as VenvScheme));
  }

  /** Byte-compile the files; returns the .pyc path of each, or null where compile failed. */
  async compile(paths: string[]): Promise<(string | null)[]> {
    await this.scheme();
    this.proc.stdin!.end(JSON.stringify(paths));
    return JSON.parse(await this.nextLine()) as (string | null)[];
  }

  /** End the process without compiling (error paths). */
  kill(): void {
    if (this.proc.exitCode === null) this.proc.kill();
  }
}
