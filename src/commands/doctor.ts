/**
 * pyctl doctor [--fix] [--python X]: check the venv, its base Python, PATH, the shell start-up
 * block, the recording hook, the state repo, the lock, drift and config.toml; with --fix, repair
 * each (docs/doctor.md). Exit status 1 while a problem remains, 0 when all are ok or warnings.
 * The checks are src/doctor/checks/*, one module each; src/doctor/run.ts runs them.
 */
import type { CheckResult } from '../doctor/check.js';
import { runDoctor, type DoctorOptions } from '../doctor/run.js';
import type { Context, Output } from '../operations/context.js';
import { renderDoctor } from '../render/doctor.js';

export type { CheckResult, Status } from '../doctor/check.js';
export type { DoctorOptions } from '../doctor/run.js';

export async function doctor(ctx: Context, opts: DoctorOptions): Promise<Output> {
  const results = await runDoctor(ctx, opts);
  const json: CheckResult[] = results.map(({ check, status, message, fix, fixed }) => ({ check, status, message, fix, fixed }));
  return {
    text: renderDoctor(ctx.home.paths.home, results, !!opts.fix, ctx.paint),
    json,
    exitCode: results.some((r) => r.status === 'problem') ? 1 : 0,
  };
}
