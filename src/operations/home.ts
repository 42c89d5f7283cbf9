/** An opened pyctl home: its paths, state repo and config, loaded on first use. */
import { existsSync } from 'node:fs';
import { PyctlError } from '../errors.js';
import { defaultHome, homePaths, systemHome, type HomePaths } from '../paths.js';
import { StateRepo } from '../gitstore/repo.js';
import { loadConfig, type LoadedConfig } from '../config/config.js';

export class Home {
  readonly repo: StateRepo;
  private loaded?: LoadedConfig;
  constructor(
    readonly paths: HomePaths,
    /** The root-owned system tier (`pyctl --system`), not a user's own home. */
    readonly system = false,
  ) {
    this.repo = new StateRepo(paths);
  }

  /** The config; a broken config.toml throws CONFIG_INVALID (file:line:col). */
  get config() {
    return (this.loaded ??= loadConfig(this.paths.config)).config;
  }
  get configWarnings(): string[] {
    return (this.loaded ??= loadConfig(this.paths.config)).warnings;
  }
  /** Whether config.toml parses: only then is it committed with a state. */
  configParses(): boolean {
    try {
      void this.config;
      return true;
    } catch {
      return false;
    }
  }

  initialized(): boolean {
    return this.repo.exists() && existsSync(this.paths.venv);
  }

  requireInitialized(): this {
    if (!this.repo.exists() && existsSync(this.paths.venv)) {
      // The venv is there but its history is not: doctor rebuilds the repo from the venv.
      throw new PyctlError(
        'STATE_CORRUPT',
        `the state repo ${this.paths.gitDir} is missing or damaged`,
        "run 'pyctl doctor --fix' to rebuild it from the venv (or 'pyctl init' to start a new history)",
      );
    }
    if (!this.repo.exists()) {
      if (this.system) {
        throw new PyctlError(
          'NOT_INITIALIZED',
          `there is no system venv in ${this.paths.home}`,
          "an administrator creates it with 'sudo ./install.sh --system --with-system-venv' (or 'sudo pyctl --system init')",
        );
      }
      throw new PyctlError('NOT_INITIALIZED', `pyctl is not set up in ${this.paths.home}`, "run 'pyctl init' (or ./install.sh) first");
    }
    if (!existsSync(this.paths.venv)) {
      throw new PyctlError('VENV_BROKEN', `the venv ${this.paths.venv} is missing`, `run '${this.system ? 'sudo pyctl --system' : 'pyctl'} doctor --fix' to rebuild it from the recorded state`);
    }
    return this;
  }
}

export function openHome(home?: string, opts: { system?: boolean } = {}): Home {
  const paths = homePaths(opts.system ? systemHome() : (home ?? defaultHome()));
  // Known by its marker too: the system venv's pip hook calls `_record --home <system home>`
  // without PYCTL_SYSTEM_HOME in its environment.
  return new Home(paths, !!opts.system || paths.home === systemHome() || existsSync(paths.systemMarker));
}
