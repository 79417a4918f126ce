import { ChildProcessByStdio, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { FLUSH_INTERVAL_MS } from '../../src/rate-limit/postgres-throttler-storage';
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
 * configured from deploy/nginx/nginx.conf.template (round robin, kept-alive upstream
 * connections), and the load from a second process. Each instance in turn gets SIGTERM under
 * load and is started again: no request may fail, and every todo confirmed with 201 must be
 * stored exactly once. Then: a list paged on one instance continues on the other, a key rotation
 * at the issuer is picked up by both, and one user's rate limit holds across both instances
 * within the slack of the shared counters. One line of figures is printed at the end.
 */

const NGINX = '/usr/sbin/nginx';
const DELAY_SECONDS = 2;
/** Load requests an instance must have answered through nginx before the next step. */
const SERVED_BEFORE_NEXT_STEP = 50;
/** The small per-user limit of the rate-limit check, and the pace of its requests. */
const USER_LIMIT = 20;
const PACE_MS = FLUSH_INTERVAL_MS / 2;
/**
 * Each instance adds its hits to the shared counters once per flush interval and reads the total
 * back in that same statement, so another instance's hit is seen here at most two intervals
 * later: the requests sent in that time may pass beyond the limit.
 */
const SLACK = Math.ceil((2 * FLUSH_INTERVAL_MS) / PACE_MS);
/** A window far longer than the check, so that the check does not straddle two windows. */
const THROTTLE_TTL_SECONDS = 3600;

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
    // -e: the error log nginx opens before it reads the config is the run directory's too, not
    // the packaged /var/log/nginx one (which a non-root run cannot open).
    const child = spawn(
      NGINX,
      ['-p', runDir, '-e', join(runDir, 'error.log'), '-c', join(runDir, 'nginx.conf')],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 30_000;
    while (!(await portIsOpen(port))) {
      if (Date.now() > deadline || child.exitCode !== null) {
        child.kill('SIGKILL');
        throw new Error(`nginx did not start: ${output}`);
      }
      await sleep(50);
    }
    return new Nginx(child, `http://127.0.0.1:${port}`, runDir);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGQUIT');
      await exited;
    }
    rmSync(this.runDir, { recursive: true, force: true });
  }
}

/** Index of the first log line of `app` whose message starts with `text` (-1 if none). */
function lineIndex(app: AppProcess, text: string): number {
  return app.logs.lines.findIndex((line) => line.msg?.startsWith(text));
}

/** Requests to the todo routes `app` has answered, from its access log (lines from..to). */
function todoRequestsServed(app: AppProcess, from = 0, to = app.logs.lines.length): number {
  return app.logs.lines
    .slice(from, to)
    .filter((line) => line.msg === 'request completed' && line.url === '/api/todos').length;
}

function keyIdOf(jwt: string): unknown {
  return (JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url').toString()) as { kid?: unknown })
    .kid;
}

describe('scale-out behind nginx', () => {
  let issuer: BetterAuthIssuer;
  let users: IssuedUser[];
  let databaseUrl: string;
  let ports: number[];
  const instances: (AppProcess | undefined)[] = [];
  let nginx: Nginx | undefined;
  let load: ChildProcessByStdio<Writable, Readable, Readable> | undefined;
  const figures: Record<string, unknown> = {};

  const startInstance = async (i: number, env: Record<string, string> = {}) => {
    const app = await AppProcess.spawn({
      PORT: String(ports[i]),
      DATABASE_URL: databaseUrl,
      MIGRATIONS_RUN: 'false',
      BETTER_AUTH_URL: issuer.url,
      SHUTDOWN_DELAY_SECONDS: String(DELAY_SECONDS),
      TRUST_PROXY: '1',
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
    process.stdout.write(`scale-out figures: ${JSON.stringify(figures)}\n`);
    load?.kill('SIGKILL');
    for (const app of instances) app?.kill();
    await nginx?.stop();
    await dropScratchDatabases();
    await issuer?.close();
  });

  it('loses no request while each instance in turn is stopped with SIGTERM and started again', async () => {
    const runId = `s${Date.now()}`;
    const client = spawn(
      NODE,
      // Node reads the .ts file as an ES module, and warns that package.json does not say so.
      [
        '--disable-warning=MODULE_TYPELESS_PACKAGE_JSON',
        join(ROOT, 'test', 'scale', 'load-client.ts'),
      ],
      {
        env: {
          PATH: process.env.PATH ?? '',
          TARGET: nginx!.url,
          TOKENS: JSON.stringify(users.map((user) => user.jwt)),
          RUN_ID: runId,
          RATE: '100',
          CONNECTIONS: '8',
        },
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    load = client;
    let output = '';
    let errors = '';
    client.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    client.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    // 'close', not 'exit': the outcomes are complete only once stdout has ended.
    const loadClosed = new Promise((resolve) => client.once('close', resolve));

    for (const app of instances) {
      await app!.until(
        () => todoRequestsServed(app!) >= SERVED_BEFORE_NEXT_STEP,
        'serve the load through nginx',
      );
    }
    const restarts: { instance: number; exit: unknown; servedInDelay: number }[] = [];
    for (const i of [0, 1]) {
      const stopping = instances[i]!;
      const exit = await stopping.stop(60_000);
      const delayFrom = lineIndex(stopping, 'Shutdown: readiness answers 503');
      const drainFrom = lineIndex(stopping, 'Shutdown: delay over');
      restarts.push({
        instance: i,
        exit,
        servedInDelay:
          delayFrom < 0 || drainFrom < 0 ? -1 : todoRequestsServed(stopping, delayFrom, drainFrom),
      });
      const restarted = await startInstance(i);
      // Event, not a fixed wait: nginx sends to the instance again once its fail_timeout is over.
      await restarted.until(
        () => todoRequestsServed(restarted) >= SERVED_BEFORE_NEXT_STEP,
        'serve the load through nginx after its restart',
      );
    }
    client.stdin.end('stop\n');
    await loadClosed;
    load = undefined;
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
    Object.assign(figures, {
      requests: outcomes.length,
      posts: outcomes.filter((o) => o.method === 'POST').length,
      failures: failures.length,
      stored: rows.length,
      restarts: restarts.length,
      servedDuringShutdownDelay: restarts.map((r) => r.servedInDelay),
    });

    expect(failures).toEqual([]);
    expect(restarts.map((r) => r.exit)).toEqual([
      { code: 0, signal: null },
      { code: 0, signal: null },
    ]);
    // nginx kept sending to each stopping instance during its delay, and was answered.
    for (const restart of restarts) expect(restart.servedInDelay).toBeGreaterThan(0);
    expect(rows.filter((row) => row.n !== '1')).toEqual([]);
    expect(rows.map((row) => row.title).sort()).toEqual(
      confirmed.map((o) => o.title as string).sort(),
    );
    expect(confirmed.length).toBeGreaterThan(0);
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
    let cursor: string | null = null;
    let page = 0;
    do {
      const client = page % 2 === 0 ? a : b;
      const query = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
      const reply = await client.get(`/api/todos?limit=7${query}`, { token: user.jwt });
      expect(reply.status).toBe(200);
      all.push(...(reply.body.todos as { id: string }[]).map((todo) => todo.id));
      cursor = reply.body.nextCursor as string | null;
      page++;
    } while (cursor !== null);
    const direct = await b.get('/api/todos?limit=100', { token: user.jwt });
    expect(page).toBe(3);
    expect(all).toHaveLength(20);
    expect(all).toEqual((direct.body.todos as { id: string }[]).map((todo) => todo.id));
  });

  it('picks up a key rotation at the issuer on both instances', async () => {
    const before = users[1].jwt;
    for (const app of instances) {
      expect((await new HttpClient(app!.url).get('/api/profile', { token: before })).status).toBe(
        200,
      );
    }
    await issuer.rotateKey();
    const fresh = await issuer.tokenFor(users[1].cookie);
    expect(keyIdOf(fresh)).not.toEqual(keyIdOf(before));
    for (const app of instances) {
      const reply = await new HttpClient(app!.url).get('/api/profile', { token: fresh });
      expect(reply.status).toBe(200);
      expect(reply.body.id).toBe(users[1].id);
    }
  });

  it("holds one user's rate limit across both instances, within the shared counters' slack", async () => {
    const env = {
      THROTTLE_USER_LIMIT: String(USER_LIMIT),
      THROTTLE_TTL_SECONDS: String(THROTTLE_TTL_SECONDS),
    };
    await Promise.all(
      [0, 1].map(async (i) => {
        expect(await instances[i]!.stop(60_000)).toEqual({ code: 0, signal: null });
        await startInstance(i, env);
      }),
    );
    const proxy = new HttpClient(nginx!.url);
    const windowOf = (time: number) => Math.floor(time / (THROTTLE_TTL_SECONDS * 1000));
    let firstLimited: number | undefined;
    let statuses: number[] = [];
    // Counters reset when a window ends: a run that straddles two windows is run again, with
    // a user of its own.
    for (let attempt = 0; attempt < 2; attempt++) {
      const user = await issuer.createUser();
      const startedIn = windowOf(Date.now());
      statuses = [];
      firstLimited = undefined;
      while (firstLimited === undefined && statuses.length <= USER_LIMIT + SLACK + 1) {
        const sentAt = Date.now();
        const reply = await proxy.get('/api/todos?limit=1', { token: user.jwt });
        statuses.push(reply.status);
        if (reply.status === 429) firstLimited = statuses.length;
        await sleep(Math.max(0, sentAt + PACE_MS - Date.now()));
      }
      if (windowOf(Date.now()) === startedIn) break;
    }
    const perInstance = instances.map((app) => todoRequestsServed(app!));
    figures.rateLimit = {
      limit: USER_LIMIT,
      firstLimitedAt: firstLimited,
      slack: SLACK,
      perInstance,
    };

    expect(statuses.filter((status) => status !== 200 && status !== 429)).toEqual([]);
    expect(firstLimited).toBeGreaterThan(USER_LIMIT);
    expect(firstLimited).toBeLessThanOrEqual(USER_LIMIT + 1 + SLACK);
    // Round robin spread the user's requests over both instances.
    for (const served of perInstance) expect(served).toBeGreaterThan(0);
  });
});
