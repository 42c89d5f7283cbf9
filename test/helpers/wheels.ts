/**
 * Builds tiny but real wheels for tests (no index is reachable here).
 * A wheel is a zip of the package files plus <name>-<ver>.dist-info/{METADATA,WHEEL,RECORD}.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync } from 'fflate';

export interface WheelSpec {
  name: string;
  version: string;
  requires?: string[];
  /** Extra files: path inside the wheel -> content. Defaults to one module named after the package. */
  files?: Record<string, string>;
  /** console_scripts: script name -> "module:function". */
  scripts?: Record<string, string>;
  /** Extra METADATA header lines, e.g. "Provides-Extra: fast". */
  metadata?: string[];
  /** gui_scripts: script name -> "module:function". */
  guiScripts?: Record<string, string>;
  /** Files under <name>-<ver>.data/: "scripts/tool", "data/share/x.txt", "headers/x.h", "purelib/m.py". */
  data?: Record<string, string>;
  /** Paths inside the wheel stored with the executable bit (0o755). */
  executable?: string[];
  /** Corrupt the RECORD hash of this path (to test refusal). */
  badHashFor?: string;
  /** PEP 425 tag triple for the file name and WHEEL (default py3-none-any); a non-pure one makes Root-Is-Purelib false. */
  tag?: string;
}

const te = new TextEncoder();
const b64 = (buf: Buffer) => buf.toString('base64url');

export function wheelFileName(name: string, version: string, tag = 'py3-none-any'): string {
  return `${name.replace(/[-_.]+/g, '_')}-${version}-${tag}.whl`;
}

/** A CPython binary wheel's tag for this machine, e.g. cp311-cp311-linux_x86_64 for ('3.11'). */
export function binaryTag(pyXY: string): string {
  const v = pyXY.replace('.', '');
  return `cp${v}-cp${v}-linux_${process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : process.arch}`;
}

/** The extension module suffix of CPython X.Y on this machine (linux, glibc). */
export function extSuffix(pyXY: string): string {
  const arch = process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : process.arch;
  return `.cpython-${pyXY.replace('.', '')}-${arch}-linux-gnu.so`;
}

export function moduleName(name: string): string {
  return name.replace(/[-.]+/g, '_').toLowerCase();
}

export function buildWheel(dir: string, spec: WheelSpec): string {
  mkdirSync(dir, { recursive: true });
  const dist = `${spec.name.replace(/[-_.]+/g, '_')}-${spec.version}.dist-info`;
  const mod = moduleName(spec.name);
  const files: Record<string, string> = spec.files ?? {
    [`${mod}.py`]: `__version__ = ${JSON.stringify(spec.version)}\ndef main():\n    print(${JSON.stringify(`${spec.name} ${spec.version}`)})\n`,
  };
  const metadata = ['Metadata-Version: 2.1', `Name: ${spec.name}`, `Version: ${spec.version}`, ...(spec.metadata ?? []), ...(spec.requires ?? []).map((r) => `Requires-Dist: ${r}`), ''].join('\n');
  const all: Record<string, string> = {
    ...files,
    [`${dist}/METADATA`]: metadata,
    [`${dist}/WHEEL`]: `Wheel-Version: 1.0\nGenerator: pyctl-tests\nRoot-Is-Purelib: ${spec.tag && !spec.tag.endsWith('-none-any') ? 'false' : 'true'}\nTag: ${spec.tag ?? 'py3-none-any'}\n`,
  };
  const eps: string[] = [];
  if (spec.scripts) eps.push('[console_scripts]', ...Object.entries(spec.scripts).map(([k, v]) => `${k} = ${v}`));
  if (spec.guiScripts) eps.push('[gui_scripts]', ...Object.entries(spec.guiScripts).map(([k, v]) => `${k} = ${v}`));
  if (eps.length) all[`${dist}/entry_points.txt`] = eps.join('\n') + '\n';
  const dataDir = dist.replace(/\.dist-info$/, '.data');
  for (const [p, c] of Object.entries(spec.data ?? {})) all[`${dataDir}/${p}`] = c;
  const record = Object.entries(all).map(([p, c]) => {
    const buf = Buffer.from(p === spec.badHashFor ? c + 'x' : c);
    return `${p},sha256=${b64(createHash('sha256').update(buf).digest())},${buf.length}`;
  });
  record.push(`${dist}/RECORD,,`);
  all[`${dist}/RECORD`] = record.join('\n') + '\n';
  const exec = new Set(spec.executable ?? []);
  const zip = zipSync(Object.fromEntries(Object.entries(all).map(([p, c]) => [p, [te.encode(c), { os: 3, attrs: ((exec.has(p) ? 0o100755 : 0o100644) << 16) >>> 0 }]])));
  const out = join(dir, wheelFileName(spec.name, spec.version, spec.tag));
  writeFileSync(out, zip);
  return out;
}

/** Build many wheels into one find-links folder. */
export function buildWheels(dir: string, specs: WheelSpec[]): string {
  for (const s of specs) buildWheel(dir, s);
  return dir;
}
