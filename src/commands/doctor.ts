/**
 * pyctl doctor [--fix] [--python X]: check the venv, its base Python, PATH, the shell start-up
 * block, the recording hook, the state repo, the lock, drift and config.toml; with --fix, repair
 * each (docs/doctor.md). Exit status 1 while a problem remains, 0 when all are ok or warnings.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { rebuildRepo } from '../doctor/repair-repo.js';
import { leftoverVenvs, rebuildVenv } from '../operations/rebuild-venv.js';
import { addShellBlock, filesWithBlock, startupFiles } from '../doctor/shell.js';
import { PyctlError } from '../errors.js';
import { recordState } from '../operations/record.js';
import { venvMoved } from '../operations/stamp.js';
import { defaultHome, FREEZE_FILE } from '../paths.js';
import { changeLine, diffSets } from '../plan/changes.js';
import { hookState, installHook } from '../pip/hook.js';
import { clearStale, holderAlive, readLock, withLock } from '../gitstore/lock.js';
import { parseFreeze, readFreeze } from '../venv/freeze.js';
import { pickPython, venvHealth } from '../venv/health.js';
import { sweepTrash, trashVenvs } from './clean.js';
import type { Context, Output } from '../operations/context.js';
import { snapshotCounts } from '../gitstore/refs.js';
import { snapshotsLine } from '../render/status.js';
import { pathReport } from './status.js';

export type Status = 'ok' | 'warning' | 'problem';

/** One line of the report; `--json` prints a list of these (the first four keys are stable). */
export interface CheckResult {
  check: string;
  status: Status;
  message: string;
  /** What --fix does (or, after --fix, would still do); null when nothing automatic helps. */
  fix: string | null;
  /** With --fix: what was done for this check, else null. */
  fixed: string | null;
}

interface Check extends CheckResult {
  /** Repair; returns what was done. Runs under the home's lock (but the lock and shell fixes). */
  apply?: () => Promise<string>;
}

export interface DoctorOptions {
  fix?: boolean;
  python?: string;
}

const ORDER = ['lock', 'state-repo', 'snapshots', 'leftovers', 'trash', 'venv', 'drift', 'hook', 'shell-startup'];
const tilde = (p: string) => {
  const h = process.env.HOME || homedir();
  return p.startsWith(h + '/') ? '~' + p.slice(h.length) : p;
};

async function runChecks(ctx: Context, opts: DoctorOptions): Promise<Check[]> {
  const { home } = ctx;
  const { paths, repo } = home;
  const out: Check[] = [];
  const add = (c: Omit<Check, 'fixed'>) => out.push({ ...c, fixed: null });

  // venv and its base Python (files only, no Python started)
  const health = venvHealth(paths.venv);
  const leftovers = leftoverVenvs(paths.venv);
  const restorable = leftovers.find((d) => venvHealth(d).status === 'ok');
  let python: string | null = null;
  let noPython = '';
  if (health.status !== 'ok' || opts.python) {
    try {
      python = pickPython(paths.venv, opts.python, health.version);
    } catch (e) {
      noPython = (e as Error).message;
    }
  }
  if (health.status === 'ok') {
    add({ check: 'venv', status: 'ok', message: `${paths.venv} runs Python ${health.version} (base ${health.base})`, fix: null });
  } else if (restorable) {
    add({
      check: 'venv',
      status: 'problem',
      message: `${health.problem}; an interrupted rebuild or clean left the previous venv at ${restorable}`,
      fix: `put ${restorable} back`,
      apply: async () => {
        rmSync(paths.venv, { recursive: true, force: true });
        renameSync(restorable, paths.venv);
        return `put the previous venv back from ${restorable}`;
      },
    });
  } else {
    add({
      check: 'venv',
      status: 'problem',
      message: `the venv is ${health.status}: ${health.problem}`,
      fix: python ? `build a new venv with ${python} and reinstall the recorded packages (wheelhouse first); the old one is kept until the new one works` : null,
      apply: python
        ? async () => {
            const r = await rebuildVenv(home, { python: python, subject: rebuildSubject, note: ctx.note, verbose: ctx.verbose });
            const parts = [`rebuilt the venv on Python ${r.to}${r.from && r.from !== r.to ? ` (was ${r.from})` : ''} in ${(r.ms / 1000).toFixed(1)} s: ${r.reinstalled} package(s) reinstalled${r.op !== null ? `, recorded as operation ${r.op}` : ''}`];
            for (const s of r.seedChanges) parts.push(`  ${s}`);
            if (r.notReinstalled.length) parts.push(`  could not reinstall ${r.notReinstalled.length}:`, ...r.notReinstalled.map((n) => `    ${n}`));
            return parts.join('\n');
          }
        : undefined,
    });
    if (!python) out[out.length - 1].message += ` (no Python to rebuild it with: ${noPython})`;
  }
  const venvOk = health.status === 'ok';
  // A healthy venv beside venv.old-*: finished (delete them) or half-built (put the old one back)?
  let halfBuilt = false;
  if (venvOk && leftovers.length) {
    let recorded: string | null = null;
    try {
      const h = repo.exists() ? await repo.headOid() : null;
      recorded = h ? await repo.readAt(h, FREEZE_FILE) : null;
    } catch {
      // unreadable history: cannot tell; keep the leftovers
    }
    halfBuilt = !!restorable && recorded !== null && diffSets(parseFreeze(recorded), parseFreeze(readFreeze(paths.venv))).length > 0;
    if (halfBuilt) {
      add({
        check: 'leftovers',
        status: 'problem',
        message: `an interrupted rebuild left the previous venv at ${restorable}, and the venv does not match the recorded state (half-built?)`,
        fix: `put ${restorable} back (the current venv goes to ${paths.venv}.half-built)`,
        apply: async () => {
          rmSync(`${paths.venv}.half-built`, { recursive: true, force: true });
          renameSync(paths.venv, `${paths.venv}.half-built`);
          renameSync(restorable!, paths.venv);
          return `put the previous venv back from ${restorable}; the half-built one is at ${paths.venv}.half-built`;
        },
      });
    } else
      add({
        check: 'leftovers',
        status: 'warning',
        message: `left by an interrupted rebuild or clean: ${leftovers.join(', ')}`,
        fix: recorded === null ? null : 'delete them (the venv in use is healthy and matches the recorded state)',
        apply:
          recorded === null
            ? undefined
            : async () => {
                for (const d of leftovers) rmSync(d, { recursive: true, force: true });
                return `deleted ${leftovers.length} leftover venv(s)`;
              },
      });
  }

  // Old venvs 'pyctl clean' deletes in the background, left when the machine went down first.
  // Never needed again (clean recorded its new venv before trashing the old one): disk space only.
  const trash = trashVenvs(paths.venv);
  if (trash.length)
    add({
      check: 'trash',
      status: 'warning',
      message: `'pyctl clean' did not finish deleting ${trash.length} old venv(s) (wasted disk space): ${trash.join(', ')}`,
      fix: 'delete them (old venvs that pyctl clean replaced; the venv in use is not touched)',
      apply: async () => `deleted ${sweepTrash(paths.venv).length} old venv(s)`,
    });

  // the recording hook
  if (!existsSync(paths.venv) || health.status !== 'ok') {
    add({ check: 'hook', status: 'warning', message: 'not checked: the venv is not usable', fix: 'installed with the rebuilt venv' });
  } else {
    const h = hookState(paths);
    if (h === 'ok') add({ check: 'hook', status: 'ok', message: 'the pip recording hook is in place', fix: null });
    else
      add({
        check: 'hook',
        status: 'problem',
        message: h === 'missing' ? 'the pip recording hook is missing: pip runs are not recorded' : 'the pip recording hook is out of date (written by an older pyctl, or for another pyctl copy or home)',
        fix: 'reinstall the hook',
        apply: async () => {
          installHook(paths);
          return 'reinstalled the pip recording hook';
        },
      });
  }

  // PATH, and the shell start-up block
  const p = pathReport(paths.venv);
  const blocks = filesWithBlock();
  if (p.projectVenv) add({ check: 'path', status: 'ok', message: `project venv ${p.projectVenv} is active (fine: deactivate to return to the user venv)`, fix: null });
  else if (p.ours) add({ check: 'path', status: 'ok', message: `pip and python3 are the user venv's (${join(paths.venv, 'bin')})`, fix: null });
  else
    add({
      check: 'path',
      status: 'problem',
      message: `${join(paths.venv, 'bin')} is not first on PATH: pip is ${p.pip ?? 'not found'}, python3 is ${p.python ?? 'not found'}`,
      fix: blocks.length ? `open a new shell (or source ${tilde(blocks[0])}): its PATH block puts the venv first` : 'add the PATH block (see shell-startup), then open a new shell',
    });
  if (blocks.length) add({ check: 'shell-startup', status: 'ok', message: `PATH block in ${blocks.map(tilde).join(', ')}`, fix: null });
  else
    add({
      check: 'shell-startup',
      status: 'warning',
      message: `no '# >>> pyctl >>>' PATH block in ${startupFiles().map(tilde).join(', ')}`,
      fix: 'add the PATH block to the shell start-up files (as install.sh does)',
      apply: async () => `PATH block: ${addShellBlock(paths.home, defaultHome({ ...process.env, PYCTL_HOME: undefined })).map(tilde).join(', ')}`,
    });

  // the state repo
  let max = 100;
  try {
    max = home.config.history.max_entries;
  } catch {
    // reported by the config check
  }
  let repoOk = false;
  let head: string | null = null;
  const repoFix = existsSync(paths.venv) && existsSync(join(paths.venv, 'pyvenv.cfg'));
  if (!repo.exists()) {
    add({
      check: 'state-repo',
      status: 'problem',
      message: `${paths.gitDir} is missing${existsSync(paths.gitDir) ? ' its HEAD' : ''}: history is not recorded`,
      fix: repoFix ? `${existsSync(paths.gitDir) ? `move ${paths.gitDir} aside, then ` : ''}start a new history with one commit of the venv's packages` : "run 'pyctl init'",
      apply: repoFix ? async () => repoRepaired(await rebuildRepo(home)) : undefined,
    });
  } else {
    const t = Date.now();
    const v = await repo.verify(max);
    if (v.problems.length) {
      const tags = await repo.readableTags();
      add({
        check: 'state-repo',
        status: 'problem',
        message: `the state repo is damaged: ${v.problems[0]}${v.problems.length > 1 ? ` (and ${v.problems.length - 1} more)` : ''}`,
        fix: repoFix ? `move ${paths.gitDir} aside to .git.corrupt-<time> and start a new history from the venv, keeping ${tags.length} readable snapshot(s); older history stays only in the moved copy` : "run 'pyctl init'",
        apply: repoFix ? async () => repoRepaired(await rebuildRepo(home)) : undefined,
      });
    } else {
      repoOk = true;
      head = await repo.headOid();
      const sc = snapshotCounts(paths.gitDir);
      add({ check: 'state-repo', status: 'ok', message: `${v.commits} commit(s) (the newest ${Math.min(max, v.commits)} read in full); snapshots: ${snapshotsLine(sc.named, sc.auto)}; checked in ${Date.now() - t} ms`, fix: null });
      // A bad tag is never a reason to touch the history: it is reported (and removed) alone.
      const list = (xs: { name: string; why: string }[]) => xs.map((x) => `'${x.name}' (${x.why})`).join(', ');
      const removedLog = join(paths.runtime, 'removed-tags');
      if (v.tagProblems.length)
        add({
          check: 'snapshots',
          status: 'problem',
          message: `${v.tagProblems.length} snapshot(s) cannot be read: ${list(v.tagProblems)}`,
          fix: `remove the unreadable snapshot tag(s) (name and id noted in ${removedLog}); history and the other snapshots stay`,
          apply: async () => `removed ${(await repo.removeTags(v.tagProblems.map((x) => x.name), removedLog)).join(', ')} (noted in ${removedLog})`,
        });
      else if (v.foreignTags.length)
        add({ check: 'snapshots', status: 'warning', message: `tag(s) made outside pyctl that are not snapshots, skipped: ${list(v.foreignTags)}`, fix: null });
    }
  }

  // the lock
  const holder = readLock(paths.lock);
  if (!holder) add({ check: 'lock', status: 'ok', message: 'no lock held', fix: null });
  else if (holderAlive(holder)) add({ check: 'lock', status: 'warning', message: `held by pid ${holder.pid} (${holder.what}), which is still running`, fix: null });
  else
    add({
      check: 'lock',
      status: 'problem',
      message: `stale lock ${paths.lock}: its holder pid ${holder.pid} (${holder.what}) is gone`,
      fix: 'remove the stale lock',
      apply: async () => (clearStale(paths.lock) ? `removed the stale lock of pid ${holder.pid}` : 'the lock was already released'),
    });

  // drift: the venv against the last recorded state
  const site = existsSync(join(paths.venv, 'pyvenv.cfg'));
  if (!repoOk || !head) add({ check: 'drift', status: 'warning', message: 'not checked: no readable recorded state', fix: repoOk ? null : 'the rebuilt state repo records the venv as it is' });
  else if (!site) add({ check: 'drift', status: 'warning', message: 'not checked: the venv is missing', fix: null });
  else if (halfBuilt || (!venvOk && restorable)) add({ check: 'drift', status: 'warning', message: 'not checked: an interrupted rebuild left the previous venv beside this one (see venv/leftovers)', fix: null });
  else if (!venvMoved(paths)) add({ check: 'drift', status: 'ok', message: 'the venv matches the last recorded state', fix: null });
  else {
    let changes: ReturnType<typeof diffSets> = [];
    try {
      changes = diffSets(parseFreeze((await repo.readAt(head, FREEZE_FILE)) ?? ''), parseFreeze(readFreeze(paths.venv)));
    } catch {
      // unreadable site-packages: the venv check says why
    }
    if (!changes.length) add({ check: 'drift', status: 'ok', message: 'the venv matches the last recorded state', fix: null });
    else
      add({
        check: 'drift',
        status: 'problem',
        message: `the venv changed outside pip since the last record: ${changes.slice(0, 5).map(changeLine).join(', ')}${changes.length > 5 ? `, … (${changes.length})` : ''}`,
        fix: 'record it as an external change (undo can then take it back)',
        apply: async () => {
          const rec = await recordState(home, { subject: 'external change (found by pyctl doctor)', kind: 'external' });
          return rec ? `recorded as operation ${rec.op} (external change)` : 'nothing to record any more';
        },
      });
  }

  // config.toml
  try {
    const warnings = home.configWarnings;
    add({ check: 'config', status: warnings.length ? 'warning' : 'ok', message: warnings.length ? warnings.join('; ') : `${paths.config} parses`, fix: null });
  } catch (e) {
    add({ check: 'config', status: 'problem', message: (e as Error).message, fix: null });
    out[out.length - 1].message += ' (no automatic fix: edit the file; pyctl never rewrites it)';
  }
  return out;
}

function rebuildSubject(from: string | undefined, to: string): string {
  return `pyctl doctor --fix: rebuilt the venv on Python ${to}${from && from !== to ? ` (was ${from})` : ''}`;
}

function repoRepaired(r: Awaited<ReturnType<typeof rebuildRepo>>): string {
  const lines = [`started a new history${r.op !== null ? ` (operation ${r.op}: the venv as it is now)` : ''}`];
  if (r.aside) lines.push(`  the damaged repo is kept at ${r.aside}${r.oldCommits ? ` (${r.oldCommits} readable commit(s)${r.oldLastOp !== undefined ? `, last operation ${r.oldLastOp}` : ''}: that history is lost from 'pyctl history')` : ''}`);
  if (r.keptTags.length) lines.push(`  kept snapshot(s): ${r.keptTags.join(', ')}`);
  if (r.lostTags.length) lines.push(`  lost snapshot(s) (unreadable): ${r.lostTags.join(', ')}`);
  return lines.join('\n');
}

const DISPLAY = ['venv', 'leftovers', 'trash', 'hook', 'path', 'shell-startup', 'state-repo', 'snapshots', 'lock', 'drift', 'config'];

export async function doctor(ctx: Context, opts: DoctorOptions): Promise<Output> {
  const { home, paint: p } = ctx;
  let checks = await runChecks(ctx, opts);
  const fixed = new Map<string, string>();
  const failed = new Map<string, string>();
  if (opts.fix) {
    const attempt = async (c: Check) => {
      try {
        fixed.set(c.check, await c.apply!());
      } catch (e) {
        failed.set(c.check, e instanceof PyctlError && e.hint ? `${e.message} (${e.hint})` : (e as Error).message);
      }
    };
    const needs = (all: Check[], name: string) => all.find((x) => x.check === name && x.status !== 'ok' && x.apply);
    const lock = needs(checks, 'lock');
    if (lock) await attempt(lock);
    await withLock(home.paths.lock, 'pyctl doctor --fix', async () => {
      // Fixes depend on each other (a new repo records the venv, a rebuild reinstalls the hook,
      // a put-back venv may show drift): check again before each, in dependency order.
      for (const name of ORDER) {
        if (name === 'lock' || name === 'shell-startup') continue;
        const c = needs(await runChecks(ctx, opts), name);
        if (c) await attempt(c);
      }
    });
    const shell = needs(await runChecks(ctx, opts), 'shell-startup');
    if (shell) await attempt(shell);
    checks = await runChecks(ctx, opts);
    // A fix that removed its finding (leftovers, trash) still says what it did.
    for (const name of fixed.keys())
      if (!checks.some((c) => c.check === name)) checks.push({ check: name, status: 'ok', message: 'none left', fix: null, fixed: null });
  }
  const results: CheckResult[] = checks
    .sort((a, b) => DISPLAY.indexOf(a.check) - DISPLAY.indexOf(b.check))
    .map(({ check, status, message, fix }) => ({ check, status, message, fix, fixed: fixed.get(check) ?? (failed.has(check) ? `failed: ${failed.get(check)}` : null) }));
  const problems = results.filter((r) => r.status === 'problem').length;
  const warnings = results.filter((r) => r.status === 'warning').length;
  const colour = (s: Status) => (s === 'ok' ? p.green('ok     ') : s === 'warning' ? p.yellow('warning') : p.red('PROBLEM'));
  const w = Math.max(...results.map((r) => r.check.length));
  const pad = ' '.repeat(13 + w);
  const lines = [`pyctl doctor: ${home.paths.home}`];
  for (const r of results) {
    lines.push(`  ${colour(r.status)}  ${r.check.padEnd(w)}  ${r.message}`);
    if (r.fixed) lines.push(...r.fixed.split('\n').map((l, i) => `${pad}${i ? '' : r.fixed!.startsWith('failed') ? 'fix ' : 'fixed: '}${l}`));
    // 'fix:' is what --fix would do; 'to do:' is advice --fix cannot carry out.
    const canFix = checks.some((c) => c.check === r.check && c.apply);
    if (r.status !== 'ok' && r.fix) lines.push(`${pad}${opts.fix || !canFix ? 'to do' : 'fix'}: ${r.fix}`);
  }
  // --fix is suggested only when it would repair something found.
  const fixable = checks.filter((c) => c.status !== 'ok' && c.apply).length;
  const advice = opts.fix ? '' : fixable ? `: run 'pyctl doctor --fix' to repair ${fixable === problems + warnings ? 'them' : `${fixable} of them`}` : ": --fix cannot repair these; see each 'to do:' line";
  const summary = problems
    ? `${problems} problem(s), ${warnings} warning(s)${advice}`
    : warnings
      ? `no problems, ${warnings} warning(s)`
      : 'everything is ok';
  lines.push(summary);
  return { text: lines.join('\n') + '\n', json: results, exitCode: problems ? 1 : 0 };
}
