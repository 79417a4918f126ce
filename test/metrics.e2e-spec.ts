import { randomUUID } from 'node:crypto';
import { createServer, Server } from 'node:net';
import { AppProcess } from './support/app-process';
import { BetterAuthIssuer, IssuedUser } from './support/better-auth-issuer';
import { freePort } from './support/free-port';
import { expectProblem } from './support/problem';
import {
  MetricFamily,
  parseExposition,
  sampleOf,
  scrape,
  scrapeMetrics,
  valueOf,
} from './support/prometheus';
import { startTestApp, TestApp } from './support/test-app';
import { testDatabaseUrl } from './support/test-env';

const DURATION = 'todo_api_http_request_duration_seconds';

/** The same token with another `sub`: the issuer's signature no longer matches. */
function tampered(jwt: string): string {
  const [header, payload, signature] = jwt.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as object;
  const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString(
    'base64url',
  );
  return `${header}.${forged}.${signature}`;
}

describe('Prometheus metrics', () => {
  let issuer: BetterAuthIssuer;
  let user: IssuedUser;
  let api: TestApp;
  let metricsUrl: string;

  beforeAll(async () => {
    issuer = await BetterAuthIssuer.start();
    user = await issuer.createUser();
    const metricsPort = await freePort();
    metricsUrl = `http://127.0.0.1:${metricsPort}`;
    api = await startTestApp({
      BETTER_AUTH_URL: issuer.url,
      METRICS_PORT: String(metricsPort),
      METRICS_HOST: '127.0.0.1',
      // Small enough to reach in a few requests; the user and addresses below are this file's own.
      THROTTLE_USER_LIMIT: '4',
      THROTTLE_ANONYMOUS_LIMIT: '3',
    });
  });

  afterAll(async () => {
    await api.close();
    await issuer.close();
  });

  it('are not served on the public port: /metrics there is a 404 problem', async () => {
    for (const path of ['/metrics', '/api/metrics']) {
      expectProblem(await api.http.get(path), { status: 404 });
    }
  });

  it('are served on their own port as a valid exposition, every name prefixed', async () => {
    const reply = await scrape(`${metricsUrl}/metrics`);
    expect(reply.status).toBe(200);
    expect(reply.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    const families = parseExposition(reply.text);
    for (const name of families.keys()) expect(name).toMatch(/^todo_api_/);
    // Prometheus keeps `_total` for counters.
    for (const family of families.values()) {
      if (family.type !== 'counter') expect(family.name).not.toMatch(/_total$/);
    }
  });

  it('answer nothing but GET /metrics on the metrics port', async () => {
    expect((await scrape(`${metricsUrl}/`)).status).toBe(404);
    expect((await scrape(`${metricsUrl}/api/health`)).status).toBe(404);
    expect((await scrape(`${metricsUrl}/metrics`, 'POST')).status).toBe(405);
    const head = await scrape(`${metricsUrl}/metrics`, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
  });

  it('time requests by method, route template and status class, never by raw path', async () => {
    const missingId = randomUUID();
    const strayPath = `/api/no-such-route/${randomUUID()}`;
    const before = await scrapeMetrics(metricsUrl);
    const count = (families: Map<string, MetricFamily>, labels: Record<string, string>) =>
      valueOf(families, `${DURATION}_count`, labels);

    const asUser = api.http.as(user.jwt);
    expect((await asUser.get('/api/profile')).status).toBe(200);
    expect((await asUser.get('/api/todos')).status).toBe(200);
    expectProblem(await asUser.get(`/api/todos/${missingId}`), { status: 404 });
    expectProblem(await api.http.get(strayPath), { status: 404 });
    expect((await api.http.get('/api/health')).status).toBe(200);

    const after = await scrapeMetrics(metricsUrl);
    const grew = (labels: Record<string, string>) => count(after, labels) - count(before, labels);
    expect(grew({ method: 'GET', route: '/api/profile', status_class: '2xx' })).toBe(1);
    expect(grew({ method: 'GET', route: '/api/todos', status_class: '2xx' })).toBe(1);
    expect(grew({ method: 'GET', route: '/api/todos/:id', status_class: '4xx' })).toBe(1);
    expect(grew({ method: 'GET', route: 'unmatched', status_class: '4xx' })).toBe(1);
    expect(grew({ method: 'GET', route: '/api/health', status_class: '2xx' })).toBe(1);

    const profile = { method: 'GET', route: '/api/profile', status_class: '2xx' };
    const inf = sampleOf(after, `${DURATION}_bucket`, { ...profile, le: '+Inf' });
    expect(inf?.value).toBe(count(after, profile));
    expect(valueOf(after, `${DURATION}_sum`, profile)).toBeGreaterThan(0);

    // Bounded labels: no id, token or path a client chose appears anywhere in the exposition.
    const text = (await scrape(`${metricsUrl}/metrics`)).text;
    for (const secret of [missingId, strayPath, user.id, user.jwt, user.email]) {
      expect(text).not.toContain(secret);
    }
  });

  it('count authentication refusals by reason', async () => {
    const before = await scrapeMetrics(metricsUrl);
    const refusals = (families: Map<string, MetricFamily>, reason: string) =>
      valueOf(families, 'todo_api_auth_refusals_total', { reason });
    const client = api.http.with({ localAddress: '127.0.0.201' });

    expectProblem(await client.get('/api/profile'), { status: 401 });
    expectProblem(await client.get('/api/profile', { token: tampered(user.jwt) }), {
      status: 401,
    });

    const after = await scrapeMetrics(metricsUrl);
    expect(refusals(after, 'no_bearer_token') - refusals(before, 'no_bearer_token')).toBe(1);
    expect(
      refusals(after, 'signature_verification_failed') -
        refusals(before, 'signature_verification_failed'),
    ).toBe(1);
  });

  it('count 429s by the kind of bucket that was full', async () => {
    const before = await scrapeMetrics(metricsUrl);
    const limited = (families: Map<string, MetricFamily>, bucket: string) =>
      valueOf(families, 'todo_api_rate_limited_requests_total', { bucket });

    // A fresh user and address, so no other test's requests share these buckets.
    const other = await issuer.createUser();
    const asOther = api.http.as(other.jwt).with({ localAddress: '127.0.0.202' });
    for (let i = 0; i < 4; i++) expect((await asOther.get('/api/profile')).status).toBe(200);
    expectProblem(await asOther.get('/api/profile'), {
      status: 429,
      retryAfter: expect.stringMatching(/^\d+$/),
    });

    // Garbage tokens: only those count against an address (a missing token always gets its 401).
    const stranger = api.http.as('not-a-jwt').with({ localAddress: '127.0.0.203' });
    for (let i = 0; i < 3; i++) expect((await stranger.get('/api/profile')).status).toBe(401);
    expectProblem(await stranger.get('/api/profile'), {
      status: 429,
      retryAfter: expect.stringMatching(/^\d+$/),
    });

    const after = await scrapeMetrics(metricsUrl);
    expect(limited(after, 'user') - limited(before, 'user')).toBe(1);
    expect(limited(after, 'failed_auth') - limited(before, 'failed_auth')).toBe(1);
    // No anonymous limit was reached; the series exists all the same, at its earlier value.
    expect(
      sampleOf(after, 'todo_api_rate_limited_requests_total', { bucket: 'anonymous' })?.value,
    ).toBe(limited(before, 'anonymous'));
    const status = (families: Map<string, MetricFamily>) =>
      valueOf(families, `${DURATION}_count`, {
        method: 'GET',
        route: '/api/profile',
        status_class: '4xx',
      });
    // The 3 refusals and 2 limited answers above.
    expect(status(after) - status(before)).toBe(5);
  });

  it('report the key set, JWKS fetches and the verified-token cache', async () => {
    const before = await scrapeMetrics(metricsUrl);
    const fresh = await issuer.createUser();
    const asFresh = api.http.as(fresh.jwt).with({ localAddress: '127.0.0.204' });
    expect((await asFresh.get('/api/profile')).status).toBe(200);
    expect((await asFresh.get('/api/profile')).status).toBe(200);
    const after = await scrapeMetrics(metricsUrl);

    expect(valueOf(after, 'todo_api_jwks_fetches_total', { outcome: 'success' })).toBe(1);
    expect(valueOf(after, 'todo_api_jwks_fetches_total', { outcome: 'failure' })).toBe(0);
    expect(valueOf(after, 'todo_api_jwks_keys')).toBe(1);
    const age = valueOf(after, 'todo_api_jwks_key_set_age_seconds');
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(600);

    const delta = (name: string) => valueOf(after, name) - valueOf(before, name);
    expect(delta('todo_api_token_cache_misses_total')).toBe(1);
    expect(delta('todo_api_token_cache_hits_total')).toBe(1);
    expect(valueOf(after, 'todo_api_token_cache_entries')).toBeGreaterThanOrEqual(1);
  });

  it('report the connection pool, readiness and the Node runtime', async () => {
    const families = await scrapeMetrics(metricsUrl);
    const total = valueOf(families, 'todo_api_db_pool_connections');
    expect(total).toBeGreaterThanOrEqual(1);
    expect(valueOf(families, 'todo_api_db_pool_idle_connections')).toBeLessThanOrEqual(total);
    expect(sampleOf(families, 'todo_api_db_pool_waiting_queries')?.value).toBe(0);
    expect(valueOf(families, 'todo_api_db_pool_max_connections')).toBe(10);
    expect(sampleOf(families, 'todo_api_ready')?.value).toBe(1);

    expect(families.get('todo_api_nodejs_eventloop_lag_seconds')?.type).toBe('gauge');
    expect(families.get('todo_api_nodejs_gc_duration_seconds')?.type).toBe('histogram');
    expect(valueOf(families, 'todo_api_nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(valueOf(families, 'todo_api_process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('belong to their app: a second app in the same process counts only its own', async () => {
    const metricsPort = await freePort();
    const second = await startTestApp({
      BETTER_AUTH_URL: issuer.url,
      METRICS_PORT: String(metricsPort),
      METRICS_HOST: '127.0.0.1',
    });
    try {
      expect((await second.http.get('/api/health')).status).toBe(200);
      const families = await scrapeMetrics(`http://127.0.0.1:${metricsPort}`);
      const requests = families.get(DURATION)?.samples.filter((s) => s.name.endsWith('_count'));
      expect(requests?.map((s) => [s.labels.route, s.value])).toEqual([['/api/health', 1]]);
    } finally {
      await second.close();
    }
  });
});

describe('the metrics port', () => {
  let blocker: Server;
  let busyPort: number;

  beforeAll(async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    busyPort = (blocker.address() as { port: number }).port;
  });

  afterAll(() => new Promise<void>((resolve) => blocker.close(() => resolve())));

  it('stops the start with a clear error when it is already in use', async () => {
    const app = await AppProcess.spawn({
      DATABASE_URL: testDatabaseUrl(),
      MIGRATIONS_RUN: 'false',
      METRICS_PORT: String(busyPort),
      METRICS_HOST: '127.0.0.1',
    });
    const { code } = await app.exit(60_000);
    expect(code).toBe(1);
    expect(app.output).toContain(
      `Startup failed: Cannot serve metrics on 127.0.0.1:${busyPort} (METRICS_PORT=${busyPort}, METRICS_HOST=127.0.0.1): the port is already in use.`,
    );
    expect(app.logs.find({ msg: 'Todo API listening' })).toEqual([]);
  });

  it('is closed when the app stops', async () => {
    const metricsPort = await freePort();
    const app = await AppProcess.spawn({
      DATABASE_URL: testDatabaseUrl(),
      MIGRATIONS_RUN: 'false',
      METRICS_PORT: String(metricsPort),
      METRICS_HOST: '127.0.0.1',
    });
    await app.listening();
    expect((await scrape(`http://127.0.0.1:${metricsPort}/metrics`)).status).toBe(200);
    expect(await app.stop()).toEqual({ code: 0, signal: null });
    await expect(scrape(`http://127.0.0.1:${metricsPort}/metrics`)).rejects.toThrow(/ECONNREFUSED/);
  });
});
