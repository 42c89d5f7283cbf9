/**
 * Every doctor check, in the order the report shows them. Fixes run in this order too, except
 * that a check's `after` names the checks whose repairs must come first (see run.ts).
 */
import type { Check } from '../check.js';
import { bisect } from './bisect.js';
import { config } from './config.js';
import { drift } from './drift.js';
import { hook } from './hook.js';
import { leftovers } from './leftovers.js';
import { lock } from './lock.js';
import { packages } from './packages.js';
import { path } from './path.js';
import { shellStartup } from './shell-startup.js';
import { snapshots } from './snapshots.js';
import { stateRepo } from './state-repo.js';
import { store } from './store.js';
import { trash } from './trash.js';
import { venv } from './venv.js';
import { wheelhouse } from './wheelhouse.js';

export const CHECKS: readonly Check[] = [venv, leftovers, trash, bisect, hook, path, shellStartup, stateRepo, snapshots, lock, drift, packages, store, wheelhouse, config];
