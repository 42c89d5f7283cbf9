/**
 * Pure: how an undo or redo is named. Undoing an undo is a redo of what that undo undid, and
 * undoing a redo is an undo of it again, so the subject always names the operation the user did
 * (`redo of 32: pip install torch`), never a chain (`an undo of an undo of ...`).
 */
import type { OpKind } from '../gitstore/message.js';

export interface UndoneOp {
  op: number;
  kind: OpKind;
  subject: string;
  /** The Pyctl-Target trailer: for undo/redo, the operation(s) they are about. */
  target?: string;
}

export interface UndoLabel {
  kind: 'undo' | 'redo';
  subject: string;
  /** What the new operation is about (the Pyctl-Target trailer): `32`, `5-7`, `3, 5`. */
  target: string;
}

/** An undo/redo as the operation it is about: its verb, its base operation(s) and what they were. */
interface Base {
  verb: 'undo' | 'redo';
  target: string;
  what: string;
}

const FLAT = /^(undo|redo) of ([\d, -]+?)(?:, back to \d+)?(?:: (.*))?$/;
// Subjects written before redo existed: `pyctl undo (operation 5: pip install x)`,
// `pyctl undo (operation 6: an undo of operation 5)`, `pyctl undo 3 (operations 5-7)`.
const OLD_ONE = /^pyctl undo \(operation (\d+): (.*)\)$/;
const OLD_NESTED = /^an undo of operation ([\d-]+)$/;
const OLD_MANY = /^pyctl undo \d+ \(operations ([\d-]+)\)$/;

/** What an undo/redo operation was about; undefined for any other operation. */
function baseOf(e: UndoneOp): Base | undefined {
  if (e.kind !== 'undo' && e.kind !== 'redo') return undefined;
  const flat = FLAT.exec(e.subject);
  if (flat) return { verb: flat[1] as 'undo' | 'redo', target: flat[2].trim(), what: flat[3] ?? '' };
  const one = OLD_ONE.exec(e.subject);
  if (one) {
    const nested = OLD_NESTED.exec(one[2]);
    // An old undo of an undo was a redo of the first undo's operation.
    if (nested) return { verb: 'redo', target: nested[1], what: '' };
    return { verb: 'undo', target: one[1], what: one[2] };
  }
  const many = OLD_MANY.exec(e.subject);
  return { verb: e.kind, target: many?.[1] ?? e.target ?? '?', what: '' };
}

const flip = (v: 'undo' | 'redo'): 'undo' | 'redo' => (v === 'undo' ? 'redo' : 'undo');

/** One undone operation as it reads inside another subject. */
function short(e: UndoneOp): string {
  const b = baseOf(e);
  if (!b) return e.subject;
  return b.what ? `${b.verb} of ${b.target}: ${b.what}` : `${b.verb} of ${b.target}`;
}

/**
 * The label of an operation that undoes `undone` (newest first). `backTo` names the operation
 * whose state it returns to (undo --to N).
 */
export function labelUndo(undone: UndoneOp[], backTo?: number): UndoLabel {
  const back = backTo === undefined ? '' : `, back to ${backTo}`;
  if (undone.length === 1) {
    const e = undone[0];
    const b = baseOf(e);
    if (!b) return { kind: 'undo', subject: `undo of ${e.op}${back}: ${e.subject}`, target: String(e.op) };
    const verb = flip(b.verb);
    return { kind: verb, subject: `${verb} of ${b.target}${back}${b.what ? `: ${b.what}` : ''}`, target: b.target };
  }
  const bases = undone.map(baseOf);
  // Undoing only undos brings all of their operations back: a redo of them.
  if (bases.every((b) => b?.verb === 'undo')) {
    const target = bases
      .map((b) => b!.target)
      .reverse()
      .join(', ');
    const what = bases
      .map((b) => b!.what)
      .filter(Boolean)
      .reverse()
      .join('; ');
    return { kind: 'redo', subject: `redo of ${target}${back}${what ? `: ${what}` : ''}`, target };
  }
  const ops = undone.map((e) => e.op);
  const target = `${Math.min(...ops)}-${Math.max(...ops)}`;
  const what = undone.map(short).reverse().join('; ');
  return { kind: 'undo', subject: `undo of ${target}${back}: ${what}`, target };
}

/** Whether an operation counts as an undo for `pyctl redo` (a redo of a redo is not a thing). */
export function isUndo(e: UndoneOp): boolean {
  return baseOf(e)?.verb === 'undo';
}
