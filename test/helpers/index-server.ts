/**
 * A real package index for tests on 127.0.0.1: the files of one folder served as PEP 503 simple
 * pages (links with `#sha256=` fragments) and, when the client asks for it, PEP 691 JSON.
 * Every request is logged, so a test can tell what a client fetched from it.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface IndexServer {
  /** http://127.0.0.1:PORT/simple/ */
  url: string;
  requests: string[];
  sha256(file: string): string;
  close(): Promise<void>;
}

const canonical = (n: string) => n.replace(/[-_.]+/g, '-').toLowerCase();
const projectOf = (file: string) => canonical(file.endsWith('.whl') ? file.split('-')[0] : file.replace(/-[^-]+\.(tar\.gz|zip)$/, ''));

export async function startIndexServer(dir: string): Promise<IndexServer> {
  const requests: string[] = [];
  const sha = (f: string) =>
    createHash('sha256')
      .update(readFileSync(join(dir, f)))
      .digest('hex');
  const files = () => readdirSync(dir).filter((f) => /\.(whl|tar\.gz|zip)$/.test(f));
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(path);
    const json = /application\/vnd\.pypi\.simple\.v1\+json/.test(req.headers.accept ?? '');
    if (path === '/simple/') {
      const names = [...new Set(files().map(projectOf))].sort();
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(`<!DOCTYPE html><html><body>${names.map((n) => `<a href="${n}/">${n}</a>`).join('\n')}</body></html>`);
      return;
    }
    const page = /^\/simple\/([^/]+)\/$/.exec(path);
    if (page) {
      const mine = files().filter((f) => projectOf(f) === canonical(page[1]));
      if (!mine.length) {
        res.writeHead(404).end('not found');
        return;
      }
      if (json) {
        res.writeHead(200, { 'Content-Type': 'application/vnd.pypi.simple.v1+json' });
        res.end(
          JSON.stringify({
            meta: { 'api-version': '1.0' },
            name: page[1],
            files: mine.map((f) => ({ filename: f, url: `../../files/${f}`, hashes: { sha256: sha(f) }, size: statSync(join(dir, f)).size })),
          }),
        );
      } else {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end(`<!DOCTYPE html><html><body>${mine.map((f) => `<a href="../../files/${f}#sha256=${sha(f)}">${f}</a>`).join('\n')}</body></html>`);
      }
      return;
    }
    const file = /^\/files\/([^/]+)$/.exec(path);
    if (file && files().includes(file[1])) {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      res.end(readFileSync(join(dir, file[1])));
      return;
    }
    res.writeHead(404).end('not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/simple/`,
    requests,
    sha256: sha,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
