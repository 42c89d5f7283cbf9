/**
 * Read the header block of a METADATA / PKG-INFO file (up to the first blank line) and parse it
 * the way Python's email parser (compat32 policy) does, which is what importlib.metadata uses.
 */
import { closeSync, openSync, readSync } from 'node:fs';

const CHUNK = 8192;
const HEADER_LINE = /^(From |[\x21-\x39\x3b-\x7e]*:|[\t ])/;

/**
 * Text of the file up to (not including) the first blank line, with universal newlines.
 * null when the path cannot be read as a file (missing, a directory, no permission).
 */
export function readHeaderText(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    const chunks: Buffer[] = [];
    let text = '';
    for (;;) {
      const buf = Buffer.allocUnsafe(CHUNK);
      let n: number;
      try {
        n = readSync(fd, buf, 0, CHUNK, null);
      } catch {
        return chunks.length ? text : null; // EISDIR and friends
      }
      if (n === 0) break;
      chunks.push(buf.subarray(0, n));
      text = Buffer.concat(chunks).toString('utf8').replace(/\r\n?/g, '\n');
      const end = text.indexOf('\n\n');
      if (end >= 0) return text.slice(0, end + 1);
      if (text.startsWith('\n')) return '\n'; // blank first line: no headers, but not empty
    }
    return text;
  } finally {
    closeSync(fd);
  }
}

/** Header name (as written) and value, in file order; values as compat32 returns them. */
export function parseHeaders(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const lines = text.split(/(?<=\n)/);
  let cur: string[] | null = null;
  const flush = () => {
    if (!cur) return;
    const first = cur[0];
    const i = first.indexOf(':');
    const value = (first.slice(i + 1).replace(/^[ \t]+/, '') + cur.slice(1).join('')).replace(/[\r\n]+$/, '');
    out.push([first.slice(0, i), value]);
    cur = null;
  };
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n];
    if (line === '\n' || line === '') break;
    if (!HEADER_LINE.test(line)) break;
    if (line[0] === ' ' || line[0] === '\t') {
      if (cur) cur.push(line);
      continue;
    }
    flush();
    if (line.startsWith('From ')) {
      if (n === lines.length - 1 && n !== 0) break;
      continue;
    }
    if (line.indexOf(':') === 0) continue;
    cur = [line];
  }
  flush();
  return out;
}

/** First value of a header, matched case-insensitively like email.message.Message.get(). */
export function header(headers: Array<[string, string]>, name: string): string | undefined {
  const low = name.toLowerCase();
  for (const [k, v] of headers) if (k.toLowerCase() === low) return v;
  return undefined;
}

/** One header of a METADATA / WHEEL text (any newlines), as `header(parseHeaders(...))` reads it. */
export function headerIn(text: string, name: string): string | undefined {
  return header(parseHeaders(text.replace(/\r\n?/g, '\n')), name);
}
