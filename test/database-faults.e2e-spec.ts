import { setTimeout as sleep } from 'node:timers/promises';
import { DATABASE_RETRY_AFTER_SECONDS } from '../src/database/database.errors';
import { BetterAuthIssuer, IssuedUser } from './support/better-auth-issuer';
import { HttpClient, Reply } from './support/http';
import { SuitePostgres } from './support/postgres-faults';
import { expectProblem } from './support/problem';
import { startTestApp, TestApp } from './support/test-app';

/**
 * While the database is down, requests that need it get 503 with Retry-After (never a
 * 500, never a hang, never driver text), the rest of the API keeps working, and the service
 * recovers by itself when the database returns. The suite runs its own PostgreSQL, so stopping
 * it disturbs no other suite.
 */

jest.setTimeout(120_000);

/** No response may take longer than this, database or not (the pool gives up after 3 s). */
const RESPONSE_LIMIT_MS = 10_000;
const RECOVERY_LIMIT_MS = 20_000;
/** HTTP_HANDLER_TIMEOUT_MS for this suite: what a request waits on a database that hangs. */
const HANDLER_TIMEOUT_MS = 3000;

describe('database faults', () => {
  let postgres: SuitePostgres;
  let issuer: BetterAuthIssuer;
  let user: IssuedUser;
  let api: TestApp;
  /** The app as the test user; `anonymous` without a token. Nothing may hang past the limit. */
  let http: HttpClient;
  let anonymous: HttpClient;
  let existingId: string;

  beforeAll(async () => {
    postgres = await SuitePostgres.start('db-faults');

    issuer = await BetterAuthIssuer.start();
    user = await issuer.createUser();
    api = await startTestApp({
      DATABASE_URL: postgres.url,
      BETTER_AUTH_URL: issuer.url,
      HTTP_HANDLER_TIMEOUT_MS: String(HANDLER_TIMEOUT_MS),
    });
    anonymous = api.http.with({ timeoutMs: RESPONSE_LIMIT_MS + 5000 });
    http = anonymous.as(user.jwt);
  });

  afterAll(async () => {
    await api?.close();
    await postgres?.close();
    await issuer?.close();
  });

  /** 503, Retry-After, problem+json, quickly, and nothing from the driver in the body. */
  function expectDatabaseUnavailable(reply: Reply, path: string) {
    expectProblem(reply, {
      status: 503,
      retryAfter: String(DATABASE_RETRY_AFTER_SECONDS),
      instance: path,
    });
    expect(reply.ms).toBeLessThan(RESPONSE_LIMIT_MS);
    expect(reply.text).not.toMatch(
      /ECONN|connect|postgres|pg_|SELECT|INSERT|UPDATE|DELETE FROM|terminat|5[37]P0|127\.0\.0\.1|:\d{4,5}|stack|at \w+ \(/i,
    );
  }

  it('works while the database is up (baseline)', async () => {
    const created = await http.post('/api/todos', { title: 'made before the outage' });
    expect(created.status).toBe(201);
    existingId = (created.body as { id: string }).id;
    expect((await http.get('/api/todos')).status).toBe(200);
    expect((await anonymous.get('/api/health/ready')).status).toBe(200);
  });

  describe('while PostgreSQL hangs (every process stopped with SIGSTOP)', () => {
    let frozen: number[];

    beforeAll(() => {
      frozen = postgres.processes();
      expect(frozen.length).toBeGreaterThan(1);
      for (const pid of frozen) process.kill(pid, 'SIGSTOP');
    });

    afterAll(() => {
      for (const pid of frozen) process.kill(pid, 'SIGCONT');
    });

    it('answers requests that need it with 503 once HTTP_HANDLER_TIMEOUT_MS passes, never hanging', async () => {
      // More requests than the pool has connections: some wait on a query that never returns,
      // the others for a connection.
      const replies = await Promise.all(
        Array.from({ length: 14 }, (_, i) =>
          i % 2 ? http.get('/api/todos') : http.get(`/api/todos/${existingId}`),
        ),
      );
      for (const reply of replies) {
        expect(reply.status).toBe(503);
        expect(reply.headers.get('retry-after')).toBe(String(DATABASE_RETRY_AFTER_SECONDS));
        expect(reply.ms).toBeLessThan(HANDLER_TIMEOUT_MS + 3000);
        expect(reply.text).not.toMatch(/timeout exceeded|FST_|ECONN|SELECT/);
      }
    });

    it('reports not ready within its own probe limit', async () => {
      const reply = await anonymous.get('/api/health/ready');
      expect(reply.status).toBe(503);
      expect(reply.ms).toBeLessThan(HANDLER_TIMEOUT_MS + 1000);
    });

    it('keeps serving the profile and liveness at once', async () => {
      const profile = await http.get('/api/profile');
      expect(profile.status).toBe(200);
      expect(profile.ms).toBeLessThan(1000);
      expect((await anonymous.get('/api/health')).status).toBe(200);
    });
  });

  describe('after PostgreSQL resumes', () => {
    it('serves requests again without a restart of the app', async () => {
      const startedAt = performance.now();
      const reply = await http.getUntil('/api/todos', 200, RECOVERY_LIMIT_MS);
      expect(reply.status).toBe(200);
      process.stdout.write(
        `database faults: ${Math.round(performance.now() - startedAt)} ms to serve again after SIGCONT\n`,
      );
      expect((await http.get(`/api/todos/${existingId}`)).status).toBe(200);
    });
  });

  describe('while PostgreSQL is stopped', () => {
    beforeAll(async () => {
      await postgres.stop();
    });

    it.each([
      ['GET', '/api/todos', undefined],
      ['POST', '/api/todos', { title: 'during the outage' }],
      ['GET', '/api/todos/<existing>', undefined],
      ['PATCH', '/api/todos/<existing>', { completed: true }],
      ['DELETE', '/api/todos/<existing>', undefined],
    ])('%s %s → 503 with Retry-After, fast, no driver text', async (method, template, body) => {
      const path = template.replace('<existing>', existingId);
      expectDatabaseUnavailable(await http.request(method, path, { json: body }), path);
    });

    it('answers many concurrent requests with 503 too, none hanging', async () => {
      const replies = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          i % 2 ? http.get('/api/todos') : http.post('/api/todos', { title: `burst ${i}` }),
        ),
      );
      for (const reply of replies) expectDatabaseUnavailable(reply, '/api/todos');
    });

    it('reports not ready (503) on /api/health/ready, quickly', async () => {
      const reply = await anonymous.get('/api/health/ready');
      expectProblem(reply, { status: 503, retryAfter: expect.stringMatching(/^[1-9]\d*$/) });
      expect(reply.ms).toBeLessThan(RESPONSE_LIMIT_MS);
      expect(reply.body).toMatchObject({ status: 503, detail: /database/ });
    });

    it('keeps serving what needs no database: liveness and the profile', async () => {
      expect((await anonymous.get('/api/health')).status).toBe(200);
      const profile = await http.get('/api/profile');
      expect(profile.status).toBe(200);
      expect(profile.body).toMatchObject({ id: user.id });
    });

    it('still refuses a request without a token with 401, not 503', async () => {
      expect((await anonymous.get('/api/todos')).status).toBe(401);
    });

    it('logs the outage as warnings, never as a 500', () => {
      expect(api.logs.failures()).toEqual([]);
      expect(api.logs.lines.filter((line) => line.statusCode === 500)).toEqual([]);
      expect(api.logs.find({ level: 'warn', msg: 'dependency unavailable' })).not.toEqual([]);
    });
  });

  describe('after PostgreSQL comes back on the same port and data', () => {
    let recoveryMs: number;

    beforeAll(async () => {
      await postgres.restart();
      const startedAt = performance.now();
      const deadline = startedAt + RECOVERY_LIMIT_MS;
      for (;;) {
        const reply = await http.get('/api/todos');
        if (reply.status === 200) break;
        expect(reply.status).toBe(503);
        if (performance.now() > deadline) throw new Error('the API did not recover in time');
        await sleep(100);
      }
      recoveryMs = performance.now() - startedAt;
      process.stdout.write(
        `database faults: recovered ${Math.round(recoveryMs)} ms after restart\n`,
      );
    });

    it('recovers without a restart of the app, within the bound', () => {
      expect(recoveryMs).toBeLessThan(RECOVERY_LIMIT_MS);
    });

    it('serves reads and writes again, with the data from before the outage', async () => {
      const list = await http.get('/api/todos');
      const titles = (list.body as { todos: Array<{ title: string }> }).todos.map(
        (todo) => todo.title,
      );
      expect(titles).toContain('made before the outage');
      // Nothing sent during the outage was stored.
      expect(
        titles.filter((title) => title.startsWith('burst') || title === 'during the outage'),
      ).toEqual([]);
      expect((await http.post('/api/todos', { title: 'made after the outage' })).status).toBe(201);
      expect((await http.patch(`/api/todos/${existingId}`, { completed: true })).status).toBe(200);
    });

    it('is ready again', async () => {
      const ready = await anonymous.getUntil('/api/health/ready', 200, RECOVERY_LIMIT_MS);
      expect(ready.status).toBe(200);
    });
  });
});
