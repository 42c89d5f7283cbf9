#!/usr/bin/env node
/**
 * The program's entry. Two hot paths take a lane that skips the command-line parser and the rest
 * of the CLI: `pyctl status` in its common case (lanes/status.ts) and the pip hook's
 * `pyctl _record` (lanes/record.ts). Each is its own small module in dist/ (src/build.mjs);
 * a lane that returns false hands over to cli.ts, built as dist/cli.cjs and run with V8's code
 * cache (code-cache.ts).
 */
import { fileURLToPath } from 'node:url';
import { runCli } from './code-cache.js';
import { guardOutput } from './os-error.js';

/** The build's id for dist/cli.cjs (src/build.mjs). */
declare const PYCTL_CLI_ID: string;

const args = process.argv.slice(2);
// A closed pipe or a full disk on stdout is one line or nothing, never a stack trace.
guardOutput();

async function lane(): Promise<boolean> {
  if (args[0] === 'status' && args.slice(1).every((a) => a === '--json' || a === '--no-color')) {
    return (await import('./lanes/status.js')).fastStatus(args);
  }
  if (args[0] === '_record') return (await import('./lanes/record.js')).recordLane(args);
  return false;
}

if (!(await lane())) runCli(fileURLToPath(new URL('./cli.cjs', import.meta.url)), PYCTL_CLI_ID);
