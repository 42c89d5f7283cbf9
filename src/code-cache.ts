/**
 * Runs dist/cli.cjs (everything but the two lanes: 750 KB), dist/record.cjs (the pip hook's record
 * lane, 200 KB) and dist/status.cjs (status's, 40 KB) with V8's code cache, kept per user in
 * ~/.cache/pyctl/v8. Without it every command compiled that module again (~25 ms of CPU to parse
 * it, plus the functions the command then runs); with it V8 deserializes the bytecode. Node 18
 * and 20 have no code cache for ES modules, so each is built as a CommonJS function body
 * (src/build.mjs) and compiled here through vm.Script with `cachedData`. The vendor bundles it
 * imports (dist/vendor/*.cjs: isomorphic-git, execa; 800 KB) are loaded the same way, each with
 * its own cache file: as ES modules they cost a push, a fetch or a command that runs pip ~30-50 ms
 * of compiling at every run.
 *
 * The cache file: a JSON header line ({v, cmds, sum}) and V8's data. It is written at exit by a
 * run that found none, had it rejected (another Node, other V8 flags), or ran a command no
 * earlier writer ran: V8 serializes every function compiled so far, so each command's first run
 * adds its own (`cmds`, at most 64 names). Kept only when the file is the user's own and nobody
 * else can write it (V8 would run what it holds); `sum` catches a damaged file (V8 does not).
 */
import { closeSync, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Script as ScriptT } from 'node:vm';
import { userCache } from './paths.js';
import { replaceViaTemp } from './fs/durable.js';

// Loaded when the CLI runs, not at the entry: the status lane needs neither (node:crypto ~5 ms).
const load = createRequire(import.meta.url);
const createHash = (alg: string) => (load('node:crypto') as typeof import('node:crypto')).createHash(alg);

interface Header {
  v: 1;
  /** The commands whose runs wrote it (their functions are in it). */
  cmds: string[];
  /** sha1 of the V8 data. */
  sum: string;
}

const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');

function cacheDir(env: NodeJS.ProcessEnv): string {
  return join(userCache(env), 'v8');
}

/** This user's own file, writable by nobody else, read whole; else null. */
function readOwn(path: string): Buffer | null {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const st = fstatSync(fd);
    if (!st.isFile() || (process.geteuid && st.uid !== process.geteuid()) || st.mode & 0o022) return null;
    return readFileSync(fd);
  } catch {
    return null;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function readCache(path: string): { header: Header; data: Buffer } | null {
  const raw = readOwn(path);
  const nl = raw ? raw.indexOf(10) : -1;
  if (!raw || nl < 0) return null;
  try {
    const header = JSON.parse(raw.subarray(0, nl).toString('utf8')) as Header;
    const data = raw.subarray(nl + 1);
    return header.v === 1 && Array.isArray(header.cmds) && header.sum === sha1(data) ? { header, data } : null;
  } catch {
    return null;
  }
}

function writeCache(path: string, cmds: string[], data: Buffer): void {
  try {
    const dir = dirname(path);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Not into a folder someone else owns (root run with a user's HOME: sudo).
    if (process.geteuid && lstatSync(dir).uid !== process.geteuid()) return;
    const header: Header = { v: 1, cmds, sum: sha1(data) };
    replaceViaTemp(path, (tmp) => writeFileSync(tmp, Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), data]), { mode: 0o600 }));
  } catch {
    // only a cache
  }
}

/** The command's name as typed (the first word that looks like one), for `cmds`. */
function commandOf(args: string[]): string {
  return args.find((a) => /^[a-z_][a-z-]*$/.test(a)) ?? '';
}

/**
 * Compile `source` (a CommonJS module body of `file`, wrapped in a function taking `params`) with
 * its code cache, named `name` and keyed by `id` (its build), and schedule the cache's update.
 */
function compileCached(file: string, source: Buffer, name: string, id: string, params: string, env: NodeJS.ProcessEnv, cmd: string): ScriptT {
  // Another build, Node, V8 flags or file: another cache (V8 itself checks little more than the source's length).
  const key = createHash('sha1')
    .update([id, source.length, process.version, process.arch, process.execArgv.join(' '), env.NODE_OPTIONS ?? ''].join('\0'))
    .digest('hex')
    .slice(0, 24);
  const path = join(cacheDir(env), `${name}-${key}.bin`);
  const cached = readCache(path);
  const { Script } = load('node:vm') as { Script: typeof ScriptT };
  const script = new Script(`(function (${params}) {${source.toString('utf8')}\n})`, { filename: file, cachedData: cached?.data });
  const cmds = cached && !script.cachedDataRejected ? cached.header.cmds : [];
  if (!cmds.includes(cmd) && cmds.length < 64) process.once('exit', () => writeCache(path, [...cmds, cmd], script.createCachedData()));
  return script;
}

/** A vendor bundle (dist/vendor/NAME.cjs), loaded once, with its own code cache; its exports. */
const vendorLoaded = new Map<string, unknown>();
function loadVendor(file: string, env: NodeJS.ProcessEnv, cmd: string): unknown {
  if (vendorLoaded.has(file)) return vendorLoaded.get(file);
  const source = readFileSync(file);
  // Its build: the bundle's own bytes (a sha1 of 560 KB is ~1 ms, far less than compiling it).
  const id = createHash('sha1').update(source).digest('hex');
  const name = `vendor-${basename(file, '.cjs')}`;
  const script = compileCached(file, source, name, id, 'exports, require, module, __filename, __dirname', env, cmd);
  const module = { exports: {} as unknown };
  (script.runInThisContext() as (...a: unknown[]) => void)(module.exports, createRequire(file), module, file, dirname(file));
  vendorLoaded.set(file, module.exports);
  return module.exports;
}

/**
 * Compile and run the CommonJS body `file` (dist/NAME.cjs, built with id `id`) with its code cache
 * for this process's argv (`cmd`: the command whose functions a first run adds to the cache); its
 * exports.
 */
export function runModule(file: string, name: string, id: string, cmd = commandOf(process.argv.slice(2)), env: NodeJS.ProcessEnv = process.env): unknown {
  const source = readFileSync(file);
  const url = pathToFileURL(file).href;
  const script = compileCached(file, source, name, id, 'exports, require, module, __filename, __dirname, __pyctlUrl, __pyctlImport', env, cmd);
  const module = { exports: {} as unknown };
  // The module's import() of Node's modules and dist/vendor (relative to it): the build rewrites
  // them to call this (Node 20 drops vm.Script's importModuleDynamically for cached code). A
  // vendor bundle is CommonJS, compiled with its code cache; its exports stand for the namespace.
  const dynamicImport = (spec: string) => {
    if (!spec.startsWith('.')) return import(spec);
    const target = new URL(spec, url);
    return target.pathname.endsWith('.cjs') ? Promise.resolve().then(() => loadVendor(fileURLToPath(target), env, cmd)) : import(target.href);
  };
  (script.runInThisContext() as (...a: unknown[]) => void)(module.exports, createRequire(file), module, file, dirname(file), url, dynamicImport);
  return module.exports;
}
