/**
 * Pure: the commit message of an operation. Human first line, `+/-/~` body, then git trailers
 * (`git log --format=%(trailers)` and `git interpret-trailers --parse` read them).
 */
import { changeLine, type Change } from '../plan/changes.js';

export const OP_KINDS = ['init', 'install', 'uninstall', 'pip', 'external', 'undo', 'redo', 'restore', 'clean', 'rebuild', 'autoremove'] as const;
export type OpKind = (typeof OP_KINDS)[number];

export interface OpMeta {
  op: number;
  kind: OpKind;
  /** pip's exit status, for recorded pip runs. */
  exit?: number;
  python?: string;
  interpreter?: string;
  /** For undo/restore: what state was brought back (operation number or snapshot name). */
  target?: string;
  /** 'failed' (pip exited non-zero but changed things) or 'interrupted' (found after a crash). */
  status?: 'failed' | 'interrupted';
}

const TRAILERS: [keyof OpMeta, string][] = [
  ['op', 'Pyctl-Op'],
  ['kind', 'Pyctl-Kind'],
  ['exit', 'Pyctl-Exit'],
  ['status', 'Pyctl-Status'],
  ['target', 'Pyctl-Target'],
  ['python', 'Pyctl-Python'],
  ['interpreter', 'Pyctl-Interpreter'],
];

export function composeMessage(subject: string, changes: Change[], meta: OpMeta): string {
  const body = changes.map(changeLine).join('\n');
  const trailers = TRAILERS.filter(([k]) => meta[k] !== undefined)
    .map(([k, t]) => `${t}: ${String(meta[k]).replace(/\s+/g, ' ')}`)
    .join('\n');
  return `${oneLine(subject)}\n\n${body ? body + '\n\n' : ''}${trailers}\n`;
}

export interface ParsedMessage {
  subject: string;
  body: string;
  /** Undefined for commits pyctl did not make (e.g. a user's own `git commit`). */
  meta?: OpMeta;
}

export function parseMessage(message: string): ParsedMessage {
  const lines = message.replace(/\n+$/, '').split('\n');
  const subject = lines[0] ?? '';
  // Trailers: the last paragraph, if every line of it is `Key: value`.
  let start = lines.length;
  while (start > 1 && /^[A-Za-z-]+: /.test(lines[start - 1])) start--;
  const trailerLines = start < lines.length && (start === 0 || lines[start - 1] === '') ? lines.slice(start) : [];
  const fields = new Map<string, string>();
  for (const l of trailerLines) {
    const i = l.indexOf(': ');
    fields.set(l.slice(0, i), l.slice(i + 2));
  }
  const body = lines
    .slice(1, trailerLines.length ? start : lines.length)
    .join('\n')
    .trim();
  const op = Number(fields.get('Pyctl-Op'));
  const kind = fields.get('Pyctl-Kind') as OpKind | undefined;
  if (!Number.isSafeInteger(op) || op < 0 || !kind) return { subject, body };
  const meta: OpMeta = { op, kind };
  const exit = fields.get('Pyctl-Exit');
  if (exit !== undefined && /^-?\d+$/.test(exit)) meta.exit = Number(exit);
  const status = fields.get('Pyctl-Status');
  if (status === 'failed' || status === 'interrupted') meta.status = status;
  for (const k of ['target', 'python', 'interpreter'] as const) {
    const v = fields.get(TRAILERS.find(([key]) => key === k)![1]);
    if (v !== undefined) meta[k] = v;
  }
  return { subject, body, meta };
}

function oneLine(s: string): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? flat.slice(0, 197) + '...' : flat;
}
