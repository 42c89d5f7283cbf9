/** What every command gets, and what it gives back. Commands never print; cli.ts and the lanes do. */
import { existsSync, statSync } from 'node:fs';
import { isPyctlRepo } from './home-check.js';
import { PyctlError } from '../errors.js';
import { openHome, type Home } from './home.js';
import { paint, useColor, type Paint } from '../render/color.js';
import type { Reporter } from '../render/progress.js';

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
  /** Progress of long steps (a line on stderr, only on a terminal, only after ~1 s). */
  reporter: Reporter;
}

export interface Output {
  text?: string;
  json?: unknown;
  /** Non-zero without an error (e.g. doctor finding problems). */
  exitCode?: number;
}

/** The global flags a context is made from (commander's, or the record lane's fixed form). */
export interface GlobalFlags {
  json?: boolean;
  verbose?: boolean;
  color?: boolean;
  home?: string;
  system?: boolean;
}

/** Where notes and progress go: made by the printers (cli.ts, the record lane) and handed down. */
export interface Sink {
  /** One line of stderr, `pyctl: ` before it. */
  note(line: string): void;
  reporter: Reporter;
}

export function makeContext(g: GlobalFlags, sink: Sink): Context {
  const home = openHome(g.home, { system: !!g.system });
  if (!isDirOrAbsent(home.paths.home)) {
    throw new PyctlError('USAGE', `the pyctl home ${home.paths.home} is not a folder`, 'point --home (or PYCTL_HOME) at a folder');
  }
  if (existsSync(home.paths.gitDir) && !isPyctlRepo(home.paths.gitDir)) {
    // Another project's repo: pyctl would commit into it (one stat when it is pyctl's own).
    throw new PyctlError(
      'USAGE',
      `${home.paths.home} is not a pyctl home: ${home.paths.gitDir} is a git repository pyctl did not make`,
      'point PYCTL_HOME (or --home) at your pyctl home, or at a new folder for pyctl init',
    );
  }
  if (process.geteuid?.() === 0 && home.system) {
    // Everyone reads the system tier's history: whatever root's umask, keep it readable.
    process.umask(0o022);
  }
  let configColor = true;
  let configVerbose = false;
  try {
    configColor = home.config.ui.color;
    configVerbose = home.config.ui.verbose;
  } catch {
    // A broken config.toml is reported by the commands that need it.
  }
  const verbose = !!g.verbose || configVerbose;
  const color = g.color !== false && useColor(process.stdout, configColor);
  return {
    home,
    paint: paint(color),
    json: !!g.json,
    system: home.system,
    verbose,
    note: sink.note,
    reporter: sink.reporter,
  };
}

function isDirOrAbsent(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT';
  }
}
