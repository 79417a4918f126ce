import { BetterAuthIssuer } from './support/better-auth-issuer';
import { DatabaseLink } from './support/database-link';
import { HttpClient } from './support/http';
import { expectProblem } from './support/problem';
import { startTestApp, TestApp } from './support/test-app';

/** The pool reconnects on demand, not instantly: how long the API may take to serve again. */
const RECONNECT_LIMIT_MS = 15_000;

let issuer: BetterAuthIssuer;
let link: DatabaseLink;
let api: TestApp;
/** The app as the test user. */
let http: HttpClient;

beforeAll(async () => {
  link = await DatabaseLink.toTestDatabase();
  issuer = await BetterAuthIssuer.start();
  api = await startTestApp({ BETTER_AUTH_URL: issuer.url, DATABASE_URL: link.url });
  http = api.http.as((await issuer.createUser()).jwt);
});

afterAll(async () => {
  await api?.close();
  await issuer?.close();
  await link?.down();
});

it('answers 503 with Retry-After while the database is down, and recovers by itself', async () => {
  const created = await http.post('/api/todos', { title: 'survives the outage' });
  expect(created.status).toBe(201);
  const { id } = created.body as { id: string };
  expect((await http.get('/api/health/ready')).status).toBe(200);

  await link.down();

  for (const [method, path, body] of [
    ['GET', '/api/todos', undefined],
    ['GET', `/api/todos/${id}`, undefined],
    ['POST', '/api/todos', { title: 'while down' }],
    ['PATCH', `/api/todos/${id}`, { completed: true }],
    ['DELETE', `/api/todos/${id}`, undefined],
  ] as const) {
    const response = await http.request(method, path, { json: body });
    expect({ method, path, status: response.status }).toEqual({ method, path, status: 503 });
    expectProblem(response, {
      status: 503,
      retryAfter: '5',
      detail: 'The database is unavailable; retry shortly.',
    });
    expect(response.text).not.toMatch(/ECONNREFUSED|Connection terminated|127\.0\.0\.1/);
  }
  // Readiness reuses its last answer for about a second, so the outage shows within that time.
  const ready = await http.getUntil('/api/health/ready', 503, 5000);
  expect(ready.status).toBe(503);
  expect(ready.headers.get('retry-after')).toEqual(expect.any(String));
  expect(api.logs.failures()).toEqual([]);

  await link.up();

  const back = await http.getUntil(`/api/todos/${id}`, 200, RECONNECT_LIMIT_MS);
  expect(back.status).toBe(200);
  expect(back.body).toMatchObject({ id, title: 'survives the outage' });
  const readyAgain = await http.getUntil('/api/health/ready', 200, RECONNECT_LIMIT_MS);
  expect(readyAgain.body).toEqual({
    status: 'ok',
    checks: { database: 'up', jwks: 'up' },
  });
}, 60_000);
