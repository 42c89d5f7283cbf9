/**
 * Pure: a transport's failure as one masked line and a hint (PyctlError). isomorphic-git's
 * errors come as codes and HTTP statuses; the git CLI's as stderr text.
 */
import { PyctlError } from '../errors.js';
import type { Auth } from './credentials.js';
import { maskSecrets } from './mask.js';
import { netProblem } from '../net/net-error.js';

export type RemoteOp = 'push' | 'fetch' | 'list';

export function remoteError(e: unknown, ctx: { url: string; op: RemoteOp; auth?: Auth }): PyctlError {
  if (e instanceof PyctlError) return e;
  const err = e as { code?: string; message?: string; data?: { statusCode?: number; statusMessage?: string; prettyDetails?: string; reason?: string } };
  const url = maskSecrets(ctx.url);
  const code = err.code ?? '';
  const net = netProblem(e);
  if (net) return new PyctlError('REMOTE', `cannot reach ${url}: ${net.what}`, net.hint ?? "check the network and the URL ('pyctl remote list'); nothing was changed");
  const status = err.data?.statusCode;
  if (code === 'UserCanceledError' || status === 401) {
    if (ctx.auth?.tried.length) {
      return new PyctlError(
        'REMOTE',
        `${url} refused ${ctx.auth.tried.join(', then ')} (HTTP 401)`,
        'check the token and that it may ' + (ctx.op === 'push' ? 'write to' : 'read') + ' this repository (PYCTL_GIT_USER sets the user name sent with it)',
      );
    }
    return new PyctlError('REMOTE', `${url} needs authentication (HTTP 401)`, 'set PYCTL_GIT_TOKEN to an access token (or configure a git credential helper) and run again');
  }
  if (status === 403) {
    return new PyctlError('REMOTE', `${url} denied access (HTTP 403)`, `the credentials may not ${ctx.op === 'push' ? 'push to' : 'read'} this repository; check the token's permissions`);
  }
  if (status === 404) {
    return new PyctlError('REMOTE', `no git repository at ${url} (HTTP 404)`, "check the URL ('pyctl remote list'); create the repository on the server first (an empty one is fine)");
  }
  if (code === 'SmartHttpError' || code === 'ParseError') {
    return new PyctlError('REMOTE', `${url} is not a git repository (the server did not answer as git does)`, 'check the URL: it must be the repository URL, often ending in .git');
  }
  if (status) {
    return new PyctlError('REMOTE', `${url} answered HTTP ${status} ${err.data?.statusMessage ?? ''}`.trim(), 'try again later; nothing was changed');
  }
  if (code === 'GitPushError') {
    const details = (err.data?.prettyDetails ?? '').replace(/\s+/g, ' ').trim();
    return new PyctlError('REMOTE', maskSecrets(`${url} rejected the push: ${details}`), 'the server refused the update (branch protection or a hook?); nothing was changed locally');
  }
  if (code === 'PushRejectedError') {
    return new PyctlError('REMOTE', `${url} rejected the push: ${err.data?.reason ?? 'not a fast-forward'}`, "run 'pyctl fetch' to see what is there, or push with --force to replace it");
  }
  return new PyctlError('REMOTE', maskSecrets(`${ctx.op} ${url} failed: ${err.message ?? String(e)}`).split('\n')[0], 'run again with --verbose for details; nothing was changed');
}

export function cliError(stderr: string, ctx: { url: string; op: RemoteOp }): PyctlError {
  const line =
    String(stderr)
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !/^(hint|To |From )/.test(l))
      .find((l) => /^(fatal|error|remote|!)/.test(l)) ??
    String(stderr).trim().split('\n')[0] ??
    'unknown error';
  const msg = maskSecrets(line.replace(/^(fatal|error): /, ''));
  let hint = 'check the URL and your ssh keys or access rights; nothing was changed';
  if (/does not appear to be a git repository|not found|does not exist/i.test(msg)) hint = "check the URL ('pyctl remote list'); create the repository first (an empty bare one is fine)";
  if (/rejected|non-fast-forward|already exists/i.test(msg)) hint = "run 'pyctl fetch' to see what is there, or push with --force to replace it";
  return new PyctlError('REMOTE', `git ${ctx.op} ${maskSecrets(ctx.url)} failed: ${msg}`, hint);
}

export function unknownRemote(name: string, known: string[]): PyctlError {
  return new PyctlError('REMOTE', `no remote named '${name}'`, known.length ? `known remotes: ${known.join(', ')}` : `add one first: pyctl remote add ${name} https://host/path/env.git`);
}
