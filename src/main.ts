#!/usr/bin/env node
/**
 * The program's entry. Two hot paths take a lane that skips the command-line parser and the rest
 * of the CLI: `pyctl status` in its common case (lanes/status.ts) and the pip hook's
 * `pyctl _record` (lanes/record.ts). Each is its own small module in dist/ (src/build.mjs),
 * status.cjs and record.cjs, run with V8's code cache (code-cache.ts); a lane that returns false
 * hands over to cli.ts, built as dist/cli.cjs and run the same way. Built as CommonJS
 * (dist/package.json says so): Node's ES module loader cost every command ~12 ms of CPU before
 * any of our code ran.
 */
import { fileURLToPath } from 'node:url';
import { runModule } from './code-cache.js';
import { guardOutput } from './os-error.js';

/** The build's ids for dist/cli.cjs, dist/record.cjs and dist/status.cjs (src/build.mjs). */
declare const PYCTL_CLI_ID: string;
declare const PYCTL_RECORD_ID: string;
declare const PYCTL_STATUS_ID: string;

const args = process.argv.slice(2);
// A closed pipe or a full disk on stdout is one line or nothing, never a stack trace.
guardOutput();

/** A lane's promise (true: it did the command), or false: the CLI's. No top-level await: this is CommonJS. */
function lane(): Promise<boolean> | false {
  if (args[0] === 'status' && args.slice(1).every((a) => a === '--json' || a === '--no-color')) {
    const file = fileURLToPath(new URL('./status.cjs', import.meta.url));
    return (runModule(file, 'status', PYCTL_STATUS_ID, 'status') as typeof import('./lanes/status.js')).fastStatus(args);
  }
  if (args[0] === '_record') {
    // A CommonJS body run with V8's code cache, as the CLI is; pip's subcommand names the
    // functions a first run adds to it (an install and an uninstall take different paths).
    const sub = args[args.indexOf('--sub') + 1] ?? '';
    const file = fileURLToPath(new URL('./record.cjs', import.meta.url));
    const m = runModule(file, 'record', PYCTL_RECORD_ID, `_record ${/^[a-z-]+$/.test(sub) ? sub : ''}`) as typeof import('./lanes/record.js');
    return m.recordLane(args);
  }
  return false;
}

const cli = () => runModule(fileURLToPath(new URL('./cli.cjs', import.meta.url)), 'cli', PYCTL_CLI_ID);
const taken = lane();
if (taken === false) cli();
else
  void taken.then((done) => {
    if (!done) cli();
  });
