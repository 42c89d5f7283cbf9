/** Run the built pyctl and a venv's pip as real processes, hermetically. */
import { execa } from 'execa';
import { join, resolve } from 'node:path';
import { hermeticEnv } from './env.js';

export const CLI = resolve(__dirname, '../../dist/pyctl.js');

export interface Run {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export async function pyctl(home: string, args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  const r = await execa(process.execPath, [CLI, ...args], {
    env: hermeticEnv({ PYCTL_HOME: home, NO_COLOR: '1', ...env }),
    extendEnv: false,
    reject: false,
  });
  return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Run pip in a venv the way a user would, offline against a folder of test wheels. */
export async function pip(venv: string, args: string[], opts: { wheels?: string; how?: string[]; env?: Record<string, string | undefined> } = {}): Promise<Run> {
  const how = opts.how ?? [join(venv, 'bin', 'pip')];
  const env = hermeticEnv({ PIP_NO_INDEX: '1', ...(opts.wheels ? { PIP_FIND_LINKS: opts.wheels } : {}), ...opts.env });
  const r = await execa(how[0], [...how.slice(1), ...args], { env, extendEnv: false, reject: false });
  return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The real git CLI on a state repo. */
export async function git(home: string, args: string[]): Promise<string> {
  const r = await execa('git', ['-C', home, ...args], { env: hermeticEnv({ GIT_CONFIG_NOSYSTEM: '1', HOME: home }), extendEnv: false });
  return r.stdout;
}
