import { randomUUID } from 'node:crypto';
import { BetterAuthIssuer, IssuedUser } from './support/better-auth-issuer';
import { HttpClient, Reply } from './support/http';
import { expectProblem } from './support/problem';
import { startTestApp, TestApp } from './support/test-app';

/**
 * Answers that carry a user's data must never be kept by a shared cache or the browser: every
 * route that needs a token answers `Cache-Control: no-store`, successes and errors alike, and
 * the public probes and docs are left alone.
 */

let issuer: BetterAuthIssuer;
let api: TestApp;
let alice: IssuedUser;
let asAlice: HttpClient;

beforeAll(async () => {
  issuer = await BetterAuthIssuer.start();
  api = await startTestApp({ BETTER_AUTH_URL: issuer.url });
  alice = await issuer.createUser();
  asAlice = api.http.as(alice.jwt);
});

afterAll(async () => {
  await api?.close();
  await issuer?.close();
});

function expectNoStore(reply: Reply, status: number): void {
  expect({ status: reply.status, cacheControl: reply.headers.get('cache-control') }).toEqual({
    status,
    cacheControl: 'no-store',
  });
}

describe('Cache-Control on routes that need a token', () => {
  it('is no-store on every todos answer, from create to delete', async () => {
    const created = await asAlice.post('/api/todos', { title: 'private' });
    expectNoStore(created, 201);
    const path = `/api/todos/${created.body.id}`;
    const etag = created.headers.get('etag') ?? '';

    expectNoStore(await asAlice.get('/api/todos'), 200);
    expectNoStore(await asAlice.get(path), 200);
    expectNoStore(await asAlice.get(path, { headers: { 'If-None-Match': etag } }), 304);
    const patched = await asAlice.patch(
      path,
      { completed: true },
      { headers: { 'If-Match': etag } },
    );
    expectNoStore(patched, 200);
    expectNoStore(await asAlice.delete(path, { headers: { 'If-Match': etag } }), 412);
    expectNoStore(await asAlice.delete(path), 204);
  });

  it('is no-store on the profile', async () => {
    const reply = await asAlice.get('/api/profile');
    expectNoStore(reply, 200);
    expect(reply.body).toMatchObject({ id: alice.id, email: alice.email });
  });

  it('is no-store on errors: not found, invalid body, no token, bad token', async () => {
    const missing = await asAlice.get(`/api/todos/${randomUUID()}`);
    expectProblem(missing, { status: 404 });
    expectNoStore(missing, 404);

    const invalid = await asAlice.post('/api/todos', { title: '' });
    expectProblem(invalid, { status: 400, errors: ['title'] });
    expectNoStore(invalid, 400);

    const anonymous = await api.http.get('/api/todos');
    expectProblem(anonymous, { status: 401, wwwAuthenticate: 'Bearer realm="api"' });
    expectNoStore(anonymous, 401);

    const forged = await api.http.as(`${alice.jwt}x`).get('/api/profile');
    expectProblem(forged, { status: 401 });
    expectNoStore(forged, 401);
  });

  it('covers every operation the document lists as needing a token, and only those', async () => {
    const doc = (await api.http.get('/docs/json')).body as {
      paths: Record<string, Record<string, { security?: unknown }>>;
    };
    const seen: Record<string, string | null> = {};
    const wanted: Record<string, unknown> = {};
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const key = `${method.toUpperCase()} ${path}`;
        // A fresh id: a protected route answers 404 for it, which must be no-store too.
        const url = path.replace(/\{[^}]+\}/g, randomUUID());
        const reply = await asAlice.request(
          method.toUpperCase(),
          url,
          method === 'post' || method === 'patch' ? { json: {} } : {},
        );
        seen[key] = reply.headers.get('cache-control');
        wanted[key] =
          JSON.stringify(operation.security) === '[]'
            ? expect.not.stringMatching(/no-store/)
            : 'no-store';
      }
    }
    expect(Object.keys(seen)).toEqual(
      expect.arrayContaining(['GET /api/health', 'GET /api/todos']),
    );
    expect(seen).toEqual(wanted);
  });
});
