#!/usr/bin/env node
/**
 * The pyctl program: the one place that knows argv, prints results and errors, and sets the
 * exit status (0 ok, 1 failure, 2 wrong usage). Command modules load lazily so that a pip run's
 * record and `status` do not pay for what they do not use.
 */
import { Command, CommanderError, Option } from 'commander';
import { PyctlError, positiveInt } from './errors.js';
import type { Context, Output } from './commands/context.js';
import { openHome } from './ledger/home.js';
import { paint, useColor } from './render/color.js';

const VERSION = '0.1.0';

interface GlobalOpts {
  json?: boolean;
  verbose?: boolean;
  color?: boolean;
  home?: string;
}

function context(program: Command): Context {
  const g = program.opts<GlobalOpts>();
  const home = openHome(g.home);
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
    verbose,
    note: (line) => process.stderr.write(`pyctl: ${line}\n`),
  };
}

function emit(ctx: Context, out: Output): void {
  if (ctx.json && out.json !== undefined) process.stdout.write(JSON.stringify(out.json, null, 2) + '\n');
  else if (out.text) process.stdout.write(out.text);
  if (out.exitCode) process.exitCode = out.exitCode;
}

const examples = (...lines: string[]) => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;

export function buildProgram(): Command {
  const program = new Command('pyctl');
  const run =
    (fn: (ctx: Context, ...args: any[]) => Promise<Output>) =>
    async (...args: any[]) => {
      const ctx = context(program);
      for (const w of safeWarnings(ctx)) process.stderr.write(`warning: ${w}\n`);
      emit(ctx, await fn(ctx, ...args));
    };

  program
    .description('pip install that just works: a personal venv whose every change is recorded, undoable and shareable')
    .version(VERSION, '-V, --version', 'print the pyctl version')
    .option('--json', 'machine-readable output on stdout (status, history, diff, list-snapshots, doctor)')
    .option('-v, --verbose', 'show the pip and git steps taken, and stack traces on errors')
    .option('--no-color', 'no colour, even on a terminal')
    .addOption(new Option('--home <dir>', 'the pyctl home (default: $PYCTL_HOME or ~/.local/python-packages)'))
    .showSuggestionAfterError(true)
    .addHelpText('after', examples('pip install requests      # recorded automatically', 'pyctl history', 'pyctl diff', 'pyctl undo', 'pyctl snapshot dev-tools && pyctl restore dev-tools'));

  program
    .command('init')
    .description('create the user venv, its recording hook and the state repo (done by ./install.sh)')
    .option('--python <path|version>', 'the Python to build the venv with (default: python3 on PATH)')
    .addHelpText('after', examples('pyctl init', 'pyctl init --python 3.12'))
    .action(run(async (ctx, o) => (await import('./commands/init.js')).init(ctx, o)));

  program
    .command('status')
    .description('show the venv, what is first on PATH, the last operation and whether the venv matches it')
    .addHelpText('after', examples('pyctl status', 'pyctl status --json'))
    .action(run(async (ctx) => (await import('./commands/status.js')).status(ctx)));

  program
    .command('history')
    .description('list operations, newest first')
    .option('-n, --limit <N>', 'how many operations to show (default 20, at most history.max_entries)')
    .addHelpText('after', examples('pyctl history', 'pyctl history --limit 5'))
    .action(
      run(async (ctx, o) =>
        (await import('./commands/history.js')).history(ctx, { limit: o.limit === undefined ? undefined : positiveInt(o.limit, '--limit') }),
      ),
    );

  program
    .command('diff')
    .description('what operation N changed (default: the last), or the difference between two states')
    .argument('[states...]', 'an operation number or snapshot name; two of them compare those states')
    .option('-u, --unified', 'show the line diff of the freeze file')
    .addHelpText('after', examples('pyctl diff', 'pyctl diff 3', 'pyctl diff baseline 7', 'pyctl diff dev-tools now --unified'))
    .action(run(async (ctx, states, o) => (await import('./commands/diff.js')).diff(ctx, states, o)));

  program
    .command('undo')
    .description('roll back the last N operations (default 1) as a new operation; undoing an undo is a redo')
    .argument('[N]', 'how many operations to roll back', '1')
    .option('-n, --dry-run', 'print the plan and change nothing')
    .addHelpText('after', examples('pyctl undo', 'pyctl undo 3', 'pyctl undo --dry-run'))
    .action(run(async (ctx, n, o) => (await import('./commands/undo.js')).undo(ctx, positiveInt(n, 'N'), o)));

  program
    .command('snapshot')
    .description('name the current state (a git tag) so it can be restored later')
    .argument('[name]', 'the snapshot name (git tag rules: no spaces, no "..", …)')
    .option('-m, --message <text>', 'a note stored with the snapshot')
    .option('-f, --force', 'replace an existing snapshot of that name')
    .option('-d, --delete', 'delete the named snapshot')
    .addHelpText('after', examples('pyctl snapshot dev-tools -m "pytest black mypy"', 'pyctl snapshot dev-tools --force', 'pyctl snapshot --delete dev-tools'))
    .action(run(async (ctx, name, o) => (await import('./commands/snapshot.js')).snapshot(ctx, name, o)));

  program
    .command('restore')
    .description('make the venv match a snapshot or an operation number, recorded as a new operation')
    .argument('<name|N>', 'a snapshot name, or an operation number from pyctl history')
    .option('-n, --dry-run', 'print the plan and change nothing')
    .addHelpText('after', examples('pyctl restore dev-tools', 'pyctl restore 12', 'pyctl restore baseline --dry-run'))
    .action(run(async (ctx, ref, o) => (await import('./commands/restore.js')).restore(ctx, ref, o)));

  program
    .command('list-snapshots')
    .description('list snapshots: name, date, package count, whether it matches now, message')
    .option('-a, --all', 'include automatic snapshots (auto/…) made before undo/restore/clean')
    .addHelpText('after', examples('pyctl list-snapshots', 'pyctl list-snapshots --json'))
    .action(run(async (ctx, o) => (await import('./commands/snapshot.js')).listSnapshots(ctx, o)));

  program
    .command('clean')
    .description('delete and recreate the venv (history and snapshots are kept), recorded as an operation')
    .option('--keep-baseline', "recreate it, then restore the 'baseline' snapshot")
    .option('-n, --dry-run', 'say what would happen and change nothing')
    .addHelpText('after', examples('pyctl clean', 'pyctl clean --keep-baseline', 'pyctl undo    # changed your mind: brings the packages back'))
    .action(run(async (ctx, o) => (await import('./commands/clean.js')).clean(ctx, o)));

  program
    .command('_record', { hidden: true })
    .description('record a pip run (called by the pip hook)')
    .requiredOption('--phase <phase>')
    .option('--pid <pid>')
    .option('--exit <status>')
    .argument('[args...]')
    .allowUnknownOption(true)
    .action(async (args: string[], o) => {
      const ctx = context(program);
      try {
        await (await import('./commands/record.js')).record(ctx, {
          phase: o.phase === 'pre' ? 'pre' : 'post',
          pid: o.pid ? Number(o.pid) : undefined,
          exit: o.exit !== undefined ? Number(o.exit) : undefined,
          args,
        });
      } catch (e) {
        // Never fail pip because of pyctl: say it once and let pip's status stand.
        const hint = e instanceof PyctlError && e.hint ? ` (${e.hint})` : '';
        process.stderr.write(`pyctl: this pip run was not recorded: ${(e as Error).message}${hint}\n`);
      }
    });

  program
    .command('_maintain', { hidden: true })
    .description('pack the state repo (started in the background by a record)')
    .option('--force', 'pack even when few objects are loose')
    .action(async (o) => {
      const { maintain } = await import('./state/maintain.js');
      await maintain(openHome(program.opts<GlobalOpts>().home).paths, { force: !!o.force });
    });

  return program;
}

function safeWarnings(ctx: Context): string[] {
  try {
    return ctx.home.configWarnings;
  } catch {
    return [];
  }
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  program.exitOverride();
  program.configureOutput({ outputError: (str, write) => write(str.replace(/\n+$/, '') + '\n') });
  for (const c of program.commands) c.exitOverride();
  try {
    await program.parseAsync(argv);
    return Number(process.exitCode ?? 0);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      if (e.code === 'commander.executeSubCommandAsync') return 0;
      return 2;
    }
    const verbose = argv.includes('--verbose') || argv.includes('-v');
    if (e instanceof PyctlError) {
      process.stderr.write(`error: ${e.message}\n`);
      if (e.hint) process.stderr.write(`hint: ${e.hint}\n`);
      if (verbose) process.stderr.write(`${e.stack}\n`);
      return e.exitCode;
    }
    process.stderr.write(`error: ${(e as Error)?.message ?? String(e)}\n`);
    process.stderr.write(verbose ? `${(e as Error)?.stack}\n` : "hint: this is a bug in pyctl; run again with --verbose for details\n");
    return 1;
  }
}

main(process.argv).then((code) => {
  process.exitCode = code;
});
