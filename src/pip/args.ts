/** Pure: what a pip command line says about the run, as far as pyctl's summary cares. */
import { canonicalName } from '../packaging/names.js';

/** pip's -q/--quiet (given once or more, alone or in a cluster like -Uq), or PIP_QUIET. */
export function pipQuiet(args: string[], env: NodeJS.ProcessEnv = process.env): boolean {
  for (const a of args) {
    if (a === '--') break;
    // A cluster of flags: pip's upper-case ones (-U, -I) and uninstall's -y; a lower-case letter
    // that takes a value (-r, -c, -e ...) makes the rest of the word its value, not -q.
    if (a === '--quiet' || /^-[A-Zy]*q[A-Zqy]*$/.test(a)) return true;
  }
  const q = env.PIP_QUIET?.trim().toLowerCase();
  return !!q && q !== '0' && q !== 'false' && q !== 'no' && q !== 'off';
}

/**
 * The package names a pip command line gives (`torch`, `black[d]>=24` -> `black`), canonical.
 * Option values (`-r file.txt`) may slip in as names; they match no package, so no harm.
 */
export function namedPackages(args: string[]): Set<string> {
  return new Set(namedRequirements(args).keys());
}

/** The named packages with the extras the command asked for (`black[d,jupyter]` -> black: d, jupyter). */
export function namedRequirements(args: string[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const sub = args.findIndex((a) => !a.startsWith('-'));
  for (const a of args.slice(sub + 1)) {
    if (a.startsWith('-') || a.includes('/') || a.includes('\\')) continue;
    const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?/.exec(a);
    if (!m) continue;
    const key = canonicalName(m[1]);
    const extras = out.get(key) ?? new Set<string>();
    for (const e of (m[2] ?? '').split(',')) if (e.trim()) extras.add(canonicalName(e.trim()));
    out.set(key, extras);
  }
  return out;
}

/** A recorded subject (`pip install 'black[d]' -U`, quoted as record.ts writes it) back to its words. */
export function subjectWords(subject: string): string[] {
  const out: string[] = [];
  const re = /'((?:[^']|'\\'')*)'|(\S+)/g;
  for (let m; (m = re.exec(subject));) out.push(m[1] !== undefined ? m[1].replace(/'\\''/g, "'") : m[2]);
  return out;
}
