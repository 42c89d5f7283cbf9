/**
 * Console/GUI script wrappers byte for byte as pip 23.2 writes them (distlib's ScriptMaker with
 * pip's settings), and the `#!python` rewrite pip applies to a wheel's .data/scripts files.
 */
import { PyctlError } from '../errors.js';

export interface EntryPoints {
  console: Map<string, string>;
  gui: Map<string, string>;
}

/** entry_points.txt as importlib.metadata reads it: [sections], `name = value`, # and ; comments. */
export function parseEntryPoints(text: string): EntryPoints {
  const res: EntryPoints = { console: new Map(), gui: new Map() };
  let section: string | null = null;
  for (const raw of text.split(/\r\n|\r|\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const sec = /^\[(.*)\]$/.exec(line);
    if (sec) {
      section = sec[1].trim();
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const name = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (section === 'console_scripts') res.console.set(name, value);
    else if (section === 'gui_scripts') res.gui.set(name, value);
  }
  return res;
}

/**
 * pip's special case: the wheel's pip entry point becomes pip, pipX, pipX.Y for the venv's
 * Python (other pipN entries dropped); easy_install likewise. Returns [script name, value] pairs.
 */
export function consoleScriptSpecs(console: Map<string, string>, pyXY: string): [string, string][] {
  const c = new Map(console);
  const out: [string, string][] = [];
  const pip = c.get('pip');
  if (pip !== undefined) {
    c.delete('pip');
    out.push(['pip', pip], [`pip${pyXY.split('.')[0]}`, pip], [`pip${pyXY}`, pip]);
    for (const k of [...c.keys()]) if (/^pip(\d+(\.\d+)?)?$/.test(k)) c.delete(k);
  }
  const ei = c.get('easy_install');
  if (ei !== undefined) {
    c.delete('easy_install');
    out.push(['easy_install', ei], [`easy_install-${pyXY}`, ei]);
    for (const k of [...c.keys()]) if (/^easy_install(-\d+\.\d+)?$/.test(k)) c.delete(k);
  }
  for (const [k, v] of c) out.push([k, v]);
  return out;
}

// distlib's ENTRY_RE, with Python's Unicode \w.
const W = String.raw`[\p{L}\p{N}_]`;
const ENTRY_RE = new RegExp(String.raw`(?<name>(?:${W}|[-.+])+)\s*=\s*(?<callable>${W}+(?:[:.]${W}+)*)\s*(?:\[\s*(?<flags>[\w-]+(?:=\w+)?(?:,\s*\w+(?:=\w+)?)*)\s*\])?`, 'u');

/** The script file name and its full bytes for one `name = module:attr` entry point. */
export function makeScript(name: string, value: string, executable: string): { file: string; text: Buffer } {
  const spec = `${name} = ${value}`;
  const m = ENTRY_RE.exec(spec);
  const callable = m?.groups?.callable;
  const colons = callable ? callable.split(':').length - 1 : 0;
  if (!m || !callable || colons !== 1 || (!m.groups!.flags && /[[\]]/.test(spec))) {
    throw new PyctlError(
      'PIP_FAILED',
      `Invalid script entry point: ${spec} - a callable suffix is required`,
      'The wheel declares a console script pip would refuse; fix the package or install it with pip.',
    );
  }
  const [module, suffix] = callable.split(':');
  const body =
    '# -*- coding: utf-8 -*-\n' +
    'import re\n' +
    'import sys\n' +
    `from ${module} import ${suffix.split('.')[0]}\n` +
    "if __name__ == '__main__':\n" +
    "    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n" +
    `    sys.exit(${suffix}())\n`;
  return { file: m.groups!.name, text: Buffer.concat([shebang(executable), Buffer.from(body)]) };
}

/** distlib: quote a path with spaces; spaces or > 127 bytes use the /bin/sh exec trick. */
export function shebang(executable: string): Buffer {
  const exe = executable.includes(' ') && !executable.startsWith('"') ? `"${executable}"` : executable;
  const b = Buffer.from(exe);
  if (!b.includes(' ') && b.length + 3 <= 127) return Buffer.concat([Buffer.from('#!'), b, Buffer.from('\n')]);
  return Buffer.concat([Buffer.from("#!/bin/sh\n'''exec' "), b, Buffer.from(` "$0" "$@"\n' '''\n`)]);
}

/** pip's fix_script: a first line starting `#!python` becomes `#!<sys.executable>`, unquoted. */
export function fixScript(data: Uint8Array, executable: string): Uint8Array | null {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (!buf.subarray(0, 8).equals(Buffer.from('#!python'))) return null;
  const nl = buf.indexOf(10);
  const rest = nl < 0 ? Buffer.alloc(0) : buf.subarray(nl + 1);
  return Buffer.concat([Buffer.from(`#!${executable}\n`), rest]);
}
