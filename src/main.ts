#!/usr/bin/env node
/**
 * The program's entry. Two hot paths take a lane that skips the command-line parser and the rest
 * of the CLI: `pyctl status` in its common case (lanes/status.ts) and the pip hook's
 * `pyctl _record` (lanes/record.ts). Each is its own small module in dist/ (src/build.mjs);
 * a lane that returns false hands over to cli.ts, built as dist/cli.cjs and run with V8's code
 * cache (code-cache.ts). Built as CommonJS (dist/package.json says so; the lanes and vendor are
 * .mjs): Node's ES module loader cost every command ~12 ms of CPU before any of our code ran.
 */
import { fileURLToPath } from 'node:url';
import { runCli } from './code-cache.js';
import { guardOutput } from './os-error.js';

/** The build's id for dist/cli.cjs (src/build.mjs). */
declare const PYCTL_CLI_ID: string;

const args = process.argv.slice(2);
// A closed pipe or a full disk on stdout is one line or nothing, never a stack trace.
guardOutput();

/** A lane's promise (true: it did the command), or false: the CLI's. No top-level await: this is CommonJS. */
function lane(): Promise<boolean> | false {
  if (args[0] === 'status' && args.slice(1).every((a) => a === '--json' || a === '--no-color')) {
    return import('./lanes/status.js').then((m) => m.fastStatus(args));
  }
  if (args[0] === '_record') return import('./lanes/record.js').then((m) => m.recordLane(args));
  return false;
}

const cli = () => runCli(fileURLToPath(new URL('./cli.cjs', import.meta.url)), PYCTL_CLI_ID);
const taken = lane();
if (taken === false) cli();
else
  void taken.then((done) => {
    if (!done) cli();
  });
