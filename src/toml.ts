/**
 * TOML, read and written in one place (the one importer of smol-toml): config.toml and PEP 751
 * pylock.toml. A syntax error comes back as TomlSyntaxError with the line and column, so callers
 * can say `file:line:col: reason` without knowing the library.
 */
import { parse, stringify, TomlError } from 'smol-toml';

export class TomlSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(reason);
  }
}

export type TomlTable = Record<string, unknown>;

export function parseToml(text: string): TomlTable {
  try {
    return parse(text);
  } catch (e) {
    if (e instanceof TomlError) throw new TomlSyntaxError(e.message.split('\n')[0].replace(/^Invalid TOML document: /, ''), e.line, e.column);
    throw e;
  }
}

/** Plain values only (no comments: stringify cannot keep them, so never rewrite a user's file). */
export function stringifyToml(doc: TomlTable): string {
  return stringify(doc);
}
