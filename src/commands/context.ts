/** What every command gets, and what it gives back. Commands never print; the CLI does. */
import type { Home } from '../ledger/home.js';
import type { Paint } from '../render/color.js';

export interface Context {
  home: Home;
  /** For stdout text. */
  paint: Paint;
  json: boolean;
  /** Working on the system tier (`pyctl --system`). */
  system?: boolean;
  verbose: boolean;
  /** Progress and notes that must not pollute stdout. */
  note(line: string): void;
}

export interface Output {
  text?: string;
  json?: unknown;
  /** Non-zero without an error (e.g. doctor finding problems). */
  exitCode?: number;
}
