import { ChildProcessByStdio, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { AppProcess, NODE, ROOT } from '../support/app-process';
import { BetterAuthIssuer, IssuedUser } from '../support/better-auth-issuer';
import { freePort, portIsOpen } from '../support/free-port';
import { HttpClient } from '../support/http';
import {
  dropScratchDatabases,
  migratedDataSource,
  scratchDatabase,
} from '../support/scratch-database';

/**
 * Scale-out, proven behind a real nginx: two built app instances on one PostgreSQL, the proxy
 * configured from deploy/nginx/nginx.conf.template, and the load from a second process. Each
 * instance in turn gets SIGTERM under load and is started again: no request may fail, and every
 * todo confirmed with 201 must be stored exactly once.
 */

const NGINX = '/usr/sbin/nginx';
const DELAY_SECONDS = 2;

interface Outcome {
  method: 'GET' | 'POST';
  title?: string;
  status?: number;
  error?: string;
}

class Nginx {
  private constructor(
    private readonly child: ChildProcessByStdio<null, Readable, Readable>,
    readonly url: string,
    readonly runDir: string,
  ) {}

  static async start(upstreamPorts: number[]): Promise<Nginx> {
    const runDir = mkdtempSync(join(tmpdir(), 'todo-api-nginx-'));
    const port = await freePort();
    const template = readFileSync(join(ROOT, 'deploy', 'nginx', 'nginx.conf.template'), 'utf8');
    const values: Record<string, string> = {
      RUN_DIR: runDir,
      LISTEN_PORT: String(port),
      // Workers run as root only when nginx itself does (then its temp directory is root's).
      USER_DIRECTIVE: process.getuid?.() === 0 ? 'user root;' : '',
      UPSTREAM_SERVERS: upstreamPorts
        .map((p) => `server 127.0.0.1:${p} max_fails=1 fail_timeout=3s;`)
        .join('\n    '),
    };
    const config = template.replace(/\$\{([A-Z_]+)\}/g, (_match, name: string) => values[name]);
    writeFileSync(join(runDir, 'nginx.conf'), config);
    const child = spawn(NGINX, ['-p', runDir, '-c', join(runDir, 'nginx.conf')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const deadline = Date.now() + 10_000;
    while (!(await portIsOpen(port))) {
      if (Date.now() > deadline || child.exitCode !== null) {
        throw new Error(`nginx did not start: ${readFileSync(join(runDir, 'error.log'), 'utf8')}`);
      }
      await sleep(50);
    }
    return new Nginx(child, `http://127.0.0.1:${port}`, runDir);
  }

  get errorLog(): string {
    return readFileSync(join(this.runDir, 'error.log'), 'utf8');
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGQUIT');
      await exited;
    }
    rmSync(this.runDir, { recursive: true, force: true });
  }
}

describe('scale-out behind nginx', () => {
  let issuer: BetterAuthIssuer;
  let users: IssuedUser[];
  let databaseUrl: string;
  let ports: number[];
  const instances: (AppProcess | undefined)[] = [];
  let nginx: Nginx | undefined;

  const startInstance = async (i: number, env: Record<string, string> = {}) => {
    const app = await AppProcess.spawn({
      PORT: String(ports[i]),
      DATABASE_URL: databaseUrl,
      MIGRATIONS_RUN: 'false',
      BETTER_AUTH_URL: issuer.url,
      SHUTDOWN_DELAY_SECONDS: String(DELAY_SECONDS),
      TRUST_PROXY: '1',
      JWKS_COOLDOWN_SECONDS: '0',
      ...env,
    });
    instances[i] = app;
    await app.ready();
    return app;
  };

  beforeAll(async () => {
    issuer = await BetterAuthIssuer.start();
    users = await Promise.all([1, 2, 3, 4].map(() => issuer.createUser()));
    databaseUrl = await scratchDatabase('todo_scale');
    await (await migratedDataSource(databaseUrl, 1)).destroy();
    ports = [await freePort(), await freePort()];
    await Promise.all([startInstance(0), startInstance(1)]);
    nginx = await Nginx.start(ports);
  });

  afterAll(async () => {
    for (const app of instances) app?.kill();
    await nginx?.stop();
    await dropScratchDatabases();
    await issuer?.close();
  });

  it('loses no request while each instance in turn is stopped with SIGTERM and started again', async () => {
    const runId = `s${Date.now()}`;
    const load = spawn(NODE, [join(ROOT, 'test', 'scale', 'load-client.ts')], {
      env: {
        PATH: process.env.PATH ?? '',
        TARGET: nginx!.url,
        TOKENS: JSON.stringify(users.map((user) => user.jwt)),
        RUN_ID: runId,
        RATE: '100',
        CONNECTIONS: '8',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    }) as ChildProcessByStdio<Writable, Readable, Readable>;
    let output = '';
    let errors = '';
    load.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    load.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    const loadExited = new Promise((resolve) => load.once('exit', resolve));

    await sleep(2000);
    const restarts: { instance: number; exit: unknown }[] = [];
    for (const i of [0, 1]) {
      const exit = await instances[i]!.stop(60_000);
      restarts.push({ instance: i, exit });
      await startInstance(i);
      // Past nginx's fail_timeout, so traffic is back on both before the next restart.
      await sleep(4000);
    }
    load.stdin.write('stop\n');
    await loadExited;
    expect(errors).toBe('');
    const outcomes = JSON.parse(output) as Outcome[];

    const failures = outcomes.filter((o) => o.status !== 200 && o.status !== 201);
    const confirmed = outcomes.filter((o) => o.method === 'POST' && o.status === 201);
    const check = new Client({ connectionString: databaseUrl });
    await check.connect();
    const { rows } = await check.query<{ title: string; n: string }>(
      'SELECT title, count(*) AS n FROM todos WHERE title LIKE $1 GROUP BY title',
      [`scale ${runId} %`],
    );
    await check.end();
    const figures = {
      requests: outcomes.length,
      posts: outcomes.filter((o) => o.method === 'POST').length,
      failures: failures.length,
      stored: rows.length,
      restarts,
    };
    process.stdout.write(`scale-out rolling restart: ${JSON.stringify(figures)}\n`);

    expect(failures).toEqual([]);
    expect(restarts.map((r) => r.exit)).toEqual([
      { code: 0, signal: null },
      { code: 0, signal: null },
    ]);
    expect(rows.filter((row) => row.n !== '1')).toEqual([]);
    expect(rows.map((row) => row.title).sort()).toEqual(
      confirmed.map((o) => o.title as string).sort(),
    );
    // Traffic really went through both instances and through the restarts.
    expect(outcomes.length).toBeGreaterThan(500);
  });

  it('continues a list paged on one instance on the other, with the cursor', async () => {
    const user = await issuer.createUser();
    const [a, b] = instances.map((app) => new HttpClient(app!.url));
    for (let i = 0; i < 20; i++) {
      expect((await a.post('/api/todos', { title: `page ${i}` }, { token: user.jwt })).status).toBe(
        201,
      );
    }
    const all: string[] = [];
    let cursor: string | undefined;
    let page = 0;
    do {
      const client = page % 2 === 0 ? a : b;
      const query = cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`;
      const reply = await client.get(`/api/todos?limit=7${query}`, { token: user.jwt });
      expect(reply.status).toBe(200);
      all.push(...(reply.body.items as { id: string }[]).map((item) => item.id));
      cursor = reply.body.nextCursor as string | undefined;
      page++;
    } while (cursor);
    const direct = await a.get('/api/todos?limit=100', { token: user.jwt });
    expect(page).toBe(3);
    expect(all).toEqual((direct.body.items as { id: string }[]).map((item) => item.id));
  });

  it('picks up a key rotation at the issuer on both instances', async () => {
    await issuer.rotateKey();
    const fresh = await issuer.tokenFor(users[1].cookie);
    for (const app of instances) {
      const reply = await new HttpClient(app!.url).get('/api/profile', { token: fresh });
      expect(reply.status).toBe(200);
    }
  });
});
