/** Small file helpers that reproduce the modes and write patterns pip uses. */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

let cachedUmask: number | undefined;
/** The process umask (read once; pip reads it the same way per install). */
export function umask(): number {
  return (cachedUmask ??= process.umask());
}

const made = new Set<string>();
const fresh = new Set<string>();
/**
 * mkdir -p, once per folder. True when this process created the folder (since the last
 * forgetDirs), so it holds only what was put there since: nothing needs unlinking first.
 */
export function ensureDir(dir: string): boolean {
  if (!made.has(dir)) {
    const first = mkdirSync(dir, { recursive: true });
    made.add(dir);
    // mkdirSync names the top folder it created: that one and everything below it down to dir are new.
    if (first !== undefined) for (let d = dir; d.length >= first.length; d = dirname(d)) fresh.add(d);
  }
  return fresh.has(dir);
}
/** Forget created dirs (uninstall may remove them). */
export function forgetDirs(): void {
  made.clear();
  fresh.clear();
}

/** Python's json.dumps(obj, sort_keys=True): ", "/": " separators, non-ASCII escaped. */
export function pyJson(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v).replace(/[\u0080-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  if (typeof v === 'number' || typeof v === 'boolean') return JSON.stringify(v);
  if (Array.isArray(v)) return '[' + v.map(pyJson).join(', ') + ']';
  const o = v as Record<string, unknown>;
  return (
    '{' +
    Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${pyJson(k)}: ${pyJson(o[k])}`)
      .join(', ') +
    '}'
  );
}
