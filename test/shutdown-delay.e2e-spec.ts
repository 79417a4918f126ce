import { Agent } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { AppProcess } from './support/app-process';
import { BetterAuthIssuer, IssuedUser } from './support/better-auth-issuer';
import { portIsOpen } from './support/free-port';
import { openConnection, parseRawReply, Reply, request } from './support/http';
import { expectProblem } from './support/problem';
import {
  dropScratchDatabases,
  migratedDataSource,
  scratchDatabase,
} from './support/scratch-database';

/**
 * Shutdown behind a load balancer, on the built app as `npm start` runs it: SIGTERM first turns
 * readiness to 503 for SHUTDOWN_DELAY_SECONDS while every request is still served, then the
 * drain; and a request that a proxy sends on a kept-alive connection while the drain has begun
 * is answered, never reset.
 */

jest.setTimeout(120_000);

const EXIT_LIMIT_MS = 30_000;
const DELAY_SECONDS = 3;

interface Probe {
  at: number;
  status?: number;
  error?: string;
  reply?: Reply;
}

interface Outcome {
  method: 'GET' | 'POST';
  title?: string;
  fresh: boolean;
  startedAt: number;
  status?: number;
  error?: string;
}

/**
 * How a new connection fails once the server has stopped listening: refused, or reset when the
 * kernel had accepted it but Node had not yet when the listening socket closed (nothing of the
 * request was read). Either way the request never reached the app, and a proxy retries it
 * elsewhere, POSTs included.
 */
function gone(error: string | undefined): boolean {
  return error === 'ECONNREFUSED' || error === 'ECONNRESET';
}

/** Run-length collapse: [200, 200, 503, 503, 'ECONNREFUSED'] → [200, 503, 'ECONNREFUSED']. */
function phases(values: Array<number | string>): Array<number | string> {
  return values.filter((value, i) => i === 0 || values[i - 1] !== value);
}

describe('shutdown for load balancers', () => {
  let issuer: BetterAuthIssuer;
  let users: IssuedUser[];
  let databaseUrl: string;
  let app: AppProcess | undefined;
  let locker: Client | undefined;

  beforeAll(async () => {
    issuer = await BetterAuthIssuer.start();
    users = await Promise.all([1, 2].map(() => issuer.createUser()));
    databaseUrl = await scratchDatabase('todo_lb_shutdown');
    await (await migratedDataSource(databaseUrl, 1)).destroy();
  });

  afterEach(async () => {
    app?.kill();
    app = undefined;
    await locker?.end().catch(() => undefined);
    locker = undefined;
  });

  afterAll(async () => {
    await dropScratchDatabases();
    await issuer?.close();
  });

  async function storedTitles(pattern: string): Promise<string[]> {
    const check = new Client({ connectionString: databaseUrl });
    await check.connect();
    try {
      const { rows } = await check.query<{ title: string }>(
        'SELECT title FROM todos WHERE title LIKE $1',
        [pattern],
      );
      return rows.map((row) => row.title);
    } finally {
      await check.end();
    }
  }

  it('answers readiness 503 for SHUTDOWN_DELAY_SECONDS while serving every request, then drains and exits 0', async () => {
    app = await AppProcess.spawn({
      DATABASE_URL: databaseUrl,
      MIGRATIONS_RUN: 'false',
      BETTER_AUTH_URL: issuer.url,
      SHUTDOWN_DELAY_SECONDS: String(DELAY_SECONDS),
    });
    await app.ready();
    const running = app;
    const runId = `d${Date.now()}`;
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    let exited = false;
    void running.exited.then(() => (exited = true));

    // The readiness poller: a new connection per probe, as a load balancer's health check.
    const probes: Probe[] = [];
    const poller = (async () => {
      for (;;) {
        const at = Date.now();
        try {
          const reply = await request(running.url, '/api/health/ready');
          probes.push({ at, status: reply.status, reply });
        } catch (failure) {
          probes.push({ at, error: (failure as NodeJS.ErrnoException).code ?? 'failed' });
        }
        if (exited) return;
        await sleep(50);
      }
    })();

    // Ordinary traffic, alternately on kept-alive and on new connections, until the server
    // stops listening.
    const outcomes: Outcome[] = [];
    let sequence = 0;
    const client = async (user: IssuedUser) => {
      for (;;) {
        const index = sequence++;
        const method = index % 2 === 0 ? 'POST' : 'GET';
        const fresh = index % 4 < 2;
        const title = method === 'POST' ? `delay ${runId} #${index}` : undefined;
        const outcome: Outcome = { method, title, fresh, startedAt: Date.now() };
        try {
          const reply = await request(running.url, '/api/todos', {
            method,
            token: user.jwt,
            agent: fresh ? undefined : agent,
            json: title === undefined ? undefined : { title },
          });
          outcome.status = reply.status;
        } catch (failure) {
          outcome.error = (failure as NodeJS.ErrnoException).code ?? 'failed';
        }
        outcomes.push(outcome);
        if ((fresh && gone(outcome.error)) || exited) return;
        await sleep(20);
      }
    };

    // Requests in flight at SIGTERM: parked behind a lock on todos until readiness says 503.
    locker = new Client({ connectionString: databaseUrl });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE todos IN ACCESS EXCLUSIVE MODE');
    const parked = users.flatMap((user, u) =>
      (['POST', 'GET'] as const).map((method) =>
        request(running.url, '/api/todos', {
          method,
          token: user.jwt,
          agent,
          json: method === 'POST' ? { title: `delay ${runId} parked ${u}` } : undefined,
        }),
      ),
    );
    const lockerPid = (await locker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))
      .rows[0].pid;
    await waitForBlockedSessions(databaseUrl, lockerPid, parked.length);
    await until(() => probes.some((probe) => probe.status === 200));

    running.signal('SIGTERM');
    await until(() => probes.some((probe) => probe.status === 503));
    await locker.query('COMMIT');
    const parkedReplies = await Promise.all(parked);
    const clients = users.map((user) => client(user));

    const exit = await running.exit(EXIT_LIMIT_MS);
    await Promise.all([poller, ...clients]);
    agent.destroy();

    // The poller saw the instance ready, then not ready while it still answered, then gone.
    expect(
      phases(probes.map((probe) => probe.status ?? (gone(probe.error) ? 'gone' : probe.error!))),
    ).toEqual([200, 503, 'gone']);
    const notReady = probes.find((probe) => probe.status === 503)!.reply!;
    expectProblem(notReady, { status: 503, retryAfter: expect.stringMatching(/^\d+$/) });
    expect(notReady.body.detail).toMatch(/shutting down/);

    // The requests in flight at SIGTERM were finished.
    expect(parkedReplies.map((reply) => reply.status)).toEqual([201, 200, 201, 200]);

    // Every ordinary request sent while readiness said 503 was served, on new connections as
    // on kept-alive ones; only new connections opened as the server stopped listening failed.
    const beforeDrain = outcomes.filter((o) => !(o.fresh && gone(o.error)));
    expect(beforeDrain.filter((o) => o.status !== 200 && o.status !== 201)).toEqual([]);
    expect(beforeDrain.filter((o) => o.fresh && o.method === 'POST').length).toBeGreaterThan(0);
    expect(beforeDrain.filter((o) => !o.fresh && o.method === 'GET').length).toBeGreaterThan(0);

    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(running.logs.failures()).toEqual([]);
    expect(running.logs.find({ msg: 'Shutdown: delay over; draining' })).toHaveLength(1);

    // Each confirmed todo is stored once, and no other.
    const confirmed = outcomes
      .filter((o) => o.method === 'POST' && o.status === 201)
      .map((o) => o.title as string);
    const parkedTitles = users.map((_, u) => `delay ${runId} parked ${u}`);
    expect((await storedTitles(`delay ${runId} %`)).sort()).toEqual(
      [...confirmed, ...parkedTitles].sort(),
    );
    process.stdout.write(
      `shutdown delay: ${JSON.stringify({
        probes: probes.length,
        notReadyProbes: probes.filter((probe) => probe.status === 503).length,
        servedDuringDelay: beforeDrain.length,
        exitMs: exit.ms,
      })}\n`,
    );
  });

  it('answers a request that arrives on an idle kept-alive connection after the drain began, with Connection: close', async () => {
    app = await AppProcess.spawn({
      DATABASE_URL: databaseUrl,
      MIGRATIONS_RUN: 'false',
      BETTER_AUTH_URL: issuer.url,
    });
    await app.ready();
    const port = Number(new URL(app.url).port);
    const title = `idle ${Date.now()}`;
    const body = JSON.stringify({ title });

    // A kept-alive connection, as a proxy holds to its upstreams: one answer, then idle.
    const idle = openConnection(app.url);
    idle.socket.write(
      `GET /api/todos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${users[0].jwt}\r\n\r\n`,
    );
    await until(() => idle.socket.bytesRead > 0);
    const firstAnswerBytes = idle.socket.bytesRead;

    app.signal('SIGTERM');
    // The drain has begun once new connections are refused; the idle one is still open.
    await until(async () => !(await portIsOpen(port)));
    idle.socket.write(
      `POST /api/todos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${users[1].jwt}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    const result = await idle.closed;
    const exit = await app.exit(EXIT_LIMIT_MS);

    expect(result.error).toBeUndefined();
    const answer = parseRawReply(result.received.slice(firstAnswerBytes), '/api/todos');
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ title });
    expect(answer.headers.get('connection')).toBe('close');
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(app.logs.failures()).toEqual([]);
    expect(await storedTitles(title)).toEqual([title]);
  });
});

async function until(condition: () => boolean | Promise<boolean>, limitMs = 15_000) {
  const deadline = Date.now() + limitMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

/** Waits until `count` sessions wait on the lock that `lockerPid` holds. */
async function waitForBlockedSessions(url: string, lockerPid: number, count: number) {
  const monitor = new Client({ connectionString: url });
  await monitor.connect();
  try {
    await until(async () => {
      const { rows } = await monitor.query<{ n: string }>(
        'SELECT count(*) AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))',
        [lockerPid],
      );
      return Number(rows[0].n) >= count;
    });
  } finally {
    await monitor.end();
  }
}
