/**
 * Where a new venv's pip comes from when the Python has no ensurepip (Debian/Ubuntu without
 * python3-venv), in order: a wheel the user named (--pip-wheel), the distro's wheel folder
 * (/usr/share/python-wheels), the home's wheelhouse, and last the index pip is configured with,
 * fetched by pyctl itself and checked against the index's sha256. The first that has a pip
 * wheel this Python can run wins; none: one line saying how to get one without root.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PyctlError } from '../errors.js';
import { pipSettings } from '../net/pip-config.js';
import { downloadWheel, pythonAllowed } from '../net/simple-index.js';
import { redact } from '../net/http.js';
import { compareVersions } from '../packaging/pep440.js';
import { headerIn } from '../packaging/headers.js';
import { readEntry, readZipDirectory } from '../wheel/zip.js';
import { parseWheelName } from '../packaging/wheel-name.js';

export const DISTRO_WHEELS = '/usr/share/python-wheels';

export interface SeedOptions {
  /** A pip wheel the user passed (--pip-wheel FILE): used first, and must fit. */
  pipWheel?: string;
  /** The home's wheelhouse: searched, and where a downloaded pip is kept. */
  wheelhouse?: string;
  /** The distro's wheel folder (default $PYCTL_DISTRO_WHEELS or /usr/share/python-wheels). */
  distroWheels?: string;
  env?: NodeJS.ProcessEnv;
}

export interface Seed {
  wheels: string[];
  /** Where pip came from, for the note init prints. */
  source: string;
}

/** Requires-Python of a wheel file from its METADATA, or undefined. */
function requiresPython(path: string): string | undefined {
  try {
    const buf = readFileSync(path);
    const entry = readZipDirectory(buf).find((e) => /^[^/]+\.dist-info\/METADATA$/.test(e.name));
    if (!entry) return undefined;
    return headerIn(Buffer.from(readEntry(buf, entry)).toString('utf8'), 'Requires-Python');
  } catch {
    return undefined;
  }
}

/** The newest wheel of `project` in `dir` that `python` can run, or undefined. */
function newestIn(dir: string, project: string, python: string): string | undefined {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined;
  }
  const cands = names
    .map((f) => ({ f, w: parseWheelName(f) }))
    .filter((x) => x.w?.key === project && /-py3(\.[^-]*)?-none-any\.whl$|-py2\.py3-none-any\.whl$/.test(x.f))
    .sort((a, b) => compareVersions(b.w!.version, a.w!.version));
  for (const { f } of cands) {
    const p = join(dir, f);
    if (pythonAllowed(requiresPython(p), python)) return p;
  }
  return undefined;
}

/** pip (and setuptools where this Python's ensurepip would add it) for a venv on `python` (X.Y.Z). */
export async function findSeed(python: string, opts: SeedOptions): Promise<Seed> {
  const env = opts.env ?? process.env;
  const [maj, min] = python.split('.').map(Number);
  const wantSetuptools = maj === 3 && min < 12; // ensurepip stopped bundling it in 3.12
  const withSetuptools = (dir: string, pip: string): string[] => {
    const st = wantSetuptools ? newestIn(dir, 'setuptools', python) : undefined;
    return st ? [pip, st] : [pip];
  };
  if (opts.pipWheel) {
    const w = parseWheelName(opts.pipWheel);
    if (w?.key !== 'pip') throw new PyctlError('USAGE', `--pip-wheel ${opts.pipWheel} is not a pip wheel (expected pip-VERSION-py3-none-any.whl)`, 'pass the path of a pip wheel file');
    try {
      readFileSync(opts.pipWheel, { flag: 'r' }).subarray(0, 0);
    } catch (e) {
      throw new PyctlError('USAGE', `cannot read --pip-wheel ${opts.pipWheel}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'pass the path of a pip wheel file');
    }
    if (!pythonAllowed(requiresPython(opts.pipWheel), python))
      throw new PyctlError('USAGE', `--pip-wheel ${opts.pipWheel} does not support Python ${python} (Requires-Python: ${requiresPython(opts.pipWheel)})`, 'pass a pip wheel made for this Python');
    return { wheels: [opts.pipWheel], source: opts.pipWheel };
  }
  const distro = opts.distroWheels ?? (env.PYCTL_DISTRO_WHEELS || DISTRO_WHEELS);
  const fromDistro = newestIn(distro, 'pip', python);
  if (fromDistro) return { wheels: withSetuptools(distro, fromDistro), source: distro };
  if (opts.wheelhouse) {
    const kept = newestIn(opts.wheelhouse, 'pip', python);
    if (kept) return { wheels: withSetuptools(opts.wheelhouse, kept), source: opts.wheelhouse };
  }
  const settings = pipSettings(env);
  if (!settings.indexes.length) {
    throw new PyctlError(
      'MISSING_WHEEL',
      `no pip to put in the venv: this Python has no ensurepip, ${distro} and the wheelhouse have no pip wheel, and pip is configured with no-index`,
      NO_SOURCE_HINT,
    );
  }
  if (!opts.wheelhouse) throw new PyctlError('INTERNAL', 'no wheelhouse to keep a downloaded pip in', NO_SOURCE_HINT);
  let got;
  try {
    got = await downloadWheel('pip', python, settings.indexes, { env, proxy: settings.proxy, cert: settings.cert });
  } catch (e) {
    if (e instanceof PyctlError && /^cannot get a pip wheel/.test(e.message)) {
      throw new PyctlError(
        'MISSING_WHEEL',
        `no pip to put in the venv: this Python has no ensurepip, ${distro} and the wheelhouse hold no pip wheel, and ${e.message.replace(/^cannot get a pip wheel from (.*?): /, 'the index $1 failed: ')}`,
        NO_SOURCE_HINT,
      );
    }
    throw e;
  }
  // Verified in memory; only now written, atomically, into the wheelhouse (later rebuilds are offline).
  mkdirSync(opts.wheelhouse, { recursive: true });
  const dest = join(opts.wheelhouse, got.filename);
  const tmp = `${dest}.part-${process.pid}`;
  try {
    writeFileSync(tmp, got.data);
    renameSync(tmp, dest);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  return { wheels: [dest], source: redact(got.index) };
}

const NO_SOURCE_HINT =
  'without root: download pip-VERSION-py3-none-any.whl on any machine (https://pypi.org/project/pip/#files) and run `pyctl init --pip-wheel FILE` (./install.sh --pip-wheel FILE); or point pip at a reachable index (PIP_INDEX_URL or index-url in ~/.config/pip/pip.conf); with root: apt install python3-venv';
