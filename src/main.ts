#!/usr/bin/env node
/**
 * The program's entry. `pyctl status` in its common case takes a fast lane (commands/status-fast.ts)
 * that skips loading the command-line parser and git; everything else goes to cli.ts.
 */
const args = process.argv.slice(2);
const quick = args[0] === 'status' && args.slice(1).every((a) => a === '--json' || a === '--no-color');
if (!(quick && (await (await import('./commands/status-fast.js')).fastStatus(args)))) await import('./cli.js');
