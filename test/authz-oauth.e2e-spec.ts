import { OAuthClient, OAuthIssuer, OAuthUser } from './support/oauth-issuer';
import { expectProblem } from './support/problem';
import { startTestApp, TestApp } from './support/test-app';

const RESOURCE = 'https://api.example.test';
const OTHER_RESOURCE = 'https://other.example.test';

/**
 * OAuth access tokens from the real `@better-auth/oauth-provider`, obtained through the
 * authorization-code flow with PKCE over HTTP, against the app started with OAUTH_RESOURCE set.
 * Two clients hold different scopes; each token is used on every kind of route.
 */
describe('OAuth access tokens from Better Auth’s OAuth provider', () => {
  let issuer: OAuthIssuer;
  let api: TestApp;
  let user: OAuthUser;
  let reader: OAuthClient;
  let writer: OAuthClient;
  let readToken: string;
  let writeToken: string;

  beforeAll(async () => {
    issuer = await OAuthIssuer.start([RESOURCE, OTHER_RESOURCE]);
    api = await startTestApp({
      BETTER_AUTH_URL: issuer.url,
      OAUTH_RESOURCE: RESOURCE,
      OAUTH_ISSUER: issuer.issuer,
    });
    user = await issuer.createUser();
    reader = await issuer.registerClient(user, 'todos:read');
    writer = await issuer.registerClient(user, 'openid todos:read todos:write');
    readToken = await issuer.accessToken(user, reader, 'todos:read', RESOURCE);
    writeToken = await issuer.accessToken(user, writer, 'openid todos:read todos:write', RESOURCE);
  });

  afterAll(async () => {
    await api?.close();
    await issuer?.close();
  });

  it('issues access tokens (typ at+jwt) with the scope granted to each client', () => {
    for (const [token, scope] of [
      [readToken, 'todos:read'],
      [writeToken, 'openid todos:read todos:write'],
    ]) {
      const [header, payload] = token
        .split('.')
        .slice(0, 2)
        .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()) as object);
      expect(header).toMatchObject({ typ: 'at+jwt' });
      expect(payload).toMatchObject({ sub: user.id, iss: issuer.issuer, scope });
      // `aud` is the resource, or with openid an array that also names the userinfo endpoint.
      expect([(payload as { aud: unknown }).aud].flat()).toContain(RESOURCE);
    }
  });

  it('lets todos:write create and todos:read read the same user’s todos', async () => {
    const created = await api.http.as(writeToken).post('/api/todos', { title: 'by a client' });
    expect(created.status).toBe(201);
    const id = (created.body as { id: string }).id;

    const list = await api.http.as(readToken).get('/api/todos');
    expect(list.status).toBe(200);
    expect(list.body).toEqual({
      todos: [expect.objectContaining({ id, title: 'by a client' })],
      nextCursor: null,
    });
    expect((await api.http.as(readToken).get(`/api/todos/${id}`)).status).toBe(200);
    expect((await api.http.as(writeToken).get('/api/todos')).status).toBe(200);
  });

  it('refuses every write without todos:write (403 insufficient_scope) and nothing changes', async () => {
    const before = await api.http.as(writeToken).get('/api/todos');
    const [first] = (before.body as { todos: { id: string }[] }).todos;
    const reader = api.http.as(readToken);
    const attempts = [
      () => reader.post('/api/todos', { title: 'read-only client' }),
      () => reader.patch(`/api/todos/${first.id}`, { title: 'changed' }),
      () => reader.delete(`/api/todos/${first.id}`),
    ];
    for (const attempt of attempts) {
      const reply = await attempt();
      expectProblem(reply, {
        status: 403,
        wwwAuthenticate: 'Bearer realm="api", error="insufficient_scope", scope="todos:write"',
      });
    }
    expect((await api.http.as(writeToken).get('/api/todos')).body).toEqual(before.body);
  });

  it('gives the profile to a token with openid, not to one with todos scopes only', async () => {
    const profile = await api.http.as(writeToken).get('/api/profile');
    expect(profile.status).toBe(200);
    expect(profile.body).toMatchObject({ id: user.id });

    const refused = await api.http.as(readToken).get('/api/profile');
    expectProblem(refused, {
      status: 403,
      wwwAuthenticate: 'Bearer realm="api", error="insufficient_scope", scope="profile openid"',
    });
  });

  it('keeps the admin and organization routes closed to access tokens (403)', async () => {
    for (const token of [readToken, writeToken]) {
      for (const path of ['/api/admin/stats', '/api/organization']) {
        const reply = await api.http.as(token).get(path);
        expect(reply.status).toBe(403);
        expect(reply.headers.get('content-type')).toContain('application/problem+json');
      }
    }
  });

  it('still treats the session JWT of the same Better Auth as a session JWT', async () => {
    const session = api.http.as(await issuer.sessionJwt(user));
    expect((await session.get('/api/profile')).status).toBe(200);
    const created = await session.post('/api/todos', { title: 'from the frontend' });
    expect(created.status).toBe(201);
    expect((await session.delete(`/api/todos/${(created.body as { id: string }).id}`)).status).toBe(
      204,
    );
  });

  it('refuses an access token issued for another resource (401) and nothing is created', async () => {
    const elsewhere = await issuer.accessToken(
      user,
      writer,
      'openid todos:read todos:write',
      OTHER_RESOURCE,
    );
    const before = await api.http.as(readToken).get('/api/todos');
    for (const reply of [
      await api.http.as(elsewhere).get('/api/todos'),
      await api.http.as(elsewhere).post('/api/todos', { title: 'for another API' }),
    ]) {
      expectProblem(reply, {
        status: 401,
        wwwAuthenticate:
          'Bearer realm="api", error="invalid_token", error_description="wrong audience"',
      });
    }
    expect((await api.http.as(readToken).get('/api/todos')).body).toEqual(before.body);
  });

  it('refuses the opaque access token issued without resource, saying to request it with resource', async () => {
    const opaque = await issuer.accessToken(user, reader, 'todos:read');
    expect(opaque.split('.')).toHaveLength(1);
    const reply = await api.http.as(opaque).get('/api/todos');
    expectProblem(reply, {
      status: 401,
      wwwAuthenticate:
        'Bearer realm="api", error="invalid_token", error_description="not a JWT; send the JWT from GET /api/auth/token, or request the OAuth access token with resource"',
    });
    expect((reply.body as { detail: string }).detail).toContain(`resource=${RESOURCE}`);
  });

  it('publishes the protected-resource metadata', async () => {
    const reply = await api.http.get('/.well-known/oauth-protected-resource');
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      resource: RESOURCE,
      authorization_servers: [issuer.issuer],
      scopes_supported: expect.arrayContaining([
        'todos:read',
        'todos:write',
        'openid',
        'profile',
      ]) as unknown,
      bearer_methods_supported: ['header'],
    });
  });
});
