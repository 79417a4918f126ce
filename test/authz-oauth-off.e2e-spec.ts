import { BetterAuthIssuer } from './support/better-auth-issuer';
import { expectProblem } from './support/problem';
import { startTestApp, TestApp } from './support/test-app';

/**
 * With OAUTH_RESOURCE unset (the default) OAuth access tokens are off: an `at+jwt` signed by the
 * very keys the API trusts is refused, and there is no protected-resource metadata.
 */
describe('OAuth access tokens with OAUTH_RESOURCE unset', () => {
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

  it('refuses an at+jwt signed by the trusted key, whatever its claims, and nothing changes', async () => {
    const user = await issuer.createUser();
    const claims = issuer.claimsFor(user.id, { azp: 'client-a', scope: 'todos:read todos:write' });
    for (const typ of ['at+jwt', 'AT+JWT', 'application/at+jwt']) {
      const token = await issuer.signRaw({ typ }, claims);
      expectProblem(await api.http.as(token).post('/api/todos', { title: 'by a client' }), {
        status: 401,
        wwwAuthenticate:
          'Bearer realm="api", error="invalid_token", error_description="OAuth access tokens are not accepted by this API"',
      });
    }
    const list = await api.http.as(user.jwt).get('/api/todos');
    expect(list.body).toEqual({ todos: [], nextCursor: null });
  });

  it('still points an opaque bearer value to the session JWT only', async () => {
    const user = await issuer.createUser();
    expectProblem(await api.http.as(user.sessionToken).get('/api/todos'), {
      status: 401,
      wwwAuthenticate:
        'Bearer realm="api", error="invalid_token", error_description="not a JWT; send the JWT from GET /api/auth/token"',
    });
  });

  it('answers 404 for the protected-resource metadata', async () => {
    expectProblem(await api.http.get('/.well-known/oauth-protected-resource'), {
      status: 404,
      detail: 'Cannot GET /.well-known/oauth-protected-resource',
    });
  });
});
