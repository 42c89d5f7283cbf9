/** Shared helpers of the benchmark: a hermetic environment, tiny wheels, timed processes. */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync, statSync, readdirSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync } from 'fflate';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const CLI = join(ROOT, 'dist', 'pyctl.js');

/** No machine pip config, no inherited PIP_* or PYCTL_*, caches in the bench's temp dir. */
export function hermeticEnv(tmp, extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k.startsWith('PIP_') || k.startsWith('PYCTL_') || k === 'VIRTUAL_ENV') continue;
    env[k] = v;
  }
  Object.assign(env, {
    PIP_CONFIG_FILE: '/dev/null',
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
    PIP_NO_INPUT: '1',
    PIP_NO_INDEX: '1',
    XDG_CACHE_HOME: join(tmp, 'xdg-cache'),
    HOME: join(tmp, 'user-home'),
    NO_COLOR: '1',
    GIT_CONFIG_NOSYSTEM: '1',
  });
  mkdirSync(env.HOME, { recursive: true });
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

const b64 = (buf) => buf.toString('base64url');
export const wheelFileName = (name, version) => `${name.replace(/[-_.]+/g, '_')}-${version}-py3-none-any.whl`;

/** A small but real wheel: one module of ~1 KB, METADATA, WHEEL, RECORD. */
export function buildWheel(dir, { name, version, requires = [] }) {
  mkdirSync(dir, { recursive: true });
  const dist = `${name.replace(/[-_.]+/g, '_')}-${version}.dist-info`;
  const mod = name.replace(/[-.]+/g, '_').toLowerCase();
  const body = `"""${name} ${version}: a benchmark package."""\n__version__ = ${JSON.stringify(version)}\n\n` + Array.from({ length: 20 }, (_, i) => `def f${i}(x):\n    return x + ${i}\n`).join('\n');
  const files = {
    [`${mod}/__init__.py`]: body,
    [`${dist}/METADATA`]: ['Metadata-Version: 2.1', `Name: ${name}`, `Version: ${version}`, 'Summary: benchmark package', ...requires.map((r) => `Requires-Dist: ${r}`), '', ''].join('\n'),
    [`${dist}/WHEEL`]: 'Wheel-Version: 1.0\nGenerator: pyctl-bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n',
  };
  const record = Object.entries(files).map(([p, c]) => {
    const buf = Buffer.from(c);
    return `${p},sha256=${b64(createHash('sha256').update(buf).digest())},${buf.length}`;
  });
  record.push(`${dist}/RECORD,,`);
  files[`${dist}/RECORD`] = record.join('\n') + '\n';
  const te = new TextEncoder();
  const zip = zipSync(Object.fromEntries(Object.entries(files).map(([p, c]) => [p, [te.encode(c), { os: 3, attrs: (0o100644 << 16) >>> 0 }]])));
  const out = join(dir, wheelFileName(name, version));
  writeFileSync(out, zip);
  return out;
}

/** Run a command; throw with its output when it fails (unless ok is given). */
export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20, ...opts });
  if (r.error) throw r.error;
  if (r.status !== 0 && !opts.ok) {
    throw new Error(`${cmd} ${args.join(' ').slice(0, 300)} exited ${r.status}\n${(r.stderr || '').slice(-3000)}\n${(r.stdout || '').slice(-1000)}`);
  }
  return r;
}

/** Wall-clock milliseconds of one run. */
export function timed(cmd, args, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = run(cmd, args, opts);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { ms, r };
}

export function sitePackages(venv) {
  const lib = join(venv, 'lib');
  const py = readdirSync(lib).find((d) => /^python3\.\d+$/.test(d));
  return join(lib, py, 'site-packages');
}

/** What the pip hook compares: site-packages' mtime in ns. */
export function siteMtimeNs(venv) {
  return statSync(sitePackages(venv), { bigint: true }).mtimeNs;
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

export function dirSize(dir) {
  let bytes = 0;
  let files = 0;
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        // Size on disk (blocks), as du reports it.
        bytes += Number(statSync(p).blocks) * 512;
        files++;
      }
    }
  };
  walk(dir);
  return { bytes, files };
}
