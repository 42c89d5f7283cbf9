/** The git-CLI transport: ssh, git:// and path URLs, through the remote configured in the home. */
import type { HomePaths } from '../paths.js';
import { runGit } from './git-cli.js';
import { cliError } from './hints.js';
import { BRANCH_REF, type RefUpdate, type RemoteTarget, type Transport } from './transport.js';

export class GitCliTransport implements Transport {
  readonly kind = 'git-cli' as const;
  constructor(
    private readonly target: RemoteTarget,
    private readonly paths: HomePaths,
  ) {}

  async listRefs(forPush: boolean): Promise<Map<string, string>> {
    // By URL, not remote name: init --from asks before the home (and its config) exists.
    const r = await runGit(['ls-remote', '--', this.target.configured]);
    if (r.exitCode !== 0) throw cliError(r.stderr, { url: this.target.configured, op: forPush ? 'push' : 'fetch' });
    const refs = new Map<string, string>();
    for (const line of r.stdout.split('\n')) {
      const [oid, ref] = line.split('\t');
      if (oid && ref && !ref.endsWith('^{}') && ref.startsWith('refs/')) refs.set(ref, oid);
    }
    return refs;
  }

  async fetch(): Promise<void> {
    const name = this.target.name;
    const r = await runGit(['fetch', '--no-tags', '--prune', '--', name, `+${BRANCH_REF}:refs/remotes/${name}/main`, `+refs/tags/*:refs/remotes/${name}/tags/*`], { cwd: this.paths.home });
    if (r.exitCode !== 0) throw cliError(r.stderr, { url: this.target.configured, op: 'fetch' });
  }

  async push(updates: RefUpdate[]): Promise<void> {
    if (!updates.length) return;
    const specs = updates.map((u) => `${u.force ? '+' : ''}${u.ref}:${u.ref}`);
    const r = await runGit(['push', '--porcelain', '--', this.target.name, ...specs], { cwd: this.paths.home });
    if (r.exitCode !== 0) throw cliError(r.stderr || r.stdout, { url: this.target.configured, op: 'push' });
  }
}
