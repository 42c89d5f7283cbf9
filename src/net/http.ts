/**
 * GET over HTTP(S) the way pip reaches an index: the proxy from pip's `proxy` option or
 * https_proxy/http_proxy (no_proxy honoured; an https target goes through a CONNECT tunnel),
 * credentials from the URL's user:password@ or ~/.netrc (NETRC) sent only to that host,
 * redirects followed (credentials dropped when the host changes), pip's `cert` as the CA bundle.
 * Node's own modules only (Node 18's fetch cannot use a proxy).
 */
import { readFileSync } from 'node:fs';
import type * as Http from 'node:http';
import type * as Https from 'node:https';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type * as Tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { netProblem } from './net-error.js';

interface NetModules {
  http: typeof Http;
  https: typeof Https;
  tls: typeof Tls;
}
let loaded: Promise<NetModules> | undefined;
/** Loaded on first use: node:https brings tls and crypto's TLS, 30-150 ms of every command's start here. */
function netModules(): Promise<NetModules> {
  return (loaded ??= Promise.all([import('node:http'), import('node:https'), import('node:tls')]).then(([http, https, tls]) => ({ http, https, tls })));
}

export interface GetOptions {
  env?: NodeJS.ProcessEnv;
  /** pip's `proxy` option: used for every URL when set. */
  proxy?: string;
  /** A CA bundle file (pip's `cert`) replacing Node's default roots. */
  cert?: string;
  accept?: string;
  /** Credentials for hosts, keyed by host[:port] (the index URL's own, passed along to its files). */
  auth?: Map<string, string>;
  timeoutMs?: number;
}

export interface Response {
  url: string;
  contentType: string;
  body: Buffer;
}

export class HttpError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** The URL without user:password, for messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '';
      u.password = '';
    }
    return u.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//');
  }
}

/** `user:password` from a URL's userinfo (percent-decoded as pip does), or undefined. */
export function urlCredentials(u: URL): string | undefined {
  if (!u.username && !u.password) return undefined;
  return `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`;
}

/** `user:password` for a host from ~/.netrc (or $NETRC), as requests does for pip. */
export function netrcCredentials(host: string, env: NodeJS.ProcessEnv): string | undefined {
  let text: string;
  try {
    text = readFileSync(env.NETRC || join(env.HOME || homedir(), '.netrc'), 'utf8');
  } catch {
    return undefined;
  }
  const tok = text
    .replace(/^\s*#.*$/gm, '')
    .split(/\s+/)
    .filter(Boolean);
  let match: Record<string, string> | undefined;
  let fallback: Record<string, string> | undefined;
  for (let i = 0; i < tok.length; i++) {
    if (tok[i] === 'machine' || tok[i] === 'default') {
      const entry: Record<string, string> = {};
      const isDefault = tok[i] === 'default';
      const name = isDefault ? '' : tok[++i];
      while (i + 1 < tok.length && tok[i + 1] !== 'machine' && tok[i + 1] !== 'default') {
        const k = tok[++i];
        if (k === 'macdef') break;
        entry[k] = tok[++i] ?? '';
      }
      if (isDefault) fallback ??= entry;
      else if (name === host) match ??= entry;
    }
  }
  const e = match ?? fallback;
  return e && (e.login || e.password) ? `${e.login ?? ''}:${e.password ?? ''}` : undefined;
}

/** The proxy for a URL, from pip's option or the environment (lower case first, as curl and requests). */
export function proxyFor(url: URL, opts: GetOptions): string | undefined {
  const env = opts.env ?? process.env;
  if (opts.proxy) return opts.proxy;
  const noProxy = env.no_proxy ?? env.NO_PROXY ?? '';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  for (const raw of noProxy.split(/[,\s]+/).filter(Boolean)) {
    const p = raw.replace(/^\*?\./, '').replace(/:\d+$/, '');
    if (p === '*' || host === p || host.endsWith(`.${p}`)) return undefined;
  }
  const v = url.protocol === 'https:' ? (env.https_proxy ?? env.HTTPS_PROXY) : (env.http_proxy ?? env.HTTP_PROXY);
  return v || undefined;
}

function basic(cred: string): string {
  return `Basic ${Buffer.from(cred).toString('base64')}`;
}

/** A TLS socket to host:port through an HTTP proxy's CONNECT. */
function tunnel({ http, https, tls }: NetModules, proxy: URL, target: URL, ca: string | undefined, timeoutMs: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const port = target.port || '443';
    const headers: Record<string, string> = { host: `${target.hostname}:${port}` };
    const pc = urlCredentials(proxy);
    if (pc) headers['proxy-authorization'] = basic(pc);
    const mod = proxy.protocol === 'https:' ? https : http;
    const req = mod.request({ host: proxy.hostname, port: proxy.port || (proxy.protocol === 'https:' ? 443 : 80), method: 'CONNECT', path: `${target.hostname}:${port}`, headers, timeout: timeoutMs });
    req.on('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        reject(new HttpError(`the proxy ${redact(proxy.toString())} refused the tunnel to ${target.host} (HTTP ${res.statusCode})`, res.statusCode));
        return;
      }
      const s = tls.connect({ socket, servername: target.hostname.replace(/^\[|\]$/g, ''), ...(ca ? { ca } : {}) }, () => resolve(s));
      s.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new HttpError(`the proxy ${redact(proxy.toString())} did not answer`)));
    req.on('error', reject);
    req.end();
  });
}

async function once(url: URL, opts: GetOptions, auth: string | undefined): Promise<Http.IncomingMessage> {
  const mods = await netModules();
  const { http, https } = mods;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const ca = opts.cert ? readFileSync(opts.cert, 'utf8') : undefined;
  const headers: Record<string, string> = { 'user-agent': 'pyctl', accept: opts.accept ?? '*/*' };
  if (auth) headers.authorization = basic(auth);
  const proxyRaw = proxyFor(url, opts);
  const proxy = proxyRaw ? new URL(proxyRaw.includes('://') ? proxyRaw : `http://${proxyRaw}`) : undefined;
  const path = `${url.pathname}${url.search}`;
  let req: Http.ClientRequest;
  if (proxy && url.protocol === 'https:') {
    const socket = await tunnel(mods, proxy, url, ca, timeoutMs);
    req = https.request({ host: url.hostname, port: url.port || 443, path, headers, createConnection: () => socket, timeout: timeoutMs, agent: false });
  } else if (proxy) {
    const pc = urlCredentials(proxy);
    if (pc) headers['proxy-authorization'] = basic(pc);
    const target = new URL(url.toString());
    target.username = '';
    target.password = '';
    req = http.request({ host: proxy.hostname, port: proxy.port || 80, path: target.toString(), headers: { ...headers, host: url.host }, timeout: timeoutMs });
  } else {
    const mod = url.protocol === 'https:' ? https : http;
    req = mod.request({ host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port || undefined, path, headers, timeout: timeoutMs, ...(ca ? { ca } : {}) });
  }
  return new Promise((resolve, reject) => {
    req.on('response', resolve);
    req.on('timeout', () => req.destroy(new HttpError(`${url.host} did not answer within ${timeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end();
  });
}

/** GET a URL (http, https or file), following up to 10 redirects. */
export async function get(raw: string, opts: GetOptions = {}): Promise<Response> {
  const env = opts.env ?? process.env;
  let url = new URL(raw);
  for (let hop = 0; hop < 10; hop++) {
    if (url.protocol === 'file:') {
      const path = decodeURIComponent(url.pathname);
      return {
        url: url.toString(),
        contentType: path.endsWith('.json') ? 'application/vnd.pypi.simple.v1+json' : 'text/html',
        body: readFileSync(path.endsWith('/') ? join(path, 'index.html') : path),
      };
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new HttpError(`unsupported URL scheme ${url.protocol} in ${redact(url.toString())}`);
    const auth = urlCredentials(url) ?? opts.auth?.get(url.host) ?? netrcCredentials(url.hostname, env);
    let res: Http.IncomingMessage;
    try {
      res = await once(url, opts, auth);
    } catch (e) {
      if (e instanceof HttpError) throw e;
      throw new HttpError(`cannot reach ${url.host}: ${netProblem(e)?.what ?? (e as Error).message}`);
    }
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && res.headers.location) {
      res.resume();
      const next = new URL(res.headers.location, url);
      // Credentials follow a redirect only to the same host, as requests does.
      if (next.host === url.host && !next.username && auth && urlCredentials(url)) {
        next.username = url.username;
        next.password = url.password;
      }
      url = next;
      continue;
    }
    if (status !== 200) {
      res.resume();
      throw new HttpError(`${redact(url.toString())} answered HTTP ${status}${status === 401 || status === 403 ? ' (credentials missing or refused)' : ''}`, status);
    }
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    return { url: url.toString(), contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks) };
  }
  throw new HttpError(`too many redirects from ${redact(raw)}`);
}
