/**
 * The pyctl program: the one place that knows argv, prints results and errors, and sets the
 * exit status (0 ok, 1 failure, 2 wrong usage). Command modules load lazily so that a pip run's
 * record and `status` do not pay for what they do not use.
 */
import { Argument, Command, CommanderError, Option } from 'commander';
import { PyctlError, nonNegativeInt, positiveInt, usage } from './errors.js';
import { systemHome } from './paths.js';
import { makeContext, type Context, type GlobalFlags, type Output } from './operations/context.js';
import { openHome } from './operations/home.js';
import { sweepScratch } from './bisect/sweep.js';
import { isErrnoError, osErrorHint, osErrorLine } from './os-error.js';
import { silentReporter, terminalReporter } from './render/progress.js';
import { setPauseSignal } from './debug/faults.js';

const VERSION = '0.1.0';

type GlobalOpts = GlobalFlags;

const isRoot = () => process.geteuid?.() === 0;

/** With --system, these only read; everything else (and doctor --fix) changes the system venv. */
const SYSTEM_READ_ONLY = new Set(['status', 'history', 'diff', 'log', 'list-snapshots', 'doctor', 'help']);

export function systemNeedsRoot(command: string, opts: Record<string, unknown>): boolean {
  if (!SYSTEM_READ_ONLY.has(command)) return true;
  return command === 'doctor' && !!opts.fix;
}

/** Refuse, before anything is opened, a --system command that would change the system venv. */
function guardSystem(program: Command, action: Command): void {
  const g = program.opts<GlobalOpts>();
  if (!g.system) return;
  if (g.home !== undefined) throw usage('--system and --home cannot be used together', 'the system venv lives in $PYCTL_SYSTEM_HOME (default /opt/system-python)');
  const name = action.name();
  if (isRoot() || !systemNeedsRoot(name, action.opts())) return;
  const what = name === 'doctor' ? 'doctor --fix' : name;
  throw new PyctlError(
    'PERMISSION',
    `'pyctl --system ${what}' changes the system venv (${systemHome()}), which only root may change; nothing was changed`,
    `run it as root (sudo pyctl --system ${what} ...); for your own packages leave out --system`,
  );
}

/** stderr for notes and progress: made here, the printer, and handed down in the context. */
const note = (line: string) => void process.stderr.write(`pyctl: ${line}\n`);

function context(program: Command): Context {
  const g = program.opts<GlobalOpts>();
  return makeContext(g, { note, reporter: g.json ? silentReporter : terminalReporter({ stream: process.stderr }) });
}

/**
 * Commands after which the process ends as soon as its output is out, as the record lane does:
 * Node would first wait for V8's background work (compiling code for a run that is over):
 * 30-110 ms of a `pyctl init`, measured, whose bench row is a ratio to `python3 -m venv`.
 * Everything they write is written and flushed by then; what runs on (maintenance) is a
 * detached process of its own.
 */
const EXIT_AT_ONCE = new Set(['init']);
let exitAtOnce = false;

function emit(ctx: Context, out: Output): void {
  if (ctx.json && out.json !== undefined) process.stdout.write(JSON.stringify(out.json, null, 2) + '\n');
  else if (out.text) process.stdout.write(out.text);
  if (out.exitCode) process.exitCode = out.exitCode;
}

/** `--at TIME` is another spelling of the state `@TIME`. */
function atState(states: string[], at: string | undefined): string[] {
  return at === undefined ? states : [`@${at}`, ...states];
}
function oneState(ref: string | undefined, at: string | undefined, command: string): string | undefined {
  if (at === undefined) return ref;
  if (ref !== undefined) throw usage(`${command} takes a state or --at TIME, not both`, `pyctl ${command} @${at}`);
  return `@${at}`;
}

const examples = (...lines: string[]) => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;

export function buildProgram(): Command {
  const program = new Command('pyctl');
  /* eslint-disable @typescript-eslint/no-explicit-any -- commander hands actions untyped arguments and option objects */
  const run =
    (fn: (ctx: Context, ...args: any[]) => Promise<Output>) =>
    async (...args: any[]) => {
      /* eslint-enable @typescript-eslint/no-explicit-any */
      const ctx = context(program);
      const action = args[args.length - 1] as Command;
      exitAtOnce = EXIT_AT_ONCE.has(action.name());
      // Every command reads the config (ui.color at least): a broken one is an error for each,
      // not just for those that happen to read another key. doctor reports it as a finding.
      if (action.name() !== 'doctor' && action.name() !== '_find-python') void ctx.home.config;
      // A bisect killed before it could clean up left a scratch venv: sweep it (one readdir when
      // there is none). doctor reports it instead.
      if (action.name() !== 'doctor') for (const d of sweepScratch(ctx.home.paths)) ctx.note(`removed ${d}, left by a bisect that was killed`);
      for (const w of safeWarnings(ctx)) process.stderr.write(`warning: ${w}\n`);
      emit(ctx, await fn(ctx, ...args));
    };

  program
    .description('pip install that just works: a personal venv whose every change is recorded, undoable and shareable')
    .version(VERSION, '-V, --version', 'print the pyctl version')
    .option('--json', 'machine-readable output on stdout (every command but completion; see docs/json.md)')
    .option('-v, --verbose', 'show the pip and git steps taken, and stack traces on errors')
    .option('--no-color', 'no colour, even on a terminal')
    .addOption(new Option('--home <dir>', 'the pyctl home (default: $PYCTL_HOME or ~/.local/python-packages)'))
    .option('--system', 'work on the system venv ($PYCTL_SYSTEM_HOME or /opt/system-python): anyone may read it, only root may change it')
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      examples(
        'pip install requests      # recorded automatically',
        'pyctl history',
        'pyctl diff',
        'pyctl undo',
        'pyctl snapshot dev-tools && pyctl restore dev-tools',
        'pyctl --system history    # the system venv',
      ),
    );
  program.hook('preAction', (_program, action) => guardSystem(program, action));

  program
    .command('init')
    .description('create the user venv, its recording hook and the state repo (done by ./install.sh)')
    .option('--python <path|version>', 'the Python to build the venv with (default: python3 on PATH); on an existing home, move the venv to it, all packages or nothing')
    .option('--drop-missing', 'with --python on an existing home: move even if some packages have no build for the new Python, leaving them out (listed)')
    .option('--dry-run', 'with --python on an existing home: say which packages would come across and which would not; change nothing')
    .option('--pip-wheel <file>', "seed the venv's pip from this wheel (for a Python without ensurepip, offline)")
    .option('--from <url>', "a new machine in one step: fetch a pushed environment (saved as remote 'origin') and make the venv match it")
    .option('--snapshot <name>', "with --from: the remote's snapshot to match (default: its main, the latest pushed state)")
    .addHelpText(
      'after',
      examples(
        'pyctl init',
        'pyctl init --python 3.12   # existing home: move the venv to 3.12 with every package, or change nothing',
        'pyctl init --python 3.12 --dry-run   # what would come across, and what would not',
        'pyctl init --pip-wheel ~/pip-24.3.1-py3-none-any.whl   # no ensurepip, no index reachable',
        'pyctl init --from https://git.example.com/me/env.git --snapshot ml   # a new machine in one step',
      ),
    )
    .action(run(async (ctx, o) => (await import('./commands/init.js')).init(ctx, o)));

  program
    .command('status')
    .description('show the venv, what is first on PATH, the last operation and whether the venv matches it')
    .addHelpText('after', examples('pyctl status', 'pyctl status --json'))
    .action(run(async (ctx) => (await import('./commands/status.js')).status(ctx)));

  program
    .command('sync')
    .description('record what changed outside pip (and what a crashed run left) as an operation now')
    .addHelpText('after', examples('pyctl sync   # after uv pip install, rm -rf, or a crash: status shows it, sync records it'))
    .action(run(async (ctx) => (await import('./commands/sync.js')).sync(ctx)));

  program
    .command('unlock')
    .description('clear a stuck lock (its holder is gone or runs on another host), saying whose it was')
    .addHelpText('after', examples('pyctl unlock   # pip waits for a lock of pid 4242 on host old-laptop'))
    .action(run(async (ctx) => (await import('./commands/unlock.js')).unlock(ctx)));

  program
    .command('history')
    .description('list operations, newest first')
    .option('-n, --limit <N>', 'how many operations to show (default 20, at most history.max_entries)')
    .addHelpText('after', examples('pyctl history', 'pyctl history --limit 5'))
    .action(run(async (ctx, o) => (await import('./commands/history.js')).history(ctx, { limit: o.limit === undefined ? undefined : positiveInt(o.limit, '--limit') })));

  program
    .command('diff')
    .description('what operation N changed (default: the last), or the difference between two states')
    .argument('[states...]', 'an operation number, snapshot name or @TIME; two of them compare those states')
    .option('-u, --unified', 'show the line diff of the freeze file')
    .option('--at <time>', "the state at that time (as @TIME: ISO 8601 or 'N hours ago') compared with now")
    .addHelpText('after', examples('pyctl diff', 'pyctl diff 3', 'pyctl diff baseline 7', 'pyctl diff dev-tools now --unified', "pyctl diff --at '2 days ago'", 'pyctl diff @2026-12-01 now'))
    .action(run(async (ctx, states, o) => (await import('./commands/diff.js')).diff(ctx, atState(states, o.at), o)));

  program
    .command('log')
    .description('how PKG got here: every operation that added, removed or changed it, newest first')
    .argument('<pkg>', 'a package name (any spelling: Foo_Bar, foo-bar), installed now or not')
    .addHelpText('after', examples('pyctl log requests', 'pyctl log urllib3 --json'))
    .action(run(async (ctx, pkg) => (await import('./commands/log.js')).log(ctx, pkg)));

  const bisect = program
    .command('bisect')
    .description('find the operation (and the package change in it) that made a command start failing, in a scratch venv')
    .addHelpText(
      'after',
      '\nYour venv, history and snapshots are never changed: each state is built in a scratch venv beside the venv.\n' +
        examples(
          'pyctl bisect run -- python -m pytest -x tests/test_io.py',
          "pyctl bisect run --good @2026-12-01 -- python -c 'import mylib'",
          'pyctl bisect start && source ~/.local/python-packages/venv.bisect-session/bin/activate',
          'pyctl bisect reset',
        ),
    );
  const stateOpts = (c: Command) =>
    c
      .option('--good <state>', 'a state where the command passes: operation number, snapshot or @TIME (default: the oldest recorded state)')
      .option('--bad <state>', 'a state where it fails (default: now)');
  stateOpts(
    bisect
      .command('run')
      .description('run CMD in each state tested (0 good, 125 cannot test, 1-127 bad, 128+ stops) until the culprit is found')
      .argument('<cmd...>', 'the test command and its arguments (put -- before it when it has options)')
      // `pyctl bisect run python -c ...`: options pyctl does not know belong to the command.
      .allowUnknownOption(),
  )
    .addHelpText(
      'after',
      examples('pyctl bisect run -- python -m pytest -x tests/test_io.py', 'pyctl bisect run --good 40 --bad 57 -- ./check.sh', 'pyctl --json bisect run -- python -c "import numpy"'),
    )
    .action(run(async (ctx, cmd, o) => (await import('./commands/bisect.js')).bisectRun(ctx, cmd, o)));
  stateOpts(bisect.command('start').description('bisect by hand: build the first state to try in a scratch venv and say how to enter it'))
    .addHelpText('after', examples('pyctl bisect start', 'pyctl bisect start --good baseline --bad now'))
    .action(run(async (ctx, o) => (await import('./commands/bisect.js')).bisectStart(ctx, o)));
  for (const [verdict, what] of [
    ['good', 'the state under test works'],
    ['bad', 'the state under test is broken'],
    ['skip', 'the state under test cannot be tested'],
  ] as const) {
    bisect
      .command(verdict)
      .description(`manual bisect: ${what}; build the next one`)
      .addHelpText('after', examples(`pyctl bisect ${verdict}`))
      .action(run(async (ctx) => (await import('./commands/bisect.js')).bisectMark(ctx, verdict)));
  }
  bisect
    .command('reset')
    .description('end a manual bisect and remove its scratch venv')
    .addHelpText('after', examples('pyctl bisect reset'))
    .action(run(async (ctx) => (await import('./commands/bisect.js')).bisectReset(ctx)));

  const remote = program
    .command('remote')
    .description('manage the git remotes snapshots are shared through')
    .addHelpText('after', examples('pyctl remote add origin https://github.com/me/python-env.git', 'pyctl remote list', 'pyctl remote remove origin'));
  remote
    .command('add')
    .description('add a remote (https; ssh and file URLs need the git command); credentials in the URL are not stored')
    .argument('<name>', 'a short name, e.g. origin')
    .argument('<url>', 'the repository URL, e.g. https://host/me/env.git')
    .addHelpText('after', examples('pyctl remote add origin https://github.com/me/python-env.git', 'PYCTL_GIT_TOKEN=... pyctl push'))
    .action(run(async (ctx, name, url) => (await import('./commands/remote.js')).remoteAdd(ctx, name, url)));
  remote
    .command('remove')
    .alias('rm')
    .description('remove a remote and the snapshots fetched from it (nothing on the server changes)')
    .argument('<name>')
    .addHelpText('after', examples('pyctl remote remove origin'))
    .action(run(async (ctx, name) => (await import('./commands/remote.js')).remoteRemove(ctx, name)));
  remote
    .command('list')
    .alias('ls')
    .description('list the remotes (URLs shown without credentials)')
    .addHelpText('after', examples('pyctl remote list', 'pyctl remote list --json'))
    .action(run(async (ctx) => (await import('./commands/remote.js')).remoteList(ctx)));

  program
    .command('push')
    .description('send the history and snapshots to a remote (default: origin, all snapshots but auto/*)')
    .argument('[remote]', 'the remote to push to (default: origin)')
    .argument('[snapshots...]', 'only these snapshots')
    .option('-f, --force', 'replace snapshots that exist on the remote with other content')
    .option('--force-main', "replace the remote's main when another machine pushed history there (that history is dropped from it)")
    .option('--allow-secrets', 'push even when the history seems to hold a credential')
    .addHelpText('after', examples('pyctl push', 'pyctl push origin ml-stack', 'PYCTL_GIT_TOKEN=ghp_... pyctl push', 'pyctl push origin ml-stack --force', 'pyctl push --force-main'))
    .action(run(async (ctx, remoteName, snapshots, o) => (await import('./commands/push.js')).push(ctx, remoteName, snapshots, o)));

  program
    .command('fetch')
    .description("bring a remote's snapshots in as REMOTE/NAME (your own snapshots are never changed)")
    .argument('[remote]', 'the remote to fetch from (default: origin)')
    .addHelpText('after', examples('pyctl fetch', 'pyctl fetch origin && pyctl diff origin/ml-stack now'))
    .action(run(async (ctx, remoteName) => (await import('./commands/fetch.js')).fetch(ctx, remoteName)));

  program
    .command('undo')
    .description('roll back the last COUNT operations (default 1), or back to the state after operation N (--to N), as a new operation')
    .argument('[COUNT]', 'how many operations to roll back (a count, not an operation number: see --to)')
    .option('--to <N>', 'go back to the state right after operation N (the number pyctl history shows)')
    .option('-n, --dry-run', 'print what would change and change nothing')
    .addHelpText(
      'after',
      '\nUndoing an undo is a redo (see pyctl redo); every undo is itself an operation, so nothing is lost.\n' +
        examples('pyctl undo            # the last operation', 'pyctl undo 3          # the last three', 'pyctl undo --to 12    # back to how it was after operation 12', 'pyctl undo --dry-run'),
    )
    .action(
      run(async (ctx, n, o) =>
        (await import('./commands/undo.js')).undo(ctx, n === undefined ? undefined : positiveInt(n, 'COUNT'), {
          dryRun: o.dryRun,
          to: o.to === undefined ? undefined : nonNegativeInt(o.to, '--to'),
        }),
      ),
    );

  program
    .command('redo')
    .description('take back the last undo (or the last N undos), as a new operation')
    .argument('[N]', 'how many undos to take back', '1')
    .option('-n, --dry-run', 'print what would change and change nothing')
    .addHelpText('after', examples('pyctl undo && pyctl redo', 'pyctl redo --dry-run'))
    .action(run(async (ctx, n, o) => (await import('./commands/undo.js')).redo(ctx, positiveInt(n, 'N'), o)));

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
    .description('make the venv match a snapshot, an operation number, a pinned requirements file or a pylock.toml, recorded as a new operation')
    .argument('[name|N]', 'a snapshot name, an operation number from pyctl history, or @TIME')
    .option('-f, --file <file>', 'a requirements/freeze file of exact pins (name==version), or a PEP 751 *.toml lock file (pip lock, uv, pyctl export), to match instead')
    .option('--at <time>', "the last state at or before that time: ISO 8601 (local time without a zone) or 'N minutes|hours|days|weeks ago'")
    .option('-n, --dry-run', 'print the plan and change nothing')
    .addHelpText(
      'after',
      examples(
        'pyctl restore dev-tools',
        'pyctl restore 12',
        'pyctl restore baseline --dry-run',
        'pyctl restore --file requirements.txt',
        'pyctl restore --file pylock.toml',
        "pyctl restore --at '3 hours ago'",
        'pyctl restore @2026-12-01T09:00',
      ),
    )
    .action(run(async (ctx, ref, o) => (await import('./commands/restore.js')).restore(ctx, oneState(ref, o.at, 'restore'), o)));

  program
    .command('list-snapshots')
    .description('list snapshots: name, date, package count, whether it matches now, message')
    .option('-a, --all', 'include automatic snapshots (auto/…) made before undo/restore/clean, and fetched ones')
    .option('-r, --remote [name]', "show the snapshots fetched from a remote (REMOTE/NAME; default: every remote's)")
    .addHelpText('after', examples('pyctl list-snapshots', 'pyctl list-snapshots --remote origin', 'pyctl list-snapshots --json'))
    .action(run(async (ctx, o) => (await import('./commands/snapshot.js')).listSnapshots(ctx, o)));

  program
    .command('clean')
    .description('delete and recreate the venv (history and snapshots are kept), recorded as an operation')
    .option('--keep-baseline', "recreate it, then restore the 'baseline' snapshot")
    .option('-n, --dry-run', 'say what would happen and change nothing')
    .addHelpText('after', examples('pyctl clean', 'pyctl clean --keep-baseline', 'pyctl undo    # changed your mind: brings the packages back'))
    .action(run(async (ctx, o) => (await import('./commands/clean.js')).clean(ctx, o)));

  program
    .command('export')
    .description('print a requirements file (or a PEP 751 pylock.toml) for a recorded state (default: now)')
    .argument('[name|N]', 'a snapshot name, an operation number or @TIME (default: the current state)')
    .option('--hashes', "pin each version with --hash=sha256:… of the file pip installed (else the index's, else the kept wheel's; for pip install --require-hashes)")
    .option('--format <format>', "requirements (default) or pylock: a PEP 751 lock file with each file's url, size and sha256")
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .option('--at <time>', "the last state at or before that time (ISO 8601 or 'N days ago')")
    .addHelpText(
      'after',
      examples(
        'pyctl export > requirements.txt',
        'pyctl export dev-tools -o dev-tools.txt',
        'pyctl export --hashes -o locked.txt && pip install --require-hashes -r locked.txt',
        'pyctl export --format pylock -o pylock.toml   # then on another machine: pyctl restore --file pylock.toml',
        "pyctl export --at '1 day ago' > before.txt",
      ),
    )
    .action(run(async (ctx, ref, o) => (await import('./commands/export.js')).exportState(ctx, oneState(ref, o.at, 'export'), o)));

  program
    .command('autoremove')
    .description('uninstall packages that nothing you asked for needs any more, recorded as an undoable operation')
    .option('-n, --dry-run', 'print what would be removed and change nothing')
    .addHelpText('after', examples('pyctl autoremove --dry-run', 'pip uninstall black && pyctl autoremove   # also drops click, …', 'pyctl undo    # brings them back'))
    .action(run(async (ctx, o) => (await import('./commands/autoremove.js')).autoremove(ctx, o)));

  program
    .command('why')
    .description('which packages you asked for pull PKG in, with the chain (black -> click)')
    .argument('<pkg>', 'an installed package (any spelling: Foo_Bar, foo-bar)')
    .addHelpText('after', examples('pyctl why click', 'pyctl why urllib3 --json'))
    .action(run(async (ctx, pkg) => (await import('./commands/autoremove.js')).why(ctx, pkg)));

  program
    .command('wheelhouse')
    .description('show what undo/restore keep (stored packages and wheels), what is shared with the venv and what only history needs; --prune removes what no state needs')
    .option('--prune', 'remove wheels and stored packages that no recorded state or snapshot refers to, and link-store files nothing needs')
    .option('--list', 'name every kept wheel and stored package')
    .option('--build', 'make a wheel file of every stored package a recorded state refers to (e.g. to copy the wheelhouse elsewhere)')
    .addHelpText('after', examples('pyctl wheelhouse', 'pyctl wheelhouse --list', 'pyctl wheelhouse --build', 'pyctl wheelhouse --prune'))
    .action(run(async (ctx, o) => (await import('./commands/wheelhouse.js')).wheelhouse(ctx, o)));

  program
    .command('setup-shell')
    .description('put the venv first on PATH in your shell start-up files, as ./install.sh does (for npm install -g); --remove takes it out')
    .option('--remove', 'remove the PATH block from every start-up file')
    .addHelpText('after', examples('npm install -g ./pyctl-0.1.0.tgz && pyctl init && pyctl setup-shell', 'pyctl setup-shell --remove'))
    .action(run(async (ctx, o) => (await import('./commands/setup-shell.js')).setupShell(ctx, o)));

  program
    .command('completion')
    .description('print a shell completion script (install.sh installs it for you)')
    .addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh', 'fish']))
    .addHelpText('after', examples('source <(pyctl completion bash)', 'pyctl completion zsh > ~/.zfunc/_pyctl', 'pyctl completion fish > ~/.config/fish/completions/pyctl.fish'))
    .action(async (shell: string) => {
      process.stdout.write((await import('./commands/completion.js')).completionScript(program, shell));
    });

  program
    .command('_complete', { hidden: true })
    .description('words for shell completion: snapshots, ops or states (fast: reads refs directly)')
    .argument('<what>')
    .action(async (what: string) => {
      const { completeWords } = await import('./commands/completion.js');
      const words = completeWords(what, program.opts<GlobalOpts>().home);
      if (words.length) process.stdout.write(words.join('\n') + '\n');
    });

  program
    .command('doctor')
    .description('check the venv, its Python, PATH, the pip hook, the state repo, drift and config; --fix repairs')
    .option('--fix', 'repair what can be repaired (PATH block, hook, stale lock, drift, broken venv, damaged state repo)')
    .option('--python <path|version>', 'the Python to rebuild a broken venv with (default: the same version, else python3)')
    .option('--drop-missing', 'with --fix: rebuild even if some packages have no build for the new Python, leaving them out (listed)')
    .addHelpText('after', examples('pyctl doctor', 'pyctl doctor --fix', 'pyctl doctor --fix --python 3.12   # base Python upgraded: rebuild on 3.12', 'pyctl doctor --json'))
    .action(run(async (ctx, o) => (await import('./commands/doctor.js')).doctor(ctx, o)));

  program
    .command('_find-python', { hidden: true })
    .description("print the Python pyctl would use for SPEC (install.sh's --python goes through here)")
    .argument('[spec]', 'a path, a version (3.12) or a command (python3.12); default python3')
    .action(
      run(async (_ctx, spec: string | undefined) => {
        const { findPython } = await import('./venv/find-python.js');
        const p = findPython(spec || undefined);
        return { text: p + '\n', json: { python: p } };
      }),
    );

  program
    .command('_record', { hidden: true })
    .description('record a pip run (called by the pip hook)')
    .requiredOption('--phase <phase>')
    .option('--pid <pid>')
    .option('--sub <name>')
    .option('--exit <status>')
    .option('--report <file>')
    .option('--wait <how>', 'stdin: started with pip, its status comes on stdin when it ends')
    .option('--since <ms>', 'when pip started (with --wait)')
    .argument('[args...]')
    .allowUnknownOption(true)
    .action(async (args: string[], o) => {
      const { recordForHook, recordAfterPip, pipEnd } = await import('./commands/record.js');
      const raw = { pid: o.pid, sub: o.sub, report: o.report, since: o.since, args };
      const r =
        o.wait === 'stdin' && o.phase === 'post'
          ? await recordAfterPip(() => context(program), raw, pipEnd(process.stdin))
          : await recordForHook(() => context(program), { ...raw, phase: o.phase, exit: o.exit });
      if (r.stderr) process.stderr.write(r.stderr);
      if (r.exitCode) process.exitCode = r.exitCode;
    });

  program
    .command('_maintain', { hidden: true })
    .description('pack the state repo (started in the background by a record)')
    .option('--force', 'pack even when few objects are loose')
    .action(async (o) => {
      const { maintain } = await import('./gitstore/maintain.js');
      const { sweepStore } = await import('./wheel/link-store.js');
      const { referencedNames } = await import('./wheel/package-store.js');
      const { paths } = openHome(program.opts<GlobalOpts>().home);
      await maintain(paths, { force: !!o.force });
      // Files a stored package needs are history, not cache: only `wheelhouse --prune` drops them.
      sweepStore(paths.store, Date.now(), undefined, referencedNames({ files: paths.store, packages: paths.packages }));
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

/** Commander's errors in pyctl's shape: one `error:` line, then at most one `hint:` line. */
export function commanderError(str: string): string {
  const lines = str
    .trim()
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const error = lines.find((l) => l.startsWith('error:')) ?? `error: ${lines[0] ?? 'wrong usage'}`;
  const mean = lines.map((l) => /^\(Did you mean (.+)\?\)$/.exec(l)).find(Boolean);
  let hint = mean ? `did you mean ${mean[1]}?` : '';
  if (!hint && /unknown command/.test(error)) hint = "see 'pyctl --help' for the commands";
  else if (!hint && /unknown option|too many arguments|missing required|argument missing/.test(error)) hint = "see 'pyctl help COMMAND' for its arguments and options";
  return `${error}\n${hint ? `hint: ${hint}\n` : ''}`;
}

export async function main(argv: string[]): Promise<number> {
  setPauseSignal((line) => process.stderr.write(line));
  const program = buildProgram();
  program.exitOverride();
  const outputError = (str: string, write: (s: string) => void) => write(commanderError(str));
  program.configureOutput({ outputError });
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  for (const c of all(program)) {
    c.exitOverride();
    c.configureOutput({ outputError });
  }
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
    if (isErrnoError(e)) {
      process.stderr.write(`error: ${osErrorLine(e)}\nhint: ${osErrorHint(e)}\n`);
      if (verbose) process.stderr.write(`${e.stack}\n`);
      return 1;
    }
    process.stderr.write(`error: ${(e as Error)?.message ?? String(e)}\n`);
    process.stderr.write(verbose ? `${(e as Error)?.stack}\n` : 'hint: this is a bug in pyctl; run again with --verbose for details\n');
    return 1;
  }
}

void main(process.argv).then((code) => {
  process.exitCode = code;
  if (exitAtOnce) process.stdout.write('', () => process.stderr.write('', () => process.exit()));
});
