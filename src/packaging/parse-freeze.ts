/** Read `pip freeze` text back into entries keyed by canonical name. */
import { canonicalName } from './names.js';

export interface FreezeEntry {
  name: string;
  /** '' when the line does not state one (direct URLs, editables without a comment). */
  version: string;
  /** The exact line(s), including the comment lines that precede an editable. */
  line: string;
}

/** The line that installs an entry: its last (an editable's `# Editable ...` comments come first). */
export function requirementLine(e: { line: string }): string {
  return e.line.split('\n').pop()!.trim();
}

/** `-e PATH` / `--editable=URL`: the path or URL; null for any other line. */
export function editableTarget(line: string): string | null {
  return /^(?:-e|--editable)(?:\s+|=)(.*)$/.exec(line.trim())?.[1] ?? null;
}

/** `name[extras] @ URL`: the URL; null for any other line. */
export function directUrl(line: string): string | null {
  return /^\S+?(?:\[[^\]]*\])?\s*@\s*(\S+)\s*$/.exec(line.trim())?.[1] ?? null;
}

const NAME = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)/;

export function parseFreeze(text: string): Map<string, FreezeEntry> {
  const out = new Map<string, FreezeEntry>();
  let comments: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimEnd();
    const t = line.trim();
    if (t === '') {
      comments = [];
      continue;
    }
    if (t.startsWith('#')) {
      comments.push(line);
      continue;
    }
    const pending = comments;
    comments = [];
    let entry: FreezeEntry | undefined;
    const ed = editableTarget(t);
    if (ed !== null) {
      // `# Editable ... (Name==1.0) ...` comment, or `#egg=name` in a VCS URL.
      let name = '';
      let version = '';
      for (const c of pending) {
        const m = /\(([^()\s]+?)(===?)([^()\s]*)\)/.exec(c);
        if (m) {
          name = m[1]!;
          version = m[3]!;
        }
      }
      if (!name) {
        const egg = /[#&]egg=([^&\s]+)/.exec(ed);
        if (egg) name = egg[1].split(/[<>=!~[;]/)[0]!;
      }
      if (!name) continue;
      entry = { name, version, line: [...pending, line].join('\n') };
    } else if (t.startsWith('-')) {
      continue; // options such as --index-url
    } else {
      const nm = NAME.exec(t);
      if (!nm) continue;
      const name = nm[1];
      const rest = t.slice(name.length);
      const v = /^\s*(===?)\s*(\S+)/.exec(rest);
      if (v) entry = { name, version: v[2], line };
      else if (/^\s*(\[[^\]]*\])?\s*@/.test(rest)) entry = { name, version: '', line };
      else continue;
    }
    out.set(canonicalName(entry.name), entry);
  }
  return out;
}
