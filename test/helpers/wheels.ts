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
}

const te = new TextEncoder();
const b64 = (buf: Buffer) => buf.toString('base64url');

export function wheelFileName(name: string, version: string): string {
  return `${name.replace(/[-_.]+/g, '_')}-${version}-py3-none-any.whl`;
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
  const metadata = [
    'Metadata-Version: 2.1',
    `Name: ${spec.name}`,
    `Version: ${spec.version}`,
    ...(spec.metadata ?? []),
    ...(spec.requires ?? []).map((r) => `Requires-Dist: ${r}`),
    '',
  ].join('\n');
  const all: Record<string, string> = {
    ...files,
    [`${dist}/METADATA`]: metadata,
    [`${dist}/WHEEL`]: 'Wheel-Version: 1.0\nGenerator: pyctl-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n',
  };
  if (spec.scripts) {
    all[`${dist}/entry_points.txt`] =
      '[console_scripts]\n' + Object.entries(spec.scripts).map(([k, v]) => `${k} = ${v}`).join('\n') + '\n';
  }
  const record = Object.entries(all).map(([p, c]) => {
    const buf = Buffer.from(c);
    return `${p},sha256=${b64(createHash('sha256').update(buf).digest())},${buf.length}`;
  });
  record.push(`${dist}/RECORD,,`);
  all[`${dist}/RECORD`] = record.join('\n') + '\n';
  const zip = zipSync(Object.fromEntries(Object.entries(all).map(([p, c]) => [p, te.encode(c)])));
  const out = join(dir, wheelFileName(spec.name, spec.version));
  writeFileSync(out, zip);
  return out;
}

/** Build many wheels into one find-links folder. */
export function buildWheels(dir: string, specs: WheelSpec[]): string {
  for (const s of specs) buildWheel(dir, s);
  return dir;
}
