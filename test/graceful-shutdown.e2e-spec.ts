import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { AppProcess } from './support/app-process';
import { BetterAuthIssuer, IssuedUser } from './support/better-auth-issuer';
import { freePort, portIsOpen } from './support/free-port';
import { openConnection, parseRawReply, request } from './support/http';
import {
  dropScratchDatabases,
  migratedDataSource,
  scratchDatabase,
} from './support/scratch-database';
import { testDatabaseUrl } from './support/test-env';

/**
 * Shutdown on SIGTERM: stop taking requests, finish those in flight, close the pool, stop the
 * embedded database; on the built app as `npm start` runs it.
 *
 * Requests are made to be in flight at the moment of SIGTERM, deterministically: the test holds
 * an ACCESS EXCLUSIVE lock on `todos` (in a database of its own, so other suites are not
 * blocked), waits until every connection's request is parked behind it, sends SIGTERM, and only
 * then lets them through.
 */

jest.setTimeout(120_000);

const CONNECTIONS = 20;
const REQUESTS = 200;
const EXIT_LIMIT_MS = 15_000;

interface Outcome {
  index: number;
  method: 'GET' | 'POST';
  title?: string;
  startedAt: number;
  endedAt: number;
  status?: number;
  body?: string;
  error?: string;
  connectionHeader?: string;
}

/** One request over the keep-alive agent; never rejects (the outcome records any error). */
async function recordOutcome(
  agent: Agent,
  baseUrl: string,
  token: string,
  index: number,
  method: 'GET' | 'POST',
  runId: string,
): Promise<Outcome> {
  const title = method === 'POST' ? `shutdown ${runId} #${index}` : undefined;
  const outcome: Outcome = { index, method, title, startedAt: Date.now(), endedAt: 0 };
  try {
    const reply = await request(baseUrl, '/api/todos', {
      method,
      agent,
      token,
      headers: { 'x-request-id': `${runId}-${index}` },
      json: title === undefined ? undefined : { title },
    });
    return {
      ...outcome,
      endedAt: Date.now(),
      status: reply.status,
      body: reply.text,
      connectionHeader: reply.headers.get('connection') ?? undefined,
    };
  } catch (failure) {
    const error = failure as NodeJS.ErrnoException;
    return { ...outcome, endedAt: Date.now(), error: error.code ?? error.message };
  }
}

/**
 * Waits until `count` sessions wait on the lock `lockerPid` holds: the requests are parked. (A
 * connection the pool opens meanwhile waits too, while still starting.) Asked from a client of
 * its own: pg_stat_activity is a snapshot that stays fixed for the rest of a transaction.
 */
async function waitForBlockedSessions(url: string, lockerPid: number, count: number) {
  const monitor = new Client({ connectionString: url });
  await monitor.connect();
  try {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const { rows } = await monitor.query<{ n: string }>(
        // Blocked by the locker, or queued behind one that is: creates by one user also wait on
        // that user's advisory lock (the per-user todo limit is checked under it).
        `WITH RECURSIVE blocked(pid) AS (
           SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))
           UNION
           SELECT a.pid FROM pg_stat_activity a JOIN blocked b ON b.pid = ANY(pg_blocking_pids(a.pid))
         ) SELECT count(*) AS n FROM blocked`,
        [lockerPid],
      );
      if (Number(rows[0].n) >= count) return;
      if (Date.now() > deadline) {
        throw new Error(`only ${rows[0].n} of ${count} requests reached the database`);
      }
      await sleep(20);
    }
  } finally {
    await monitor.end();
  }
}

/** Sends raw bytes and collects the answer until the server closes the connection. */
/** The status lines of the responses in a raw HTTP/1.1 stream (bodies are short JSON). */
function statusLines(raw: string): string[] {
  return [...raw.matchAll(/HTTP\/1\.1 \d{3} [A-Za-z ]+(?=\r\n)/g)].map(([line]) => line);
}

describe('graceful shutdown (SIGTERM)', () => {
  let issuer: BetterAuthIssuer;
  let users: IssuedUser[];

  beforeAll(async () => {
    issuer = await BetterAuthIssuer.start();
    users = await Promise.all([1, 2, 3, 4].map(() => issuer.createUser()));
  });

  afterAll(async () => {
    await issuer?.close();
  });

  describe('with DATABASE_URL', () => {
    /** A database of this suite's own on the test server, migrated like the shared one. */
    let database: { url: string };
    let app: AppProcess | undefined;
    let locker: Client | undefined;

    beforeAll(async () => {
      const url = await scratchDatabase('todo_shutdown');
      await (await migratedDataSource(url, 1)).destroy();
      database = { url };
    });

    afterAll(async () => {
      app?.kill();
      await locker?.end().catch(() => undefined);
      await dropScratchDatabases();
    });

    it('answers every request it accepted, exits 0, and keeps exactly the todos it confirmed', async () => {
      app = await AppProcess.spawn({
        DATABASE_URL: database.url,
        MIGRATIONS_RUN: 'false',
        BETTER_AUTH_URL: issuer.url,
        // Every connection's request can hold a pooled client while parked behind the lock.
        DATABASE_POOL_SIZE: String(CONNECTIONS + 5),
        // Also the drain limit: far longer than the requests are held here.
        HTTP_REQUEST_TIMEOUT_MS: '8000',
      });
      await app.listening();
      const runId = `r${Date.now()}`;
      const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
      // Keys and token cache warm, so the first requests do not wait on the issuer.
      for (const user of users) {
        expect((await recordOutcome(agent, app.url, user.jwt, -1, 'GET', runId)).status).toBe(200);
      }

      locker = new Client({ connectionString: database.url });
      await locker.connect();
      const outcomes: Outcome[] = [];
      let next = 0;
      let sigtermAt = Number.POSITIVE_INFINITY;
      let lockTaken = false;
      let lockHeld = false;
      // Most requests run freely; then one per connection is parked, and the rest come after.
      const takeLockAfter = REQUESTS - 2 * CONNECTIONS;

      const worker = async () => {
        for (;;) {
          const index = next++;
          if (index >= REQUESTS) return;
          if (index === takeLockAfter && !lockTaken) {
            lockTaken = true;
            await locker!.query('BEGIN');
            await locker!.query('LOCK TABLE todos IN ACCESS EXCLUSIVE MODE');
            lockHeld = true;
          }
          const user = users[index % users.length];
          const outcome = await recordOutcome(
            agent,
            app!.url,
            user.jwt,
            index,
            index % 2 === 0 ? 'POST' : 'GET',
            runId,
          );
          outcomes.push(outcome);
          // After the server has gone, further requests cannot be accepted: stop quickly.
          if (outcome.error === 'ECONNREFUSED' && Date.now() > sigtermAt) return;
        }
      };
      const workers = Array.from({ length: CONNECTIONS }, () => worker());

      // A request whose body is still arriving when SIGTERM comes: accepted, so it must finish.
      const slowTitle = `shutdown ${runId} slow body`;
      const slowBody = JSON.stringify({ title: slowTitle });
      const slow = openConnection(app.url);
      slow.socket.write(
        `POST /api/todos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${users[0].jwt}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(slowBody)}\r\n` +
          `Connection: close\r\n\r\n${slowBody.slice(0, 5)}`,
      );
      // Two pipelined requests on one connection: Node reads both before shutdown begins, so
      // both were accepted and both must be answered. Two more, sent on it after SIGTERM, arrive
      // after close began: the connection is open, so they are served too, and only the answer
      // to the last of them ends the connection.
      const pipelined = openConnection(app.url);
      const get = `GET /api/todos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${users[1].jwt}\r\n\r\n`;
      await until(() => lockHeld);
      pipelined.socket.write(get + get);

      // Every worker's connection and the pipelined one are parked behind the lock.
      const lockerPid = (await locker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))
        .rows[0].pid;
      await waitForBlockedSessions(database.url, lockerPid, CONNECTIONS + 1);
      const inFlight = outcomes.length;
      sigtermAt = Date.now();
      app.signal('SIGTERM');
      // Close has begun once new connections are refused (a fixed wait is not enough on a busy
      // machine).
      const port = Number(new URL(app.url).port);
      while (await portIsOpen(port)) await sleep(10);
      pipelined.socket.write(get + get);
      slow.socket.write(slowBody.slice(5));
      await sleep(300);
      await locker.query('COMMIT');

      const exit = await app.exit(EXIT_LIMIT_MS);
      await Promise.all(workers);
      agent.destroy();
      const slowResult = await slow.closed;
      const pipelinedResult = await pipelined.closed;

      // 1. Every request the server accepted got a whole answer; none was cut off.
      const failures = outcomes.filter(
        (o) => !(o.status === 200 || o.status === 201) && o.error !== 'ECONNREFUSED',
      );
      expect(failures).toEqual([]);
      // Refused connections are only those opened after the server stopped listening.
      for (const o of outcomes.filter((r) => r.error === 'ECONNREFUSED')) {
        expect(o.startedAt).toBeGreaterThanOrEqual(sigtermAt);
      }
      // The requests in flight at SIGTERM (one per connection) all completed successfully.
      const parked = outcomes.filter((o) => o.startedAt < sigtermAt && o.endedAt >= sigtermAt);
      expect(parked).toHaveLength(CONNECTIONS);
      expect(parked.every((o) => o.status === 200 || o.status === 201)).toBe(true);
      // ... each telling its client that the connection ends there, so none reuses it.
      expect(parked.every((o) => o.connectionHeader === 'close')).toBe(true);
      expect(inFlight).toBeGreaterThanOrEqual(takeLockAfter - CONNECTIONS);

      expect(statusLines(slowResult.received)).toEqual(['HTTP/1.1 201 Created']);
      expect(slowResult.error).toBeUndefined();
      expect(statusLines(pipelinedResult.received)).toEqual([
        'HTTP/1.1 200 OK',
        'HTTP/1.1 200 OK',
        'HTTP/1.1 200 OK',
        'HTTP/1.1 200 OK',
      ]);
      const answers = pipelinedResult.received
        .split(/(?=HTTP\/1\.1 \d{3} )/)
        .map((raw) => parseRawReply(raw, '/api/todos'));
      expect(answers.map((reply) => reply.headers.get('connection') === 'close')).toEqual([
        false,
        false,
        false,
        true,
      ]);
      expect(pipelinedResult.error).toBeUndefined();

      // 2. The process exits by itself, with 0, once the work is done.
      expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
      expect(exit.ms).toBeLessThan(EXIT_LIMIT_MS);
      expect(app.logs.failures()).toEqual([]);

      // 3. The database holds exactly the todos that were confirmed with 201.
      const confirmed = outcomes.filter((o) => o.method === 'POST' && o.status === 201);
      const notConfirmed = outcomes.filter((o) => o.method === 'POST' && o.status !== 201);
      const check = new Client({ connectionString: database.url });
      await check.connect();
      const { rows } = await check.query<{ title: string }>(
        'SELECT title FROM todos WHERE title LIKE $1',
        [`shutdown ${runId} %`],
      );
      await check.end();
      const stored = new Set(rows.map((row) => row.title));
      expect(stored.size).toBe(rows.length);
      expect([...stored].sort()).toEqual(
        [...confirmed.map((o) => o.title as string), slowTitle].sort(),
      );
      for (const o of notConfirmed) expect(stored.has(o.title as string)).toBe(false);

      const summary = {
        requests: outcomes.length,
        inFlightAtSigterm: parked.length + 3,
        ok: outcomes.filter((o) => o.status === 200 || o.status === 201).length,
        refusedAfterClose: outcomes.filter((o) => o.error === 'ECONNREFUSED').length,
        exitMs: exit.ms,
      };
      process.stdout.write(`graceful shutdown: ${JSON.stringify(summary)}\n`);
      expect(summary.ok).toBeGreaterThanOrEqual(takeLockAfter);
    });
  });

  describe('clients that would hold the shutdown open', () => {
    let app: AppProcess | undefined;

    afterAll(() => app?.kill());

    it('closes idle keep-alive connections after a short grace and cuts a slow client at the drain limit', async () => {
      const drainLimitMs = 2000;
      app = await AppProcess.spawn({
        DATABASE_URL: testDatabaseUrl(),
        MIGRATIONS_RUN: 'false',
        BETTER_AUTH_URL: issuer.url,
        HTTP_REQUEST_TIMEOUT_MS: String(drainLimitMs),
      });
      await app.listening();
      // A keep-alive connection that answered one request and now sits idle.
      const idle = openConnection(app.url);
      idle.socket.write('GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n');
      await until(() => idle.socket.bytesRead > 0);
      // A client that trickles the headers of its second request and never finishes. (Its
      // first request, answered, proves the server has accepted the connection: one still in
      // the listen backlog when the server closes is reset by the kernel.)
      const slow = openConnection(app.url);
      slow.socket.write('GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n');
      await until(() => slow.socket.bytesRead > 0);
      slow.socket.write('GET /api/health HTTP/1.1\r\nHost: x\r\n');
      const trickle = setInterval(
        () => slow.socket.writable && slow.socket.write('X-A: b\r\n'),
        100,
      );
      await sleep(300);

      const sigtermAt = Date.now();
      app.signal('SIGTERM');
      const idleClosedAfter = await idle.closed.then(() => Date.now() - sigtermAt);
      const slowResult = await slow.closed;
      const slowClosedAfter = Date.now() - sigtermAt;
      clearInterval(trickle);
      const exit = await app.exit(EXIT_LIMIT_MS);

      // Idle connections are kept for a grace period (a quarter of the limit here), so that a
      // request already on its way is answered, then closed well before the limit.
      expect(idleClosedAfter).toBeLessThan(drainLimitMs);
      // Node stops timing requests out once the server closes; the drain limit still applies.
      expect(slowClosedAfter).toBeGreaterThanOrEqual(drainLimitMs - 200);
      expect(slowClosedAfter).toBeLessThan(drainLimitMs + 3000);
      expect(statusLines(slowResult.received)).toEqual(['HTTP/1.1 200 OK']);
      expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
      expect(app.logs.lines).toContainEqual(
        expect.objectContaining({
          level: 'warn',
          msg: 'shutdown: closing connections still open after the limit',
        }),
      );
    });
  });

  describe('with the embedded PostgreSQL (no DATABASE_URL)', () => {
    let root: string;
    let app: AppProcess | undefined;

    beforeAll(() => {
      root = mkdtempSync(join(tmpdir(), 'todo-api-shutdown-'));
      // PostgreSQL runs as the `postgres` user when the tests run as root: it must get in.
      chmodSync(root, 0o755);
    });

    afterAll(() => {
      app?.kill();
      rmSync(root, { recursive: true, force: true });
    });

    it('finishes the requests in flight, shares the rate-limit counters, closes the pool, then stops PostgreSQL', async () => {
      const dataDir = join(root, 'postgres');
      const pgPort = await freePort();
      app = await AppProcess.spawn({
        EMBEDDED_POSTGRES_DATA_DIR: dataDir,
        EMBEDDED_POSTGRES_PORT: String(pgPort),
        BETTER_AUTH_URL: issuer.url,
        HTTP_REQUEST_TIMEOUT_MS: '8000',
        // The shutdown steps and PostgreSQL's own log lines are logged at debug.
        LOG_LEVEL: 'debug',
      });
      await app.listening(90_000);
      const databaseUrl = `postgres://postgres:postgres@127.0.0.1:${pgPort}/todos`;
      const agent = new Agent({ keepAlive: true });
      const runId = `e${Date.now()}`;
      expect((await recordOutcome(agent, app.url, users[0].jwt, -1, 'GET', runId)).status).toBe(
        200,
      );

      const locker = new Client({ connectionString: databaseUrl });
      await locker.connect();
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE todos IN ACCESS EXCLUSIVE MODE');
      const lockerPid = (await locker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))
        .rows[0].pid;
      const inFlight = Array.from({ length: 10 }, (_, i) =>
        recordOutcome(
          agent,
          app!.url,
          users[i % users.length].jwt,
          i,
          i % 2 === 0 ? 'POST' : 'GET',
          runId,
        ),
      );
      await waitForBlockedSessions(databaseUrl, lockerPid, inFlight.length);
      app.signal('SIGTERM');
      await sleep(300);
      await locker.query('COMMIT');
      await locker.end();

      const outcomes = await Promise.all(inFlight);
      const exit = await app.exit(EXIT_LIMIT_MS);
      agent.destroy();

      expect(outcomes.map((o) => o.status ?? o.error)).toEqual(
        outcomes.map((o) => (o.method === 'POST' ? 201 : 200)),
      );
      expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });

      // The shutdown order, read off the log: requests, then the last writes, then the
      // pool, then PostgreSQL.
      const lastRequest = app.logs.lines.findLastIndex((line) => line.msg === 'request completed');
      const countersShared = app.logs.lines.findIndex(
        (line) => line.msg === 'Rate-limit counters shared before shutdown',
      );
      const poolClosed = app.logs.lines.findIndex(
        (line) => line.msg === 'Connection pool closed; stopping embedded PostgreSQL',
      );
      const postgresDown = app.logs.lines.findIndex((line) =>
        /database system is shut down/.test(String(line.msg)),
      );
      const stopped = app.logs.lines.findIndex(
        (line) => line.msg === 'Embedded PostgreSQL stopped',
      );
      expect(lastRequest).toBeGreaterThan(0);
      expect([lastRequest, countersShared, poolClosed]).toEqual(
        [lastRequest, countersShared, poolClosed].sort((a, b) => a - b),
      );
      // PostgreSQL's own "shut down" line comes through its stderr pipe, which Node may still be
      // draining when the process's exit resolves stop(): both follow the pool, in either order.
      expect(postgresDown).toBeGreaterThan(poolClosed);
      expect(stopped).toBeGreaterThan(poolClosed);
      expect(Math.min(countersShared, poolClosed, postgresDown, stopped)).toBeGreaterThan(0);
      // Had a pooled connection still been open, PostgreSQL would have had to cut it.
      const logText = app.logs.lines.map((line) => String(line.msg)).join('\n');
      expect(logText).not.toMatch(/terminating connection due to administrator command/);
      expect(app.logs.failures()).toEqual([]);

      // And PostgreSQL is really gone: port closed, no process left on that data directory,
      // and its lock file removed (it does that only on a clean shutdown).
      await expect(portIsOpen(pgPort)).resolves.toBe(false);
      expect(processesUsing(dataDir)).toEqual([]);
      expect(existsSync(join(dataDir, 'postmaster.pid'))).toBe(false);
    });
  });
});

async function until(condition: () => boolean, limitMs = 10_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

/** Pids whose command line mentions `path` (Linux /proc). */
function processesUsing(path: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(path)) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}
