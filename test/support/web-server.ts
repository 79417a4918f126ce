import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { dirname, extname, join, normalize } from 'node:path';

/** The repository root, from test/support (jest) or dist/test/support (npm run demo). */
function repositoryRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'nest-cli.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** The example frontend's build output (`npm run build -w @todo-api/web`). */
export const WEB_DIST = join(repositoryRoot(), 'examples', 'web', 'dist');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

export interface WebServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves the built frontend and, at /config.json, where it finds the API and Better Auth: the
 * same build then runs against servers on any port (tests use ephemeral ones).
 */
export async function serveWeb(options: {
  config: { apiUrl: string; authUrl: string };
  port?: number;
  host?: string;
}): Promise<WebServer> {
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (path === '/config.json') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      // Read per request, so a caller can fill it in once the other servers have their ports.
      res.end(JSON.stringify(options.config));
      return;
    }
    // Within dist only; anything that is not a file is the single-page app's index.html.
    const file = normalize(join(WEB_DIST, path));
    const inside = file.startsWith(WEB_DIST) && extname(file) !== '';
    readFile(inside ? file : join(WEB_DIST, 'index.html'))
      .catch(() => readFile(join(WEB_DIST, 'index.html')))
      .then((body) => {
        const type = inside ? (TYPES[extname(file)] ?? 'application/octet-stream') : TYPES['.html'];
        res.writeHead(200, { 'content-type': type });
        res.end(body);
      })
      .catch(() => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('The frontend is not built: run npm run build -w @todo-api/web');
      });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((done) => server.listen(options.port ?? 0, host, done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((done) => server.close(() => done()));
    },
  };
}
