/** Automatic snapshots (made before undo/restore/clean) live under this prefix, never a user's. */
export const AUTO_PREFIX = 'auto/';
export const isAutoSnapshot = (name: string): boolean => name.startsWith(AUTO_PREFIX);
/** The automatic snapshot of the state operation `op` left behind. */
export const autoSnapshotName = (op: number): string => `${AUTO_PREFIX}before-${op}`;

/** What a new snapshot name must not shadow: this repo's branches and remotes. */
export interface RefContext {
  branches?: string[];
  remotes?: string[];
}

/**
 * Pure: why this cannot be a snapshot name, or null. git check-ref-format's rules for a tag, plus
 * names git (or pyctl) would read as something else: HEAD and its kin, `now`, a branch, a full or
 * partial ref path (refs/…, heads/…), and REMOTE/… (pyctl's form for fetched snapshots).
 */
export function refNameProblem(name: string, known: RefContext = {}): string | null {
  const format = refFormatProblem(name);
  if (format) return format;
  if (/^[A-Z_]*HEAD$/.test(name) || name === '@') return `'${name}' is git's name for the current commit`;
  if (name === 'now') return "'now' is pyctl's name for the current state";
  if (name.startsWith('@')) return "a name starting with '@' is read as a time (@2026-12-01, '@2 days ago')";
  const branches = new Set(['main', 'master', ...(known.branches ?? [])]);
  if (branches.has(name)) return `'${name}' is a branch name, so git could not tell the two apart`;
  const top = name.split('/')[0];
  if (['refs', 'heads', 'tags', 'remotes'].includes(top) && name.includes('/')) return `it starts with '${top}/', which git reads as a ref path`;
  const remotes = new Set(['origin', ...(known.remotes ?? [])]);
  if (remotes.has(top)) {
    return name === top ? `'${name}' is a remote's name` : `'${top}/…' is how snapshots fetched from remote '${top}' are named`;
  }
  return null;
}

/** git check-ref-format's rules for a tag name, and pyctl's own reserved forms. */
export function refFormatProblem(name: string): string | null {
  if (name === '') return 'it is empty';
  if (name.length > 200) return 'it is longer than 200 characters';
  if (name.includes('\ufffd')) return 'it is not valid UTF-8';
  if (/[\x00-\x20\x7f]/.test(name)) return 'it contains a space or control character';
  const bad = /[~^:?*[\\]/.exec(name);
  if (bad) return `it contains '${bad[0]}'`;
  if (name.includes('..')) return "it contains '..'";
  if (name.includes('@{')) return "it contains '@{'";
  if (name === '@') return "'@' alone is not allowed";
  if (name.startsWith('/') || name.endsWith('/') || name.includes('//')) return "it has an empty part between '/'";
  if (name.endsWith('.')) return "it ends with '.'";
  for (const part of name.split('/')) {
    if (part.startsWith('.')) return "a part starts with '.'";
    if (part.endsWith('.lock')) return "a part ends with '.lock'";
  }
  if (isAutoSnapshot(name)) return `names under '${AUTO_PREFIX}' are kept for automatic snapshots`;
  if (name.startsWith('-')) return "it starts with '-'";
  if (/^\d+$/.test(name)) return 'all digits would be read as an operation number';
  return null;
}
