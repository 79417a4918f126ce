import { createTodoApiClient, fieldErrors, type TodoApiClientOptions } from '@todo-api/client';
import { createAuthClient } from 'better-auth/client';
import { jwtClient } from 'better-auth/client/plugins';
import { randomUUID } from 'node:crypto';
import { BetterAuthIssuer } from './support/better-auth-issuer';
import { DatabaseLink } from './support/database-link';
import { startTestApp, TestApp } from './support/test-app';

/**
 * Better Auth's own browser client (with the jwtClient plugin) run in Node: a cookie jar stands in
 * for the browser's, and every call carries the Origin a browser would send.
 */
function betterAuthClient(issuerUrl: string) {
  const cookies = new Map<string, string>();
  const customFetchImpl = async (input: string | URL | Request, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    headers.set('origin', issuerUrl);
    if (cookies.size > 0) {
      headers.set('cookie', [...cookies].map(([name, value]) => `${name}=${value}`).join('; '));
    }
    const response = await fetch(input, { ...init, headers });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair.indexOf('=');
      cookies.set(pair.slice(0, at), pair.slice(at + 1));
    }
    return response;
  };
  return createAuthClient({
    baseURL: issuerUrl,
    plugins: [jwtClient()],
    fetchOptions: { customFetchImpl },
  });
}

/** Signs a new user up through Better Auth's client; returns its id and a counting getToken. */
async function signUp(issuer: BetterAuthIssuer) {
  const auth = betterAuthClient(issuer.url);
  const email = `client-${randomUUID()}@example.com`;
  const { data, error } = await auth.signUp.email({
    email,
    password: `pw-${randomUUID()}`,
    name: 'Client User',
  });
  if (error || !data) throw new Error(`sign-up failed: ${JSON.stringify(error)}`);
  const calls = { count: 0 };
  const getToken = async () => {
    calls.count++;
    return (await auth.token()).data?.token;
  };
  return { userId: data.user.id, getToken, calls };
}

/** A fetch that records the status of every answer, retries included. */
function recordingFetch() {
  const statuses: number[] = [];
  const fetchAndRecord = async (request: Request) => {
    const response = await fetch(request);
    statuses.push(response.status);
    return response;
  };
  return { statuses, fetch: fetchAndRecord };
}

function client(api: TestApp, options: Omit<TodoApiClientOptions, 'baseUrl'>) {
  return createTodoApiClient({ baseUrl: api.url, ...options });
}

describe('The TypeScript client against the API and a real Better Auth', () => {
  let issuer: BetterAuthIssuer;
  let api: TestApp;

  beforeAll(async () => {
    issuer = await BetterAuthIssuer.start();
    api = await startTestApp({ BETTER_AUTH_URL: issuer.url });
  });

  afterAll(async () => {
    await api?.close();
    await issuer?.close();
  });

  it('manages todos with typed calls, one token for all of them', async () => {
    const user = await signUp(issuer);
    const todos = client(api, { getToken: user.getToken });

    const profile = await todos.GET('/api/profile');
    expect(profile.data?.id).toBe(user.userId);

    const created = await todos.POST('/api/todos', { body: { title: '  Buy milk ' } });
    expect(created.response.status).toBe(201);
    const todo = created.data!;
    expect(todo).toMatchObject({ title: 'Buy milk', description: null, completed: false });

    const page = await todos.GET('/api/todos', { params: { query: { limit: 10 } } });
    expect(page.data?.todos.map((t) => t.id)).toEqual([todo.id]);
    expect(page.data?.nextCursor).toBeNull();

    const etag = created.response.headers.get('etag')!;
    const done = await todos.PATCH('/api/todos/{id}', {
      params: { path: { id: todo.id }, header: { 'If-Match': etag } },
      body: { completed: true },
    });
    expect(done.data).toMatchObject({ id: todo.id, completed: true });

    const stale = await todos.PATCH('/api/todos/{id}', {
      params: { path: { id: todo.id }, header: { 'If-Match': etag } },
      body: { title: 'Buy oat milk' },
    });
    expect(stale.response.status).toBe(412);
    expect(stale.error).toMatchObject({ status: 412, title: 'Precondition Failed' });

    const removed = await todos.DELETE('/api/todos/{id}', { params: { path: { id: todo.id } } });
    expect(removed.response.status).toBe(204);
    const gone = await todos.GET('/api/todos/{id}', { params: { path: { id: todo.id } } });
    expect(gone.error).toMatchObject({ status: 404, detail: 'Todo not found.' });

    expect(user.calls.count).toBe(1);
  });

  it('returns validation problems typed, with their field errors', async () => {
    const user = await signUp(issuer);
    const todos = client(api, { getToken: user.getToken });

    const { data, error, response } = await todos.POST('/api/todos', {
      body: { title: '   ', description: 'x'.repeat(2001) },
    });
    expect(data).toBeUndefined();
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(fieldErrors(error)).toEqual({
      title: ['title must be between 1 and 200 characters long'],
      description: ['description must be at most 2000 characters long'],
    });
    const listed = await todos.GET('/api/todos');
    expect(listed.data?.todos).toEqual([]);
  });

  describe('an expired token', () => {
    /** A client whose clock is an hour slow: it cannot tell the token is stale, the API can. */
    const slowClock = () => Date.now() - 3_600_000;

    async function expiredTokenFor(userId: string): Promise<string> {
      const now = Math.floor(Date.now() / 1000);
      return issuer.signRaw({}, issuer.claimsFor(userId, { iat: now - 1200, exp: now - 600 }));
    }

    it('is replaced once: the client fetches a new token and resends the request', async () => {
      const user = await signUp(issuer);
      const expired = await expiredTokenFor(user.userId);
      const tokens = [expired];
      let fetched = 0;
      const recorder = recordingFetch();
      const unauthenticated = jest.fn();
      const todos = client(api, {
        getToken: async () => (fetched++ === 0 ? tokens[0] : user.getToken()),
        now: slowClock,
        fetch: recorder.fetch,
        onUnauthenticated: unauthenticated,
      });

      const created = await todos.POST('/api/todos', { body: { title: 'after a refresh' } });

      expect(recorder.statuses).toEqual([401, 201]);
      expect(created.data).toMatchObject({ title: 'after a refresh' });
      expect(fetched).toBe(2);
      expect(unauthenticated).not.toHaveBeenCalled();
      // The body was resent intact, and only once: one todo exists.
      const listed = await todos.GET('/api/todos');
      expect(listed.data?.todos.map((t) => t.title)).toEqual(['after a refresh']);
      expect(fetched).toBe(2);
    });

    it('is replaced only once: a second 401 is returned and reported as signed out', async () => {
      const user = await signUp(issuer);
      let fetched = 0;
      const recorder = recordingFetch();
      const unauthenticated = jest.fn();
      const todos = client(api, {
        getToken: async () => {
          fetched++;
          return expiredTokenFor(user.userId);
        },
        now: slowClock,
        fetch: recorder.fetch,
        onUnauthenticated: unauthenticated,
      });

      const { data, error, response } = await todos.GET('/api/profile');

      expect(data).toBeUndefined();
      expect(recorder.statuses).toEqual([401, 401]);
      expect(fetched).toBe(2);
      expect(response.headers.get('www-authenticate')).toBe(
        'Bearer realm="api", error="invalid_token", error_description="token expired"',
      );
      expect(error).toMatchObject({
        status: 401,
        detail: 'The bearer token was rejected: token expired.',
      });
      expect(unauthenticated).toHaveBeenCalledTimes(1);
    });

    it('is not refreshed for other 401s (a bad signature is not fixed by a new token)', async () => {
      const user = await signUp(issuer);
      const token = await user.getToken();
      const [header, payload, signature] = token!.split('.');
      const tampered = `${header}.${payload}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
      let fetched = 0;
      const recorder = recordingFetch();
      const todos = client(api, {
        getToken: () => {
          fetched++;
          return Promise.resolve(tampered);
        },
        fetch: recorder.fetch,
      });

      const { error } = await todos.GET('/api/profile');

      expect(error?.status).toBe(401);
      expect(recorder.statuses).toEqual([401]);
      expect(fetched).toBe(1);
    });
  });
});

describe('The TypeScript client while the database is down', () => {
  let issuer: BetterAuthIssuer;
  let link: DatabaseLink;
  let api: TestApp;

  beforeAll(async () => {
    link = await DatabaseLink.toTestDatabase();
    issuer = await BetterAuthIssuer.start();
    api = await startTestApp({ BETTER_AUTH_URL: issuer.url, DATABASE_URL: link.url });
  });

  afterAll(async () => {
    await api?.close();
    await issuer?.close();
    await link?.down();
  });

  it('waits out a 503 (Retry-After) and retries until the API is back', async () => {
    const user = await signUp(issuer);
    const recorder = recordingFetch();
    const retries: Array<{ attempt: number; delayMs: number }> = [];
    const unauthenticated = jest.fn();
    const todos = client(api, {
      getToken: user.getToken,
      fetch: recorder.fetch,
      maxUnavailableRetries: 5,
      onUnauthenticated: unauthenticated,
      onRetry: ({ attempt, delayMs }) => {
        retries.push({ attempt, delayMs });
        if (attempt === 1) void link.up();
      },
    });
    expect((await todos.GET('/api/profile')).data?.id).toBe(user.userId);
    await link.down();

    const created = await todos.POST('/api/todos', { body: { title: 'written after the outage' } });

    expect(recorder.statuses[1]).toBe(503);
    expect(recorder.statuses.at(-1)).toBe(201);
    expect(created.data).toMatchObject({ title: 'written after the outage' });
    // Retry-After: 5 from the API, honoured as 5 s.
    expect(retries[0]).toEqual({ attempt: 1, delayMs: 5000 });
    expect(user.calls.count).toBe(1);
    expect(unauthenticated).not.toHaveBeenCalled();
  });

  it('returns the 503 after a bounded number of retries and keeps the user signed in', async () => {
    const user = await signUp(issuer);
    const recorder = recordingFetch();
    const unauthenticated = jest.fn();
    const todos = client(api, {
      getToken: user.getToken,
      fetch: recorder.fetch,
      maxUnavailableRetries: 2,
      maxRetryDelayMs: 50,
      onUnauthenticated: unauthenticated,
    });
    expect((await todos.GET('/api/profile')).data?.id).toBe(user.userId);
    await link.down();

    const { data, error, response } = await todos.GET('/api/todos');

    expect(data).toBeUndefined();
    expect(recorder.statuses).toEqual([200, 503, 503, 503]);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(error).toMatchObject({
      status: 503,
      detail: 'The database is unavailable; retry shortly.',
    });
    expect(user.calls.count).toBe(1);
    expect(unauthenticated).not.toHaveBeenCalled();
    await link.up();
  });
});
