/** RECORD files: read and written the way pip does (Python's csv module, excel dialect). */
import { createHash } from 'node:crypto';

export type RecordRow = [path: string, hash: string, size: string];

/** `sha256=<urlsafe base64, no padding>` as in RECORD. */
export function recordHash(data: Uint8Array): string {
  return 'sha256=' + createHash('sha256').update(data).digest('base64url');
}

/** Parse RECORD text. Handles quoted fields; lines split like Python's str.splitlines (common cases). */
export function parseRecord(text: string): string[][] {
  const rows: string[][] = [];
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === '') continue;
    const row: string[] = [];
    let i = 0;
    for (;;) {
      let field = '';
      if (line[i] === '"') {
        i++;
        for (;;) {
          if (i >= line.length) break;
          if (line[i] === '"') {
            if (line[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          field += line[i++];
        }
        // Python's csv keeps text after a closing quote up to the delimiter.
        while (i < line.length && line[i] !== ',') field += line[i++];
      } else {
        const end = line.indexOf(',', i);
        field = end < 0 ? line.slice(i) : line.slice(i, end);
        i = end < 0 ? line.length : end;
      }
      row.push(field);
      if (i >= line.length) break;
      i++; // the comma
      if (i === line.length) {
        row.push('');
        break;
      }
    }
    rows.push(row);
  }
  return rows;
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Python compares str by code point; JS `<` compares UTF-16 units. Same for BMP-only text. */
function cmpStr(a: string, b: string): number {
  if (a === b) return 0;
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done) return y.done ? 0 : -1;
    if (y.done) return 1;
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d) return d;
  }
}

/** pip sorts the rows (as str tuples) and writes them with csv.writer: CRLF line ends. */
export function formatRecord(rows: RecordRow[]): string {
  const sorted = [...rows].sort((a, b) => cmpStr(a[0], b[0]) || cmpStr(a[1], b[1]) || cmpStr(a[2], b[2]));
  return sorted.map((r) => r.map(csvField).join(',') + '\r\n').join('');
}

/** RECORD for a wheel we build: rows in the order given (the archive's order). */
export function formatRecordInOrder(rows: RecordRow[]): string {
  return rows.map((r) => r.map(csvField).join(',') + '\n').join('');
}
