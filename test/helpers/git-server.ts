/**
 * A real smart-HTTP git server for tests: a Node http server on 127.0.0.1 that runs the real
 * `git http-backend` CGI over bare repos in a temp dir. Optionally requires basic auth (401 with
 * WWW-Authenticate until the right token is sent, as the password or as the user name).
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { removeDir, tempDir } from './env.js';
import { processEnv, runSyncOk } from './run.js';
import { spawnerCan, spawnerEnabled, spawnerRun } from './spawner.js';

export interface GitServer {
  /** http://127.0.0.1:PORT */
  base: string;
  root: string;
  /**
   * Create a bare repo exactly as `git init --bare` makes it (HEAD -> master, unborn), or as
   * `git init --bare -b HEAD` does; returns its URL. Pushes are accepted because the server
   * always sets REMOTE_USER, as git http-backend requires for receive-pack.
   */
  createRepo(name: string, head?: string): string;
  /** Path of a bare repo on disk (for plain git checks). */
  repoPath(name: string): string;
  /** Require basic auth with this token from now on (undefined: no auth). */
  requireToken(token: string | undefined): void;
  /** How many requests were answered 401. */
  unauthorized: number;
  close(): Promise<void>;
}

const gitEnv = { ...processEnv(), GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };

/** A CGI answer's header lines: its status (a `Status:` line, else 200) and the HTTP headers. */
function cgiHeaders(text: string): [number, Record<string, string>] {
  let status = 200;
  const headers: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    const k = line.slice(0, i).trim();
    const v = line.slice(i + 1).trim();
    if (k.toLowerCase() === 'status') status = Number(v.split(' ')[0]);
    else headers[k] = v;
  }
  return [status, headers];
}

export async function startGitServer(): Promise<GitServer> {
  const root = tempDir('pyctl-gitsrv-');
  const backend = join(runSyncOk('git', ['--exec-path']).stdout.trim(), 'git-http-backend');
  let token: string | undefined;
  const state = { unauthorized: 0 };

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let user = '';
    if (token !== undefined) {
      const m = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
      const [u, p] = m ? Buffer.from(m[1], 'base64').toString('utf8').split(/:(.*)/s) : ['', ''];
      if (p !== token && u !== token) {
        state.unauthorized++;
        req.resume();
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="test git"', 'Content-Type': 'text/plain' });
        res.end('authentication required\n');
        return;
      }
      user = u;
    }
    const env: Record<string, string> = {
      ...gitEnv,
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      REQUEST_METHOD: req.method ?? 'GET',
      QUERY_STRING: url.search.replace(/^\?/, ''),
      PATH_INFO: decodeURIComponent(url.pathname),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_USER: user || 'anonymous',
      REMOTE_ADDR: '127.0.0.1',
    };
    if (req.headers['content-length']) env.CONTENT_LENGTH = req.headers['content-length'];
    if (req.headers['content-encoding']) env.HTTP_CONTENT_ENCODING = String(req.headers['content-encoding']);
    if (req.headers['git-protocol']) env.GIT_PROTOCOL = String(req.headers['git-protocol']);
    if (spawnerEnabled() && spawnerCan(backend, [], env)) {
      // Through the worker's spawner (helpers/spawner.ts), the whole request in and the whole
      // answer out: a git client sends its request whole before it reads the answer.
      const body: Buffer[] = [];
      req.on('data', (b: Buffer) => body.push(b));
      req.on('end', () => {
        void spawnerRun(backend, [], env, undefined, Buffer.concat(body)).then((r) => {
          const m = /\r?\n\r?\n/.exec(r.stdout.toString('latin1'));
          if (!m) {
            res.writeHead(500);
            res.end();
            return;
          }
          const [status, headers] = cgiHeaders(r.stdout.subarray(0, m.index).toString('latin1'));
          res.writeHead(status, headers);
          res.end(r.stdout.subarray(m.index + m[0].length));
        });
      });
      return;
    }
    const cgi = spawn(backend, [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    req.pipe(cgi.stdin);
    cgi.stdin.on('error', () => {});
    let head = Buffer.alloc(0);
    let headersDone = false;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const text = head.toString('latin1');
      const m = /\r?\n\r?\n/.exec(text);
      if (!m) return;
      headersDone = true;
      const [status, headers] = cgiHeaders(text.slice(0, m.index));
      res.writeHead(status, headers);
      res.write(head.subarray(m.index + m[0].length));
    });
    cgi.stderr.resume();
    cgi.on('close', () => {
      if (!headersDone) res.writeHead(500);
      res.end();
    });
  };

  const server: Server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const base = `http://127.0.0.1:${port}`;
  return {
    base,
    root,
    createRepo(name, head) {
      const dir = join(root, name);
      runSyncOk('git', ['init', '-q', '--bare', ...(head ? ['-b', head] : []), dir], gitEnv);
      return `${base}/${name}`;
    },
    repoPath: (name) => join(root, name),
    requireToken(t) {
      token = t;
    },
    get unauthorized() {
      return state.unauthorized;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      removeDir(root);
    },
  };
}
